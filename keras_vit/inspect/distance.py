"""Mean attention distance: how far in the image each head looks (paper Figure 7, right).

Paper Section 4.5 and Appendix D.7: for each query patch, the distance in
pixels to every other patch, weighted by the attention weight, averaged over
the query patches and over images; one value per layer and head.
"""

import numpy as np

from keras_vit.inspect import geometry
from keras_vit.inspect.attention import attention_batches


def distance_matrix(grid):
    """The pixel distance between the centres of every two patches of `grid`.

    Patch `(r, c)` covers the pixels from `(r * h, c * w)` to `((r + 1) * h,
    (c + 1) * w)`, where `(h, w)` is `grid.pixels_per_token`, so two patches lie
    `sqrt((dr * h)^2 + (dc * w)^2)` pixels apart.

    Args:
        grid: `TokenGrid`. The model's token layout.

    Returns:
        A float32 array `(num_patches, num_patches)`, patches in row-major order.

    Example:

    >>> grid = geometry.TokenGrid(image_size=(24, 32), grid_size=(2, 2))
    >>> distance_matrix(grid).tolist()[0]
    [0.0, 16.0, 12.0, 20.0]
    """
    rows, cols = np.meshgrid(*(np.arange(n) for n in grid.grid_size), indexing="ij")
    height, width = grid.pixels_per_token
    y = rows.reshape(-1) * height
    x = cols.reshape(-1) * width
    return np.hypot(y[:, None] - y[None, :], x[:, None] - x[None, :]).astype(np.float32)


def mean_distance(weights, grid):
    """The attention-weighted mean distance of one block's heads, per image.

    Only patch queries and patch keys take part: a prefix token (the class
    token) has no place in the image. Each query's weights over the patch keys
    are renormalised to sum to 1, so the result is a weighted mean over patches
    even where a query gives some weight to the class token:
    `d = mean_q sum_k a_qk d_qk / sum_k a_qk`, over query and key patches.

    Args:
        weights: array `(batch, heads, tokens, tokens)`: one block's attention.
        grid: `TokenGrid`. The model's token layout (`token_grid(model)`).

    Returns:
        A float32 array `(batch, heads)` of distances in pixels.

    Example:

    >>> grid = geometry.TokenGrid(image_size=(16, 16), grid_size=(2, 2))
    >>> itself = np.eye(5)[None, None]          # every token attends to itself
    >>> mean_distance(itself, grid).tolist()
    [[0.0]]
    """
    weights = np.asarray(weights, dtype=np.float64)
    if weights.ndim != 4 or weights.shape[-2:] != (grid.num_tokens,) * 2:
        raise ValueError(
            f"`weights` must have shape (batch, heads, {grid.num_tokens}, "
            f"{grid.num_tokens}) for {grid}. Received: weights.shape={weights.shape}"
        )
    prefix = grid.num_prefix_tokens
    patches = weights[..., prefix:, prefix:]
    total = patches.sum(axis=-1)
    spread = (patches * distance_matrix(grid)).sum(axis=-1)
    per_query = np.divide(spread, total, out=np.zeros_like(spread), where=total > 0)
    return per_query.mean(axis=-1).astype(np.float32)


def mean_attention_distance(model, images, batch_size=8):
    """Mean attention distance per layer and head, averaged over `images`.

    The paper's Figure 7 (right) averages 128 images; see `mean_distance` for
    what is computed. Pixels are the model's input pixels, with the pixels per
    token taken from the input size and the token grid (so a hybrid's token
    spans its feature map's stride, 16 pixels for R50+B/16).

    Args:
        model: keras.Model. A keras_vit model, plain or hybrid.
        images: array `(batch, height, width, channels)` the model takes.
        batch_size: int. Images per forward pass. Defaults to 8.

    Returns:
        A float32 array `(layers, heads)` of distances in pixels.

    Example:

    >>> model = keras_vit.ViT(image_size=16, patch_size=8, hidden_dim=8,
    ...                       num_layers=3, num_heads=2, mlp_dim=16)
    >>> mean_attention_distance(model, np.zeros((2, 16, 16, 3))).shape
    (3, 2)
    """
    images = geometry.check_images(model, images)
    grid = geometry.token_grid(model, images.shape[1:3])
    total, count = 0.0, 0
    for attention in attention_batches(model, images, batch_size):
        total = total + np.stack([mean_distance(w, grid).sum(axis=0) for w in attention])
        count += len(attention[0])
    return (total / count).astype(np.float32)
