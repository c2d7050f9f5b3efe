"""`load_weights` and `from_checkpoint`: any weights source, into a model or a new one."""

import os

import keras

from keras_vit.models.config import HYBRID_VARIANTS, VARIANTS
from keras_vit.weights import registry
from keras_vit.weights.checkpoint import Checkpoint, read_checkpoint, stem_depths, stem_mismatch
from keras_vit.weights.download import converted_arrays
from keras_vit.weights.load import LoadReport, adapt_head, assign_weights


def load_weights(model, source, resample_method="zoom"):
    """Loads weights from any supported source into an existing keras_vit model.

    A position embedding trained on another grid is resampled to the model's
    (paper Section 3.2); a head for another number of classes is replaced by a
    zero-initialised one; a model without a head drops the checkpoint's head and
    pre-logits. What was adapted is logged and returned. A plain checkpoint for
    a hybrid model, a hybrid one for a plain model, or a ResNet stem of other
    stage depths is refused with an error that says which. If loading fails,
    the model keeps the weights it had.

    Args:
        model: keras.Model. A model built by keras_vit.
        source: a `registry.WeightsEntry`, a read `Checkpoint`, or the path
            of an original `.npz`, a timm `.safetensors`/`.pth`/`.bin`, a HF
            model folder or file, or a keras_vit `.weights.h5`/`.keras` file.
        resample_method: str. `"zoom"` (the original implementation's) or
            `"bicubic"`. Defaults to `"zoom"`.

    Returns:
        A `keras_vit.weights.LoadReport`.
    """
    if isinstance(source, (str, os.PathLike)) and os.fspath(source).endswith(".weights.h5"):
        return _load_weights_file(model, os.fspath(source))
    arrays = source_arrays(source, num_heads=_num_heads(model))
    message = stem_mismatch(stem_depths(arrays), stem_depths(v.path for v in model.weights), _describe(source))
    if message:
        raise ValueError(message)
    arrays, notes = adapt_head(model, arrays)
    return assign_weights(model, arrays, resample_method=resample_method, notes=notes)


def _describe(source):
    if isinstance(source, registry.WeightsEntry):
        return f"weights={source.name!r} ({source.url})"
    if isinstance(source, Checkpoint):
        return source.path
    return os.fspath(source)


