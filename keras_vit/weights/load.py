"""Loads any weights source into a model: heads, resolution and reporting in one place."""

import dataclasses
import logging
import os
import warnings

import keras
import numpy as np

from keras_vit.layers import names
from keras_vit.weights import hub, registry
from keras_vit.weights.architecture import stem_depths, stem_mismatch
from keras_vit.weights.checkpoint import Checkpoint
from keras_vit.weights.download import converted_arrays
from keras_vit.weights.formats import keras_file, keras_h5
from keras_vit.weights.input_kernel import ROOT_KERNEL, fit_input_kernel, is_input_kernel
from keras_vit.weights.reader import read_checkpoint

logger = logging.getLogger("keras_vit")


@dataclasses.dataclass(frozen=True)
class LoadReport:
    """What a load did.

    Attributes:
        missing: model weights that got no array (left as initialised).
        unused: checkpoint arrays that matched no weight.
        notes: what was adapted (a new head, a resampled grid, a zero head).
    """

    missing: tuple
    unused: tuple
    notes: tuple = ()


def assign_weights(model, arrays, strict=True, resample_method="zoom", notes=(), source="The checkpoint"):
    """Assigns `{weight path: array}` to `model`'s variables, all or nothing.

    Weight paths are Keras variable paths such as
    `"encoderblock_0/attn/query/kernel"`. A position embedding of another grid
    is resampled to the model's grid (paper Section 3.2); the patch embedding
    of another patch size is resampled (FlexiViT), and the kernel that takes
    the images (the patch embedding, or a ResNet stem's root convolution)
    adapted to other input channels (`keras_vit.utils.kernels`); any other
    shape mismatch is an error that names the path and both shapes. Every
    array is checked before the first assignment, so a failed load changes
    nothing.

    Args:
        model: keras.Model. The model to load into.
        arrays: dict. Weight path to array.
        strict: bool. Raise if a model variable gets no array. Defaults to True.
        resample_method: str. `"zoom"` or `"bicubic"`, for position embeddings
            of another grid. Defaults to `"zoom"`.
        notes: tuple of str. Notes to carry into the report. Defaults to ().
        source: str. What the arrays came from, for the errors: a file's
            path, or a registry name. Defaults to `"The checkpoint"`.

    Returns:
        A `LoadReport`.
    """
    variables = {variable.path: variable for variable in model.weights}
    missing = tuple(path for path in variables if path not in arrays)
    unused = tuple(path for path in arrays if path not in variables)
    if strict and missing:
        raise ValueError(
            f"{source} has no array for {len(missing)} of the model's weights: "
            f"{_listing(missing)}"
        )
    notes = list(notes)
    planned = [
        (variables[path], _fit(model, path, variables[path], np.asarray(arrays[path]), resample_method, notes, source))
        for path in variables
        if path in arrays
    ]
    for variable, value in planned:
        variable.assign(value)
    if unused:
        warnings.warn(f"{len(unused)} checkpoint arrays were not used: {_listing(unused)}", stacklevel=2)
    for note in notes:
        logger.info(note)
    return LoadReport(missing=missing, unused=unused, notes=tuple(notes))


def _fit(model, path, variable, array, resample_method, notes, source):
    if tuple(array.shape) == tuple(variable.shape):
        return array.astype(variable.dtype, copy=False)
    if is_input_kernel(path):
        has_root = any(weight.path == ROOT_KERNEL for weight in model.weights)
        try:
            kernel, changes = fit_input_kernel(path, array, variable.shape, has_root)
        except ValueError as error:
            raise ValueError(
                f"Shape mismatch for weight '{path}': {source} has {tuple(array.shape)}, the model "
                f"expects {tuple(variable.shape)}, and {error}."
            ) from None
        notes.extend(changes)
        return kernel
    layer = _owner(model, path)
    # Position weights of another grid or sequence length differ in their
    # leading (position) axes only; their layer knows how to resample them.
    resizable = hasattr(layer, "resample_weight") and array.ndim == len(variable.shape)
    if resizable and array.shape[-1] == variable.shape[-1]:
        try:
            resized = layer.resample_weight(path.rsplit("/", 1)[-1], array, method=resample_method)
        except ValueError as error:
            raise ValueError(
                f"Shape mismatch for weight '{path}': {source} has {tuple(array.shape)}, the model "
                f"expects {tuple(variable.shape)}, and it cannot be resampled: {error}"
            ) from None
        if tuple(resized.shape) == tuple(variable.shape):
            notes.append(
                f"{path} resampled ({resample_method}) from {tuple(array.shape)} to "
                f"{tuple(variable.shape)} for the {_grid(model)} patch grid"
            )
            return resized
    raise ValueError(
        f"Shape mismatch for weight '{path}': {source} has {tuple(array.shape)}, "
        f"the model expects {tuple(variable.shape)}."
    )


