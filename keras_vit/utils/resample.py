"""Resampling of learned position embeddings to another patch grid (paper Section 3.2).

Pure NumPy, so it runs the same on every backend and on checkpoint arrays before a
model exists. Two methods:

- `"zoom"`: the original implementation's `scipy.ndimage.zoom(grid, zoom, order=1)`,
  linear interpolation that maps the corner patches onto the corner patches.
- `"bicubic"`: cubic convolution (a = -0.75) on half-pixel centres, as
  `torch.nn.functional.interpolate(mode="bicubic", align_corners=False)`, which
  transformers' `interpolate_pos_encoding` uses for ViT, DeiT, SigLIP and CLIP.
- `"bicubic_antialias"`: the same call with `antialias=True`, as DINOv2 and
  timm (`resample_abs_pos_embed`) resize: PIL's cubic filter (a = -0.5),
  stretched by the downscaling factor when shrinking, its weights renormalised
  at the edges instead of clamping the samples.
"""

import numpy as np

METHODS = ("zoom", "bicubic", "bicubic_antialias")


def resample_position_embedding(
    embedding, target_grid, source_grid=None, num_prefix_tokens=1, method="zoom"
):
    """Resizes a `(1, prefix + gh * gw, D)` position embedding to `target_grid`.

    Args:
        embedding: array of shape `(1, num_prefix_tokens + gh * gw, D)`.
        target_grid: pair of ints. The new `(rows, cols)` of the patch grid.
        source_grid: pair of ints, or None for a square grid inferred from the
            number of tokens. Defaults to None.
        num_prefix_tokens: int. Leading rows that belong to no patch (the class
            token's) and are kept as they are. Defaults to 1.
        method: str. `"zoom"` or `"bicubic"`. Defaults to `"zoom"`.

    Returns:
        A float32 array of shape `(1, num_prefix_tokens + rows * cols, D)`.
    """
    embedding = np.asarray(embedding, dtype=np.float32)
    if embedding.ndim != 3 or embedding.shape[0] != 1:
        raise ValueError(
            "`embedding` must have shape (1, num_tokens, dim). "
            f"Received: embedding.shape={embedding.shape}"
        )
    if method not in METHODS:
        raise ValueError(f"`method` must be one of {METHODS}. Received: method={method!r}")
    prefix, grid = embedding[:, :num_prefix_tokens], embedding[0, num_prefix_tokens:]
    source_grid = _source_grid(grid.shape[0], source_grid)
    target_grid = tuple(int(v) for v in target_grid)
    if source_grid == target_grid:
        return embedding
    grid = grid.reshape(*source_grid, grid.shape[-1])
    resize = MATRICES[method]
    rows = resize(source_grid[0], target_grid[0])
    cols = resize(source_grid[1], target_grid[1])
    grid = np.einsum("ri,ijd,cj->rcd", rows, grid.astype(np.float64), cols)
    grid = grid.reshape(1, -1, grid.shape[-1]).astype(np.float32)
    return np.concatenate([prefix, grid], axis=1)


def _source_grid(num_patches, source_grid):
    if source_grid is not None:
        source_grid = tuple(int(v) for v in source_grid)
        if source_grid[0] * source_grid[1] != num_patches:
            raise ValueError(
                f"`source_grid` {source_grid} holds {source_grid[0] * source_grid[1]} "
                f"patches but the embedding has {num_patches} patch rows."
            )
        return source_grid
    side = int(round(num_patches**0.5))
    if side * side != num_patches:
        raise ValueError(
            f"The embedding's {num_patches} patch rows form no square grid: "
            "pass `source_grid=(rows, cols)`."
        )
    return (side, side)


def _zoom_matrix(size_in, size_out):
    """Linear interpolation weights `(size_out, size_in)`, corners aligned."""
    if size_out == 1:
        coords = np.zeros(1)
    else:
        coords = np.arange(size_out) * ((size_in - 1) / (size_out - 1))
    return linear_weights(coords, size_in)


