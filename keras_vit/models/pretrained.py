"""`weights=` of every builder: what it names, and which config fields it implies.

One path for `keras_vit.ViT`, `keras_vit.ViTHybrid`, every named builder and
`from_checkpoint`: the arguments become a `ViTConfig` first (`open_config`), then
`resolve_weights(config, weights)` turns a registry name or a checkpoint path
into the source to load and fills the fields the caller left open (resolution,
classes, pre-logits, and a checkpoint's GELU and LayerNorm epsilon).
"""

import os

from keras_vit import variants
from keras_vit.models.config import ViTConfig
from keras_vit.utils.kernels import adapt_channel_values
from keras_vit.weights import hub, registry
from keras_vit.weights.architecture import stem_mismatch
from keras_vit.weights.checkpoint import Checkpoint
from keras_vit.weights.reader import CHECKPOINT_SUFFIXES, KERAS_SUFFIXES, read_checkpoint

# The `ViTConfig` fields a builder leaves open when the caller passes None: they
# follow the weights, or keep `ViTConfig`'s default without weights.
FOLLOW_WEIGHTS = (
    "image_size",
    "num_classes",
    "representation_size",
    "activation",
    "layer_norm_epsilon",
    "resample_method",
    "pixel_mean",
    "pixel_std",
)
# What a checkpoint file's arrays or a registry entry say about the model.
IMPLIED_BY_CHECKPOINTS = FOLLOW_WEIGHTS
IMPLIED_BY_REGISTRY = ("image_size", "num_classes", "representation_size")


def open_config(arguments):
    """A builder's arguments as a validated `ViTConfig`, and the fields left open.

    Args:
        arguments: dict. `ViTConfig` fields as the builder received them; those
            of `FOLLOW_WEIGHTS` at None take `ViTConfig`'s default.

    Returns:
        `(config, open_fields)`: the config, and the `FOLLOW_WEIGHTS` fields the
        caller left at None, which the weights may set (`resolve_weights`).
    """
    open_fields = frozenset(key for key in FOLLOW_WEIGHTS if arguments.get(key) is None)
    return ViTConfig(**{k: v for k, v in arguments.items() if k not in open_fields}), open_fields


def resolve_weights(config, weights, open_fields=frozenset()):
    """Resolves `weights=` for the model `config` describes.

    Args:
        config: `ViTConfig`. The model the caller asked for.
        weights: None, a registry name, the path of a checkpoint or of a
            keras_vit `.weights.h5`/`.keras` file, a hub handle
            (`hf://ORG/NAME`, `kaggle://...`), a `registry.WeightsEntry` or
            a read `Checkpoint`.
        open_fields: set of str. The fields of `FOLLOW_WEIGHTS` the caller
            left open; the weights set those they know. Defaults to none.

    Returns:
        `(config, source)`: `config` with what the weights imply for the open
        fields, and the source to load (a registry entry, a read
        `Checkpoint`, a path, or None without weights).
    """
    if weights is None:
        return config, None
    size = {field: getattr(config, field) for field in variants.size_fields(config.resnet_layers)}
    source = _source(size, weights)
    if isinstance(source, registry.WeightsEntry):
        implied = {key: getattr(source, key) for key in IMPLIED_BY_REGISTRY if getattr(source, key) is not None}
    elif isinstance(source, Checkpoint):
        _check_architecture(source, size)
        implied = {key: source.architecture[key] for key in IMPLIED_BY_CHECKPOINTS if key in source.architecture}
        for key in ("pixel_mean", "pixel_std"):  # an RGB checkpoint's, for the model's channels
            if key in implied:
                implied[key] = adapt_channel_values(implied[key], config.input_channels)
    else:
        implied = {}
    headless_file = isinstance(source, Checkpoint) and source.architecture.get("include_top") is False
    if not config.include_top and not headless_file:
        # A model without a head keeps the checkpoint's pre-logits only if asked to;
        # a file without a head (a HF ViTModel) ends in them, so they follow it.
        implied.pop("representation_size", None)
    return config.replace(**{key: value for key, value in implied.items() if key in open_fields}), source


def names_a_file(path):
    """Whether a `weights=` string is a file's path rather than published
    weights' name: it exists, has a folder, or ends as a checkpoint or a
    keras_vit file does."""
    return os.path.exists(path) or os.sep in path or path.endswith((*CHECKPOINT_SUFFIXES, *KERAS_SUFFIXES))


def _source(size, weights):
    if isinstance(weights, (registry.WeightsEntry, Checkpoint)):
        return weights
    path = hub.local_path(os.fspath(weights))
    if path.endswith(KERAS_SUFFIXES):
        return path
    if names_a_file(path):
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
    # Another patch size is no other architecture: the patch embedding is resampled (FlexiViT).
    mismatched = [field for field in size if field != "patch_size" and checkpoint.architecture[field] != size[field]]
    if mismatched:
        found = ", ".join(f"{f}={checkpoint.architecture[f]}" for f in mismatched)
        wanted = ", ".join(f"{f}={size[f]}" for f in mismatched)
        raise ValueError(
            f"{checkpoint.path} is another architecture ({found}); this builder expects {wanted}. "
            "keras_vit.from_checkpoint builds whatever a file holds."
        )
