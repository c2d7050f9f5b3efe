"""Assigns converted checkpoint arrays to a model's variables, by weight path."""

import dataclasses
import warnings

import numpy as np

from keras_vit.layers.position_embedding import AddPositionEmbedding


@dataclasses.dataclass(frozen=True)
class LoadReport:
    """What `assign_weights` did: the model's variables that got no array, and
    the arrays that matched no variable."""

    missing: tuple
    unused: tuple


def assign_weights(model, arrays, strict=True, resample_method="zoom"):
    """Assigns `{weight path: array}` to `model`'s variables.

    Weight paths are Keras variable paths such as
    `"encoderblock_0/attn/query/kernel"`. A position embedding of another grid
    is resampled to the model's grid (paper Section 3.2); any other shape
    mismatch is an error that names the path and both shapes.

    Args:
        model: keras.Model. The model to load into.
        arrays: dict. Weight path to array.
        strict: bool. Raise if a model variable gets no array. Defaults to True.
        resample_method: str. `"zoom"` or `"bicubic"`, for position embeddings
            of another grid. Defaults to `"zoom"`.

    Returns:
        A `LoadReport` listing missing variables and unused arrays.
    """
    variables = {variable.path: variable for variable in model.weights}
    missing = tuple(path for path in variables if path not in arrays)
    unused = tuple(path for path in arrays if path not in variables)
    if strict and missing:
        raise ValueError(
            f"The checkpoint has no array for {len(missing)} of the model's weights: "
            f"{', '.join(missing[:8])}{' ...' if len(missing) > 8 else ''}"
        )
    for path, variable in variables.items():
        if path in arrays:
            _assign(model, path, variable, np.asarray(arrays[path]), resample_method)
    if unused:
        warnings.warn(
            f"{len(unused)} checkpoint arrays were not used: {', '.join(unused[:8])}"
            f"{' ...' if len(unused) > 8 else ''}",
            stacklevel=2,
        )
    return LoadReport(missing=missing, unused=unused)


def _assign(model, path, variable, array, resample_method):
    if tuple(array.shape) == tuple(variable.shape):
        variable.assign(array.astype(variable.dtype))
        return
    layer = model.get_layer(path.split("/")[0])
    if isinstance(layer, AddPositionEmbedding) and array.ndim == 3:
        layer.set_embedding(array, method=resample_method)
        return
    raise ValueError(
        f"Shape mismatch for weight '{path}': the checkpoint has {tuple(array.shape)}, "
        f"the model expects {tuple(variable.shape)}."
    )