def linear_weights(coords, size_in):
    """The `(len(coords), size_in)` matrix that interpolates linearly at `coords`,
    positions in `[0, size_in - 1]` on the input's sample grid."""
    low = np.clip(np.floor(coords).astype(int), 0, size_in - 1)
    high = np.minimum(low + 1, size_in - 1)
    frac = coords - low
    matrix = np.zeros((len(coords), size_in))
    np.add.at(matrix, (np.arange(len(coords)), low), 1.0 - frac)
    np.add.at(matrix, (np.arange(len(coords)), high), frac)
    return matrix


def _bicubic_matrix(size_in, size_out, a=-0.75):
    """Cubic-convolution weights `(size_out, size_in)`, half-pixel centres, edges clamped."""
    coords = (np.arange(size_out) + 0.5) * (size_in / size_out) - 0.5
    base = np.floor(coords).astype(int)
    matrix = np.zeros((size_out, size_in))
    for offset in (-1, 0, 1, 2):
        weight = _cubic(np.abs(coords - (base + offset)), a)
        index = np.clip(base + offset, 0, size_in - 1)
        np.add.at(matrix, (np.arange(size_out), index), weight)
    return matrix


def _bicubic_antialias_matrix(size_in, size_out, a=-0.5):
    """PyTorch's antialiased bicubic weights `(size_out, size_in)` (PIL's filter):
    the cubic kernel over the source samples' centres, stretched by the
    downscaling factor, each row renormalised to sum to 1."""
    scale = size_in / size_out
    stretch = min(1.0, 1.0 / scale)
    centres = scale * (np.arange(size_out) + 0.5)
    weight = _cubic(np.abs((np.arange(size_in)[None, :] + 0.5 - centres[:, None]) * stretch), a)
    return weight / weight.sum(axis=1, keepdims=True)


def _cubic(distance, a):
    """Keys' cubic convolution kernel at `distance` (>= 0): zero from 2 on."""
    near = ((a + 2) * distance - (a + 3)) * distance**2 + 1
    far = ((a * distance - 5 * a) * distance + 8 * a) * distance - 4 * a
    return np.where(distance < 1, near, np.where(distance < 2, far, 0.0))


MATRICES = {"zoom": _zoom_matrix, "bicubic": _bicubic_matrix, "bicubic_antialias": _bicubic_antialias_matrix}


def resample_axis_table(table, size, method="zoom"):
    """Resizes a `(n, width)` table along its first axis to `(size, width)`.

    The 2D position embedding's row and column tables each resample on their
    own (a grid of another height changes only the row table), with the same
    methods as `resample_position_embedding`.

    Args:
        table: array of shape `(n, width)`.
        size: int. The new length of the first axis.
        method: str. `"zoom"` or `"bicubic"`. Defaults to `"zoom"`.

    Returns:
        A float32 array of shape `(size, width)`.
    """
    table = np.asarray(table, dtype=np.float32)
    if table.ndim != 2:
        raise ValueError(f"`table` must have shape (length, width). Received: table.shape={table.shape}")
    if method not in METHODS:
        raise ValueError(f"`method` must be one of {METHODS}. Received: method={method!r}")
    if table.shape[0] == size:
        return table
    resize = MATRICES[method]
    return (resize(table.shape[0], int(size)) @ table.astype(np.float64)).astype(np.float32)


def resample_relative_embedding(table, num_tokens):
    """Resizes a relative position table `(2 * T - 1, ...)` to `2 * num_tokens - 1` offsets.

    The offsets `-(T - 1) ... T - 1` are interpolated linearly with the corner
    offsets aligned, so the largest offsets of the source map onto the largest
    of the target and offset 0 stays at the centre.

    Args:
        table: array whose first axis holds `2 * T - 1` offsets.
        num_tokens: int. The sequence length `T'` the table is resized for.

    Returns:
        A float32 array of shape `(2 * num_tokens - 1, *table.shape[1:])`.
    """
    table = np.asarray(table, dtype=np.float32)
    if table.ndim < 1 or table.shape[0] % 2 == 0:
        raise ValueError(
            "`table` must hold an odd number of offsets, 2 * num_tokens - 1, on its "
            f"first axis. Received: table.shape={table.shape}"
        )
    size = 2 * int(num_tokens) - 1
    if table.shape[0] == size:
        return table
    matrix = _zoom_matrix(table.shape[0], size)
    flat = table.reshape(table.shape[0], -1).astype(np.float64)
    return (matrix @ flat).reshape(size, *table.shape[1:]).astype(np.float32)
