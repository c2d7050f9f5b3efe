"""transformers checkpoints of the ViT family, in either naming.

A transformers folder (`config.json`, and `model.safetensors` or its shards
with `model.safetensors.index.json`) of `model_type` `vit`, `deit`, `dinov2`,
`dinov2_with_registers`, `siglip_vision_model` or `clip_vision_model`, or the
image tower of a full `siglip` or `clip` checkpoint. Checkpoints on the Hub
name parameters as transformers 4 did
(`vit.encoder.layer.0.attention.attention.query.weight`); transformers 5
names some of them `vit.layers.0.attention.q_proj.weight`. Both map to the
same keras weight paths; the family's parts (distillation token, registers,
LayerScale, CLIP's LayerNorm before the encoder and projection, SigLIP's
attention-pooling head) map to the layers `keras_vit.ViT` builds for them.
"""

import json
import os
import re

import numpy as np

from keras_vit.weights.architecture import heads_for, infer_architecture
from keras_vit.weights.checkpoint import Checkpoint
from keras_vit.weights.formats import hf_config
from keras_vit.weights.formats.text_tower import is_text_tower
from keras_vit.weights.formats.state_dict import read_state_dict
from keras_vit.weights.formats.unmapped_keys import check_unused

_LAYER = r"^(?:encoder\.layers?|layers)\.(\d+)\."
_BLOCK_PATTERNS = [
    (r"(?:attention\.attention\.query|attention\.q_proj|self_attn\.q_proj)", "attn/query"),
    (r"(?:attention\.attention\.key|attention\.k_proj|self_attn\.k_proj)", "attn/key"),
    (r"(?:attention\.attention\.value|attention\.v_proj|self_attn\.v_proj)", "attn/value"),
    (r"(?:attention\.output\.dense|attention\.o_proj|self_attn\.out_proj)", "attn/out"),
    (r"(?:layernorm_before|norm1|layer_norm1)", "norm1"),
    (r"(?:layernorm_after|norm2|layer_norm2)", "norm2"),
    (r"(?:intermediate\.dense|mlp\.fc1|mlp\.weights_in)", "mlp_fc1"),
    (r"(?:output\.dense|mlp\.fc2|mlp\.weights_out)", "mlp_fc2"),
]
_BLOCK_PATTERNS = [(re.compile(_LAYER + p + r"\.(weight|bias)$"), name) for p, name in _BLOCK_PATTERNS]
_LAYER_SCALE = re.compile(_LAYER + r"layer_scale([12])\.lambda1$")
# The image model's own prefixes: a classification model's backbone, a full
# CLIP or SigLIP checkpoint's image tower.
_PREFIX = re.compile(r"^(?:vit|deit|dinov2|vision_model)\.")
_NORM = {"weight": "gamma", "bias": "beta"}
_LINEAR = {"weight": "kernel", "bias": "bias"}
_PATCH_KERNELS = ("embeddings.patch_embeddings.projection.weight", "embeddings.patch_embedding.weight")
_TOP = {
    "embeddings.patch_embeddings.projection.bias": "embedding/bias",
    "embeddings.patch_embedding.bias": "embedding/bias",
    "embeddings.distillation_token": "dist/token",
    "embeddings.register_tokens": "registers/tokens",
    "embeddings.position_embeddings": "pos_embedding/embedding",
    "layernorm.weight": "encoder_norm/gamma",
    "layernorm.bias": "encoder_norm/beta",
    "post_layernorm.weight": "encoder_norm/gamma",
    "post_layernorm.bias": "encoder_norm/beta",
    "pre_layrnorm.weight": "pre_norm/gamma",
    "pre_layrnorm.bias": "pre_norm/beta",
    "pooler.dense.bias": "pre_logits/bias",
    "classifier.bias": "head/bias",
    "cls_classifier.bias": "head/bias",
    "distillation_classifier.bias": "head_dist/bias",
    "head.probe": "pooling/probe",
    "head.attention.out_proj.bias": "pooling/out/bias",
    "head.layernorm.weight": "pooling/norm/gamma",
    "head.layernorm.bias": "pooling/norm/beta",
    "head.mlp.fc1.bias": "pooling/mlp_fc1/bias",
    "head.mlp.fc2.bias": "pooling/mlp_fc2/bias",
}
_TRANSPOSED = {
    "pooler.dense.weight": "pre_logits/kernel",
    "classifier.weight": "head/kernel",
    "cls_classifier.weight": "head/kernel",
    "distillation_classifier.weight": "head_dist/kernel",
    "visual_projection.weight": "projection/kernel",
    "head.mlp.fc1.weight": "pooling/mlp_fc1/kernel",
    "head.mlp.fc2.weight": "pooling/mlp_fc2/kernel",
}
# Classification heads that keras_vit does not build, by model type.
_OTHER_HEADS = {
    "dinov2": "Dinov2ForImageClassification's linear head on the class token and the mean patch token",
    "siglip": "SiglipForImageClassification's linear head on the mean token",
    "clip": "CLIPForImageClassification's linear head on the mean patch token",
    "deit": "DeiTForImageClassification's head on the class token alone (the distilled checkpoints "
    "are DeiTForImageClassificationWithTeacher, with cls_classifier and distillation_classifier)",
}


