"""`weights=` of every builder: what it names, and which builder arguments it implies.

One resolution path for `keras_vit.ViT`, `keras_vit.ViTHybrid`, every named
builder and `from_checkpoint`: a registry name or a checkpoint path becomes the
source to load, and the arguments the caller left out (resolution, classes,
pre-logits, and a checkpoint's GELU and LayerNorm epsilon) follow the weights.
"""

import functools
import inspect
import os

from keras_vit import variants
from keras_vit.weights import registry
from keras_vit.weights.architecture import Checkpoint, stem_mismatch
from keras_vit.weights.checkpoint import CHECKPOINT_SUFFIXES, KERAS_SUFFIXES, read_checkpoint

# What a checkpoint file's arrays or a registry entry say about the model.
IMPLIED_BY_CHECKPOINTS = ("image_size", "num_classes", "representation_size", "approximate_gelu", "layer_norm_epsilon")
IMPLIED_BY_REGISTRY = ("image_size", "num_classes", "representation_size")


def takes_weights(builder):
    """Lets `builder`'s `weights=` set the arguments its caller did not pass.

    `builder` is `keras_vit.ViT` or `keras_vit.ViTHybrid`: it gets the
    resolved source (see `resolve_weights`) as `weights` and, for every
    argument the caller left out, the value the weights imply.
    """
    signature = inspect.signature(builder)

    @functools.wraps(builder)
    def build(*args, **kwargs):
        passed = _passed(signature, args, kwargs)
        weights = passed.pop("weights", None)
        if weights is None:
            return builder(**passed)
        full = signature.bind(*args, **kwargs)
        full.apply_defaults()
        arguments = {**full.arguments, **passed}
        size = {field: arguments[field] for field in variants.size_fields(arguments.get("resnet_layers"))}
        if size.get("resnet_layers") is not None:
            size["resnet_layers"] = tuple(size["resnet_layers"])
        source, implied = resolve_weights(size, weights, passed)
        return builder(**{**implied, **passed}, weights=source)

    return build


def _passed(signature, args, kwargs):
    """The arguments the caller gave, by name, with `**kwargs` spread out."""
    passed = dict(signature.bind(*args, **kwargs).arguments)
    for name, parameter in signature.parameters.items():
        if parameter.kind is inspect.Parameter.VAR_KEYWORD and name in passed:
            passed.update(passed.pop(name))
    return passed


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
    if passed.get("include_top") is False:
        # A model without a head keeps the checkpoint's pre-logits only if asked to.
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