def _load_weights_file(model, path):
    """Keras' own `.weights.h5` loading, undone if it fails part-way."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"No weights file at {path}.")
    backup = model.get_weights()
    try:
        model.load_weights(path)
    except Exception as error:
        model.set_weights(backup)
        raise ValueError(f"{path} does not fit this model: {error}") from error
    return LoadReport(missing=(), unused=())


def source_arrays(source, num_heads=None):
    """`{keras weight path: array}` from any source `load_weights` accepts."""
    if isinstance(source, registry.WeightsEntry):
        return converted_arrays(source)
    if isinstance(source, Checkpoint):
        return source.arrays
    path = os.fspath(source)
    if path.endswith(".keras"):
        return _keras_file_arrays(path)
    return read_checkpoint(path, num_heads=num_heads).arrays


def _keras_file_arrays(path):
    if not os.path.exists(path):
        raise FileNotFoundError(f"No model file at {path}.")
    model = keras.saving.load_model(path, safe_mode=True)
    return {v.path: keras.ops.convert_to_numpy(v) for v in model.weights}


def from_checkpoint(path, resample_method="zoom", **overrides):
    """Builds the model a checkpoint file describes and loads it.

    The architecture (patch size, width, depth, heads, MLP width, pre-logits,
    classes, pooling, GELU and LayerNorm epsilon of the source) comes from the
    file alone. timm files fuse query, key and value, which hides the number of
    heads: it is taken from the variant table for the paper's sizes and assumed
    64 wide otherwise, so pass `num_heads` for other timm models. `overrides`
    change any builder argument, e.g. `image_size=384` (the position
    embeddings are resampled) or `num_classes=37` (a fresh
    zero-initialised head). An original hybrid `.npz` (a ResNet stem under
    `conv_root` and `block{s}/unit{u}/...`) builds a `keras_vit.ViTHybrid` with
    the file's stage depths and width.

    Args:
        path: str. An original `.npz`, a timm `.safetensors`/`.pth`/`.bin`, or
            a HF model folder.
        resample_method: str. `"zoom"` or `"bicubic"`. Defaults to `"zoom"`.
        **overrides: keyword arguments of `keras_vit.ViT` (or
            `keras_vit.ViTHybrid` for a hybrid).

    Returns:
        A functional `keras.Model` with the checkpoint's weights.
    """
    from keras_vit.models.hybrid import ViTHybrid
    from keras_vit.models.vit import ViT

    checkpoint = read_checkpoint(path, num_heads=overrides.get("num_heads"))
    kwargs = {**checkpoint.architecture, **overrides}
    if overrides.get("include_top") is False and "representation_size" not in overrides:
        kwargs["representation_size"] = None
    model = ViTHybrid(**kwargs) if "resnet_layers" in checkpoint.architecture else ViT(**kwargs)
    load_weights(model, checkpoint, resample_method=resample_method)
    return model


def _num_heads(model):
    names = {layer.name for layer in model.layers}
    return model.get_layer("encoderblock_0").num_heads if "encoderblock_0" in names else None


def builder_defaults(size, weights, kwargs):
    """Resolves `weights=` for a builder of the given size.

    Returns the source to load (a registry entry, a read `Checkpoint` or a path)
    and the builder arguments the weights imply unless the caller set them:
    resolution, classes, pre-logits, GELU and LayerNorm epsilon.
    """
    if weights is None or isinstance(weights, (registry.WeightsEntry, Checkpoint)):
        return weights, _implied(weights, kwargs)
    path = os.fspath(weights)
    if path.endswith((".weights.h5", ".keras")):
        return path, {}
    if not os.path.exists(path) and not _looks_like_path(path):
        entry = registry.get(_variant_name(size, path), path)
        return entry, _implied(entry, kwargs)
    checkpoint = read_checkpoint(path, num_heads=size["num_heads"])
    message = stem_mismatch(checkpoint.architecture.get("resnet_layers"), size.get("resnet_layers"), path)
    if message:
        raise ValueError(message)
    mismatched = [f for f in size if checkpoint.architecture[f] != size[f]]
    if mismatched:
        found = ", ".join(f"{f}={checkpoint.architecture[f]}" for f in mismatched)
        wanted = ", ".join(f"{f}={size[f]}" for f in mismatched)
        raise ValueError(
            f"{path} is another architecture ({found}); this builder expects {wanted}. "
            "keras_vit.from_checkpoint builds whatever a file holds."
        )
    return checkpoint, _implied(checkpoint, kwargs)


def _implied(source, kwargs):
    if source is None:
        return {}
    if isinstance(source, registry.WeightsEntry):
        implied = {
            "image_size": source.image_size,
            "num_classes": source.num_classes,
            "representation_size": source.representation_size,
        }
    else:
        keys = ("image_size", "num_classes", "representation_size", "approximate_gelu", "layer_norm_epsilon")
        implied = {k: source.architecture[k] for k in keys if k in source.architecture}
    if not kwargs.get("include_top", True):
        implied.pop("representation_size", None)
    return implied


def _looks_like_path(text):
    return os.sep in text or text.endswith((".npz", ".safetensors", ".pth", ".bin", ".pt"))


def _variant_name(size, weights):
    table = VARIANTS if size.get("resnet_layers") is None else HYBRID_VARIANTS
    for name, variant in table.items():
        if vars(variant) == size:
            return name
    raise ValueError(
        f"weights={weights!r} names published weights, but no published variant has "
        f"this size ({', '.join(f'{f}={v}' for f, v in size.items())}); pass a checkpoint path."
    )