def is_hf(arrays):
    return any(_PREFIX.sub("", key) in _PATCH_KERNELS for key in arrays)


def read_folder(path, num_heads=None):
    """Reads a transformers model folder into a `Checkpoint`: `config.json`
    gives the model type, heads, resolution, activation and LayerNorm
    epsilon, `preprocessor_config.json` (or the family's default) the pixel
    mean and std, and the weights are checked against the config."""
    config_path = os.path.join(path, "config.json")
    if not os.path.exists(config_path):
        raise ValueError(
            f"{path} is a folder but has no config.json: a transformers model folder holds "
            "config.json and model.safetensors (or its shards and model.safetensors.index.json)."
        )
    config = hf_config.read(config_path)
    state, unread = read_weights(path)
    checkpoint = read(state, path, num_heads or config["num_heads"], config=config, unread=unread)
    hf_config.check_against(config, checkpoint.architecture, path)
    checkpoint.architecture.update(hf_config.implied(config, path))
    return checkpoint


def read_weights(path):
    """`{key: float32 array}` of a transformers folder: `model.safetensors`, or
    the shards `model.safetensors.index.json` names; a shard that holds only
    text-tower arrays is not read (nor needed: a hub download leaves it out).

    Returns:
        `(state, unread)`: the arrays, and the text-tower keys of unread shards.
    """
    single = os.path.join(path, "model.safetensors")
    index = os.path.join(path, "model.safetensors.index.json")
    if os.path.exists(single):
        return read_state_dict(single), ()
    if not os.path.exists(index):
        raise ValueError(
            f"{path} has config.json but no model.safetensors or model.safetensors.index.json: "
            "keras_vit reads transformers weights as safetensors."
        )
    with open(index, encoding="utf-8") as file:
        try:
            weight_map = json.load(file)["weight_map"]
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise ValueError(f"{index} is not a readable shard index ({error!r}).") from None
    shards = {shard for key, shard in weight_map.items() if not is_text_tower(key)}
    state = {}
    for shard in sorted(shards):
        shard_path = os.path.join(path, shard)
        if not os.path.exists(shard_path):
            raise ValueError(f"{index} names the shard {shard}, which {path} does not hold.")
        state.update(read_state_dict(shard_path))
    missing = sorted(key for key, shard in weight_map.items() if shard in shards and key not in state)
    if missing:
        raise ValueError(f"{index} lists {len(missing)} arrays its shards do not hold, such as {missing[0]}.")
    return state, tuple(key for key, shard in weight_map.items() if shard not in shards)


def read(state, path, num_heads=None, config=None, unread=()):
    """Reads transformers ViT-family weights into a `Checkpoint`: keras-path
    arrays, the architecture they imply, and the harmless keys that map to no
    weight (any other such key is refused). Heads: `num_heads` (a folder's
    `config.json` gives them), else the variant table's for the paper's
    sizes; otherwise the file is refused with a request for `num_heads`.
    `config` is the folder's config as `hf_config.read` returns it; `unread`
    the text-tower keys of shards not read, for the report."""
    image, text, original = {}, list(unread), {}
    for key, value in state.items():
        if is_text_tower(key):
            text.append(key)
        else:
            image[_PREFIX.sub("", key)] = value
            original[_PREFIX.sub("", key)] = key
    kernel = next((image[k] for k in _PATCH_KERNELS if k in image), None)
    if kernel is None:
        raise ValueError(f"{path} has no '{_PATCH_KERNELS[0]}': not the weights of a transformers ViT.")
    width = kernel.shape[0]
    depth = len({match.group(1) for key in image for pattern, _ in _BLOCK_PATTERNS if (match := pattern.match(key))})
    model_type = (config or {}).get("model_type", "vit")
    _refuse_other_heads(image, model_type, path)
    arrays, unused = convert(image, num_heads or heads_for(width, depth, path))
    unused = tuple(sorted(original[key] for key in unused))
    if config is None:
        _refuse_bare_family(arrays, path)
    activation = (config or {}).get("activation", "gelu")
    architecture = infer_architecture(arrays, path, activation=activation)
    notes = ()
    if text:
        notes = (f"skipped the text tower: {len(text)} arrays ({_text_summary(text)})",)
    return Checkpoint(arrays, architecture, path, "hf", check_unused(unused, path), notes)


