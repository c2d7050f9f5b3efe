"""The names keras_vit builders give their layers, and finding layers by them.

Layer names are part of the weights contract (a weight's path starts with its
layer's name) and what `inspect`, `export` and the loaders look layers up by,
so each is spelled once, here.
"""

import keras

PREPROCESSING = "preprocessing"
IMAGE_SIZE_CHECK = "image_size_check"
ROOT_CONV = "conv_root"
PATCH_EMBEDDING = "embedding"
PATCH_TOKENS = "patch_tokens"
CLASS_TOKEN = "cls"
DISTILLATION_TOKEN = "dist"
REGISTERS = "registers"
PRE_NORM = "pre_norm"
POSITION_EMBEDDING = "pos_embedding"
SHARED_POSITION_EMBEDDING = "pos_embedding_shared"
ENCODER_NORM = "encoder_norm"
POOLING = "pooling"
PRE_LOGITS = "pre_logits"
PROJECTION = "projection"
HEAD = "head"
# DeiT's second pooling and head, on the distillation token.
DISTILLATION_POOLING = "pooling_dist"
DISTILLATION_HEAD = "head_dist"


def block(index):
    """The name of Transformer block `index` (from 0)."""
    return f"encoderblock_{index}"


def position_embedding(index):
    """The name of the position embedding added before block `index` (from 0),
    with `position_embedding_placement="every_layer"`."""
    return f"pos_embedding_{index}"


def find_layer(model, name):
    """Returns the layer called `name` in `model` or in a model nested in it, or None."""
    for layer in model.layers:
        if layer.name == name:
            return layer
        if isinstance(layer, keras.Model):
            found = find_layer(layer, name)
            if found is not None:
                return found
    return None


def blocks(model):
    """The Transformer blocks of a keras_vit model, in order; raises if it has none."""
    found = []
    while (layer := find_layer(model, block(len(found)))) is not None:
        found.append(layer)
    if not found:
        raise ValueError(
            f"`model` has no layer named {block(0)!r}: pass a model built by "
            f"keras_vit. Received: model.name={model.name!r}"
        )
    return found
