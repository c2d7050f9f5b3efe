"""Position tables resized inside the graph, to a patch grid known only at call time.

The `keras.ops` twins of `keras_vit.utils.resample`, for models built with
`dynamic_image_size=True`: the same two methods, written as an interpolation
matrix per axis, so a grid of any size (a Python int, or a tensor in a
TensorFlow graph with open height and width) takes no gather and no shape
branch:

- `"zoom"`: linear, corners aligned (the original implementation's
  `scipy.ndimage.zoom(order=1)`): the weight of source sample `j` at target
  coordinate `c` is the hat `max(0, 1 - |c - j|)`.
- `"bicubic"`: cubic convolution (a = -0.75) on half-pixel centres with the
  edges clamped (timm's and `torch.nn.functional.interpolate`'s): the kernel
  is evaluated on two extra samples past each edge, then folded onto the edge.
- `"bicubic_antialias"`: PIL's cubic filter (a = -0.5) over the source
  samples, stretched by the downscaling factor, rows renormalised (PyTorch's
  `interpolate(..., antialias=True)`, DINOv2's and timm's).

At the built size either matrix is the identity, exactly, so a dynamic model
called at the size it was built for computes what the static model computes.
"""

import numpy as np
from keras import ops

from keras_vit.utils.resample import METHODS

_CUBIC_A = -0.75


def interpolation_matrix(size_in, size_out, method="zoom"):
    """The float32 `(size_out, size_in)` matrix that resamples an axis.

    Args:
        size_in: int. Samples of the source axis (static: a weight's length).
        size_out: int or scalar integer tensor. Samples of the target axis.
        method: str. `"zoom"` or `"bicubic"`. Defaults to `"zoom"`.

    Returns:
        A float32 tensor; its rows sum to 1.
    """
    if method not in METHODS:
        raise ValueError(f"`method` must be one of {METHODS}. Received: method={method!r}")
    target = ops.arange(size_out, dtype="float32")
    # The size as a value of the graph, read off `target`: casting a symbolic
    # size (torch.export's) would freeze it at the size it was traced with.
    last = ops.max(target)  # size_out - 1
    if method == "zoom":
        step = (size_in - 1) / ops.maximum(last, 1.0)
        taps = ops.convert_to_tensor(np.arange(size_in, dtype="float32"))
        return ops.relu(1.0 - ops.abs(target[:, None] * step - taps[None, :]))
    if method == "bicubic_antialias":
        return _antialiased(target, last + 1.0, size_in)
    coords = (target + 0.5) * (size_in / (last + 1.0)) - 0.5
    taps = ops.convert_to_tensor(np.arange(-2, size_in + 2, dtype="float32"))
    weights = _cubic(ops.abs(coords[:, None] - taps[None, :]))
    # A tap past an edge reads the edge sample: fold those columns onto it.
    fold = np.eye(size_in, dtype="float32")[np.clip(np.arange(-2, size_in + 2), 0, size_in - 1)]
    return ops.matmul(weights, ops.convert_to_tensor(fold))


def _antialiased(target, size_out, size_in):
    scale = size_in / size_out
    stretch = ops.minimum(1.0, size_out / size_in)
    taps = ops.convert_to_tensor(np.arange(size_in, dtype="float32") + 0.5)
    weights = _cubic(ops.abs((taps[None, :] - scale * (target[:, None] + 0.5)) * stretch), a=-0.5)
    return weights / ops.sum(weights, axis=1, keepdims=True)


def _cubic(distance, a=_CUBIC_A):
    near = ((a + 2) * distance - (a + 3)) * distance**2 + 1
    far = ((a * distance - 5 * a) * distance + 8 * a) * distance - 4 * a
    return ops.where(distance < 1, near, ops.where(distance < 2, far, 0.0))


def same_size(size, built):
    """Whether a call-time `size` (int or tensor) is statically the built one."""
    return isinstance(size, int) and size == built


def same_grid(grid, built):
    """Whether a call-time `(rows, cols)` is statically the built grid."""
    return all(same_size(size, expected) for size, expected in zip(grid, built))


def resize_axis_table(table, size, method="zoom"):
    """`(n, width)` table resized along its first axis to `size` rows."""
    if same_size(size, table.shape[0]):
        return table
    return ops.matmul(interpolation_matrix(table.shape[0], size, method), table)


def resize_grid_table(table, source_grid, target_grid, method="zoom"):
    """`(rows * cols, width)` patch table laid out on `source_grid`, resized to
    `target_grid` (ints or scalar tensors) and flattened row-major again. The
    caller skips the call when `same_grid(target_grid, source_grid)`."""
    rows = interpolation_matrix(source_grid[0], target_grid[0], method)
    cols = interpolation_matrix(source_grid[1], target_grid[1], method)
    width = table.shape[-1]
    # Two matmuls, not a three-operand einsum: torch's einsum picks its
    # contraction order by the operands' sizes, which pins a dynamic-size
    # model's grid to the traced one in `torch.export`.
    grid = ops.matmul(rows, ops.reshape(table, (source_grid[0], source_grid[1] * width)))
    grid = ops.matmul(cols[None], ops.reshape(grid, (-1, source_grid[1], width)))
    return ops.reshape(grid, (-1, width))


def resize_offsets(table, num_tokens):
    """A relative table over `2 T - 1` offsets (first axis) resized to
    `2 * num_tokens - 1`, linear with the extreme offsets aligned, as
    `keras_vit.utils.resample.resample_relative_embedding`."""
    size = 2 * num_tokens - 1
    if same_size(size, table.shape[0]):
        return table
    flat = ops.reshape(table, (table.shape[0], -1))
    resized = ops.matmul(interpolation_matrix(table.shape[0], size), flat)
    return ops.reshape(resized, (-1, *table.shape[1:]))