# The family's parts, as converted weight paths: a bare file holding one leaves
# the activation and LayerNorm epsilon to a config.json it does not have.
_FAMILY_PARTS = {
    "dist/token": "a distillation token (DeiT)",
    "registers/tokens": "register tokens (DINOv2)",
    "encoderblock_0/ls1/gamma": "LayerScale (DINOv2)",
    "pre_norm/gamma": "a LayerNorm before the encoder (CLIP)",
    "pooling/probe": "attention pooling (SigLIP)",
    "projection/kernel": "a projection (CLIP)",
}


def _refuse_bare_family(arrays, path):
    parts = [part for key, part in _FAMILY_PARTS.items() if key in arrays]
    if parts:
        raise ValueError(
            f"{path} holds {', '.join(parts)}: the weights of a transformers DeiT, DINOv2, SigLIP or CLIP "
            "model, whose activation and LayerNorm epsilon only its config.json says. Load the model's "
            "folder (config.json beside model.safetensors)."
        )


def _text_summary(keys):
    heads = sorted({key.split(".")[0] for key in keys})
    return ", ".join(f"{head}.*" if any(k.startswith(head + ".") for k in keys) else head for head in heads)


def _refuse_other_heads(image, model_type, path):
    family = "dinov2" if model_type.startswith("dinov2") else model_type.replace("_vision_model", "")
    if family in ("vit",) or "classifier.weight" not in image:
        return
    raise ValueError(
        f"{path} ends in {_OTHER_HEADS.get(family, 'a classification head keras_vit does not build')} "
        "('classifier.weight'), which keras_vit does not build. The backbone without it is another "
        "checkpoint of the same model (its model type's base model)."
    )


def convert(arrays, num_heads):
    """Maps transformers ViT-family weights (NumPy arrays, image-tower keys
    without their model prefix) to `{keras weight path: array}` and the
    sorted keys it has no place for."""
    result, unused = {}, []
    for key, value in arrays.items():
        converted = _top_level(key, value, num_heads) or _block(key, value, num_heads)
        if converted:
            result.update(converted)
        else:
            unused.append(key)
    return result, tuple(sorted(unused))


def _top_level(key, value, num_heads):
    if key in _PATCH_KERNELS:
        return {"embedding/kernel": value.transpose(2, 3, 1, 0)}
    if key == "embeddings.cls_token":
        return {"cls/token": value}
    if key == "embeddings.class_embedding":  # CLIP's, a bare vector
        return {"cls/token": value.reshape(1, 1, -1)}
    if key == "embeddings.position_embedding.weight":  # CLIP's and SigLIP's nn.Embedding
        return {"pos_embedding/embedding": value[None]}
    if key in _TOP:
        return {_TOP[key]: value}
    if key in _TRANSPOSED:
        return {_TRANSPOSED[key]: value.T}
    if key.startswith("head.attention."):
        return _pooling_attention(key[len("head.attention.") :], value, num_heads)
    return None


def _pooling_attention(name, value, num_heads):
    """SigLIP's `nn.MultiheadAttention`: the query, key and value stacked in one
    `in_proj`, then `out_proj`."""
    if name in ("in_proj_weight", "in_proj_bias"):
        converted = {}
        for part, array in zip(("query", "key", "value"), np.split(value, 3, axis=0)):
            if name == "in_proj_weight":
                converted[f"pooling/{part}/kernel"] = array.T.reshape(array.shape[1], num_heads, -1)
            else:
                converted[f"pooling/{part}/bias"] = array.reshape(num_heads, -1)
        return converted
    if name == "out_proj.weight":
        return {"pooling/out/kernel": value.T.reshape(num_heads, -1, value.shape[0])}
    return None


def _block(key, value, num_heads):
    if match := _LAYER_SCALE.match(key):
        return {f"encoderblock_{int(match.group(1))}/ls{match.group(2)}/gamma": value}
    for pattern, name in _BLOCK_PATTERNS:
        if match := pattern.match(key):
            return _block_weight(f"encoderblock_{int(match.group(1))}/{name}", match.group(2), value, num_heads)
    return None


def _block_weight(prefix, kind, value, num_heads):
    if prefix.endswith(("norm1", "norm2")):
        return {f"{prefix}/{_NORM[kind]}": value}
    if not prefix.endswith(("query", "key", "value", "out")):
        return {f"{prefix}/{_LINEAR[kind]}": value.T if kind == "weight" else value}
    if prefix.endswith("out"):
        if kind == "bias":
            return {f"{prefix}/bias": value}
        return {f"{prefix}/kernel": value.T.reshape(num_heads, -1, value.shape[0])}
    if kind == "bias":
        return {f"{prefix}/bias": value.reshape(num_heads, -1)}
    return {f"{prefix}/kernel": value.T.reshape(value.shape[1], num_heads, -1)}
