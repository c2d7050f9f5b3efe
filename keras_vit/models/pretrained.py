"""`weights=` of every builder: what it names, and which builder arguments it implies.

One resolution path for `keras_vit.ViT`, `keras_vit.ViTHybrid`, every named
builder and `from_checkpoint`: a registry name or a checkpoint path becomes the
source to load, and the arguments the caller left out (resolution, classes,
pre-logits, and a checkpoint's GELU and LayerNorm epsilon) follow the weights.
"""

import os

from keras_vit import variants
from keras_vit.models.config import ViTConfig
from keras_vit.weights import registry
from keras_vit.weights.architecture import stem_mismatch
from keras_vit.weights.checkpoint import Checkpoint
from keras_vit.weights.reader import CHECKPOINT_SUFFIXES, KERAS_SUFFIXES, read_checkpoint

# Builder arguments that follow the weights when the caller leaves them at None,
# and their values without weights.
FOLLOW_WEIGHTS = {
    "image_size": 224,
    "num_classes": 1000,
    "representation_size": None,
    "approximate_gelu": True,
    "layer_norm_epsilon": 1e-6,
}
# What a checkpoint file's arrays or a registry entry say about the model.
IMPLIED_BY_CHECKPOINTS = tuple(FOLLOW_WEIGHTS)
IMPLIED_BY_REGISTRY = ("image_size", "num_classes", "representation_size")


def config_for(weights, arguments):
    """Resolves a builder's `weights=` once: the `ViTConfig` to build and the source to load.

    Args:
        weights: what the builder's `weights=` got (see `resolve_weights`), or None.
        arguments: dict. Every `ViTConfig` field the builder received; those of
            `FOLLOW_WEIGHTS` at None follow the weights, or take their value
            in `FOLLOW_WEIGHTS` without weights.

    Returns:
        `(config, source)`: the validated `ViTConfig`, and the source for
        `keras_vit.weights.load_weights` (None without weights).
    """
    given = {key: value for key, value in arguments.items() if key not in FOLLOW_WEIGHTS or value is not None}
    source, implied = None, {}
    if weights is not None:
        size = {field: given[field] for field in variants.size_fields(given.get("resnet_layers"))}
        if size.get("resnet_layers") is not None:
            size["resnet_layers"] = tuple(size["resnet_layers"])
        source, implied = resolve_weights(size, weights, given)
    defaults = {key: value for key, value in FOLLOW_WEIGHTS.items() if key not in given}
    return ViTConfig(**{**defaults, **implied, **given}), source


def resolve_weights(size, weights, passed):
    """Resolves `weights=` for a model of the given size.

    Args:
        size: dict. The size fields of the model to build (`patch_size`,
            `hidden_dim`, ... and for a hybrid `resnet_layers`, `resnet_width`).
        weights: a registry name, the path of a checkpoint or of a keras_vit
            `.weights.h5`/`.keras` file, a `registry.WeightsEntry` or a read
            `Checkpoint`.
        passed: dict. The builder arguments the caller gave; they win over
            what the weights imply.

    Returns:
        The source to load (a registry entry, a read `Checkpoint` or a path)
        and the builder arguments the weights imply that `passed` leaves open.
    """
    source = _source(size, weights)
    if isinstance(source, registry.WeightsEntry):
        implied = {key: getattr(source, key) for key in IMPLIED_BY_REGISTRY}
    elif isinstance(source, Checkpoint):
        _check_architecture(source, size)
        implied = {key: source.architecture[key] for key in IMPLIED_BY_CHECKPOINTS if key in source.architecture}
    else:
        implied = {}
    headless_file = isinstance(source, Checkpoint) and source.architecture.get("include_top") is False
    if passed.get("include_top") is False and not headless_file:
        # A model without a head keeps the checkpoint's pre-logits only if asked to;
        # a file without a head (a HF ViTModel) ends in them, so they follow it.
        implied.pop("representation_size", None)
    return source, {key: value for key, value in implied.items() if key not in passed}


def _source(size, weights):
    if isinstance(weights, (registry.WeightsEntry, Checkpoint)):
        return weights
    path = os.fspath(weights)
    if path.endswith(KERAS_SUFFIXES):
        return path
    if os.path.exists(path) or os.sep in path or path.endswith(CHECKPOINT_SUFFIXES):
        return read_checkpoint(path, num_heads=size["num_heads"])
    variant = variants.find(size)
    if variant is None:
        raise ValueError(
            f"weights={weights!r} names published weights, but no published variant has "
            f"this size ({', '.join(f'{f}={v}' for f, v in size.items())}); pass a checkpoint path."
        )
    return registry.get(variant, path)


def _check_architecture(checkpoint, size):
    if checkpoint.format == "bit":
        raise ValueError(
            f"{checkpoint.path} is a BiT ResNetV2 checkpoint, not a Vision Transformer one: "
            "keras_vit.ResNetV2 or keras_vit.from_checkpoint builds it."
        )
    message = stem_mismatch(checkpoint.architecture.get("resnet_layers"), size.get("resnet_layers"), checkpoint.path)
    if message:
        raise ValueError(message)
    mismatched = [field for field in size if checkpoint.architecture[field] != size[field]]
    if mismatched:
        found = ", ".join(f"{f}={checkpoint.architecture[f]}" for f in mismatched)
        wanted = ", ".join(f"{f}={size[f]}" for f in mismatched)
        raise ValueError(
            f"{checkpoint.path} is another architecture ({found}); this builder expects {wanted}. "
            "keras_vit.from_checkpoint builds whatever a file holds."
        )