def _owner(model, path):
    """The layer that created the weight at `path`, nested layers included."""
    folder = path.rsplit("/", 1)[0]
    for layer in model._flatten_layers(include_self=False):
        if layer.path == folder:
            return layer
    return None


def _grid(model):
    rows, cols = _vit_config(model, "grid_size", ("?", "?"))
    return f"{rows}x{cols}"


def _vit_config(model, field, default):
    """A field of `model.vit_config`: the config of every model a keras_vit builder or
    `keras_vit.models.build_model` returns (weights do not import models, so a plain
    functional model loaded otherwise from an old file gets `default`)."""
    return getattr(getattr(model, "vit_config", None), field, default)


def adapt_head(model, arrays):
    """Fits the checkpoint's head and pre-logits to the model's; returns (arrays, notes).

    A model without a head drops the checkpoint's head (and its pre-logits if the
    model has none). A head for another number of classes is replaced by a fresh
    zero-initialised one, the paper's fine-tuning practice. An all-zero head, as
    the ImageNet-21k pre-training checkpoints ship, is reported.
    """
    arrays = dict(arrays)
    layers = {layer.name for layer in model.layers}
    notes = []
    optional = (names.HEAD, names.DISTILLATION_HEAD, names.PRE_LOGITS, names.PROJECTION)
    dropped = [p for p in arrays if p.split("/")[0] in optional and p.split("/")[0] not in layers]
    for path in dropped:
        del arrays[path]
    if dropped:
        notes.append(f"not loaded, the model has no such layers: {', '.join(sorted(dropped))}")
    for name in (names.HEAD, names.DISTILLATION_HEAD):
        if name in layers:
            notes += _fit_head(model.get_layer(name), arrays, name)
    return arrays, tuple(notes)


def _fit_head(head, arrays, name=names.HEAD):
    kernel = arrays.get(f"{name}/kernel")
    classes = head.kernel.shape[-1]
    if kernel is None or kernel.shape[-1] != classes:
        arrays[f"{name}/kernel"] = np.zeros(tuple(head.kernel.shape), np.float32)
        arrays[f"{name}/bias"] = np.zeros(tuple(head.bias.shape), np.float32)
        if name != names.HEAD:
            return ()  # reported once, for the head
        had = "none" if kernel is None else f"{kernel.shape[-1]} classes"
        return (f"new zero-initialised head for {classes} classes (the checkpoint's: {had})",)
    if not np.any(kernel):
        return (
            f"the checkpoint's {kernel.shape[-1]}-class head is all zeros, as in the "
            "ImageNet-21k pre-training checkpoints: its predictions are uniform until fine-tuned",
        )
    return ()


def _listing(paths, limit=8):
    return ", ".join(paths[:limit]) + (" ..." if len(paths) > limit else "")


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
            model folder or file, a keras-hub preset folder, a keras_vit
            `.weights.h5`/`.keras` file, or a hub handle
            (`hf://ORG/NAME[@REVISION]`, `kaggle://...`).
        resample_method: str. `"zoom"` (the original implementation's) or
            `"bicubic"`. Defaults to `"zoom"`.

    Returns:
        A `keras_vit.weights.LoadReport`.
    """
    arrays = source_arrays(source, model)
    message = stem_mismatch(stem_depths(arrays), stem_depths(v.path for v in model.weights), _describe(source))
    if message:
        raise ValueError(message)
    arrays, notes = adapt_head(model, arrays)
    if isinstance(source, Checkpoint):
        notes = source.notes + notes
    return assign_weights(model, arrays, resample_method=resample_method, notes=notes, source=_describe(source))


def _describe(source):
    if isinstance(source, registry.WeightsEntry):
        return f"weights={source.name!r} ({source.url})"
    if isinstance(source, Checkpoint):
        return source.path
    return os.fspath(source)


def source_arrays(source, model):
    """`{keras weight path: array}` from any source `load_weights` accepts, for `model`
    (a fused-qkv checkpoint is split into its heads, a `.weights.h5` read against its layout)."""
    if isinstance(source, registry.WeightsEntry):
        return converted_arrays(source)
    if isinstance(source, Checkpoint):
        return source.arrays
    path = hub.local_path(os.fspath(source))
    if not os.path.exists(path):
        raise FileNotFoundError(f"No weights file or checkpoint at {path}.")
    if path.endswith(".weights.h5"):
        return keras_h5.read(path, model)
    if path.endswith(".keras"):
        return _keras_file_arrays(path)
    return read_checkpoint(path, num_heads=_num_heads(model)).arrays


def _keras_file_arrays(path):
    """The weights of a keras_vit `.keras` file, by weight path (the file is checked whole first)."""
    model = keras_file.load(path, models=tuple(keras_file.SAVED_CONFIGS))
    return {v.path: keras.ops.convert_to_numpy(v) for v in model.weights}


def _num_heads(model):
    # None lets the checkpoint's own config or the paper's sizes give the heads.
    return _vit_config(model, "num_heads", None)
