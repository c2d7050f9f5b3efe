"""Attention maps: attention rollout (paper Figure 6) and the last layer's heads.

The numerical functions take and return NumPy arrays: `attention` is a list
with one `(batch, heads, tokens, tokens)` array of attention weights per block,
first block first, each row a query's softmax over the keys. The model-level
functions read those weights from a keras_vit model with
`keras_vit.models.intermediates` and work in batches, so memory stays bounded.
"""

import weakref

import keras
import numpy as np

from keras_vit.inspect import geometry
from keras_vit.models.intermediates import intermediates
from keras_vit.utils.validation import check_positive_int


def attention_weights(model, images, batch_size=8):
    """Returns every block's attention weights for `images`, in one pass per batch.

    Args:
        model: keras.Model. A keras_vit model, plain or hybrid.
        images: array of shape `(batch, height, width, channels)`, what the
            model takes (RGB in `[0, 255]` by default).
        batch_size: int. Images per forward pass. Defaults to 8.

    Returns:
        A list with one float32 array `(batch, heads, tokens, tokens)` per block.

    Example:

    >>> model = keras_vit.ViT(image_size=16, patch_size=8, hidden_dim=8,
    ...                       num_layers=2, num_heads=2, mlp_dim=16)
    >>> [w.shape for w in attention_weights(model, np.zeros((3, 16, 16, 3)))]
    [(3, 2, 5, 5), (3, 2, 5, 5)]
    """
    batches = list(attention_batches(model, images, batch_size))
    return [np.concatenate(layer, axis=0) for layer in zip(*batches)]


def attention_batches(model, images, batch_size=8):
    """Like `attention_weights`, but yields the list of arrays one batch at a time."""
    images = geometry.check_images(model, images)
    check_positive_int("batch_size", batch_size)
    return _batches(_probe(model), images, batch_size)


# One probe per model, so that its compiled predict function is reused from call to
# call. The probe shares the model's layers and variables but holds no reference to
# the model itself, which can still be freed.
_PROBES = weakref.WeakKeyDictionary()


def _probe(model):
    if model not in _PROBES:
        # Only the attention outputs: the model's own head and fused path are pruned.
        probe = intermediates(model)
        _PROBES[model] = keras.Model(probe.input, probe.output["attention"], name=probe.name)
    return _PROBES[model]


def _batches(probe, images, batch_size):
    for start in range(0, len(images), batch_size):
        # predict_on_batch compiles the graph once per batch shape where the backend
        # compiles (JAX, TensorFlow), rather than dispatching it op by op.
        weights = probe.predict_on_batch(images[start : start + batch_size])
        # A model with one block gets its one output back unwrapped.
        weights = [weights] if isinstance(weights, np.ndarray) else weights
        yield [np.asarray(w, dtype=np.float32) for w in weights]


def rollout(attention):
    """Attention rollout (Abnar & Zuidema, 2020), as the paper's Appendix D.8 uses it.

    Each block's weights are averaged over heads, the identity is added for the
    residual connection and the rows are renormalised to sum to 1:
    `Â_l = (mean_h A_l + I) / rowsum(mean_h A_l + I)`. The rollout multiplies
    them through the blocks, `R = Â_L ... Â_2 Â_1`, so that row `i` of `R` is how
    much token `i` after the last block draws from each input token.

    Args:
        attention: list of arrays `(batch, heads, tokens, tokens)`, one per block.

    Returns:
        A float32 array `(batch, tokens, tokens)` whose rows sum to 1.

    Example:

    >>> uniform = np.full((1, 4, 2, 2), 0.5)      # 1 image, 4 heads, 2 tokens
    >>> rollout([uniform, uniform]).tolist()
    [[[0.625, 0.375], [0.375, 0.625]]]
    """
    attention = _check_attention(attention)
    result = None
    for weights in attention:
        mixed = weights.mean(axis=1, dtype=np.float64) + np.eye(weights.shape[-1])
        mixed /= mixed.sum(axis=-1, keepdims=True)
        result = mixed if result is None else mixed @ result
    return result.astype(np.float32)


def rollout_map(attention, grid):
    """The rollout row of the model's output token, over the patch grid.

    With a class token the output token is the class token (the paper's Figure 6).
    A model without one (`pooling="gap"`) classifies the mean of its patch
    tokens, so its row is the mean of the patch tokens' rows. The prefix
    columns are dropped: the map sums to the share drawn from the patches.

    Args:
        attention: list of arrays `(batch, heads, tokens, tokens)`, one per block.
        grid: `TokenGrid`. The model's token layout (`token_grid(model)`).

    Returns:
        A float32 array `(batch, rows, cols)`.
    """
    return _patch_map(_output_row(rollout(attention), grid), grid)


def last_layer_map(attention, grid):
    """The last block's attention of the output token, per head, over the patch grid.

    The output token is chosen as in `rollout_map`: the class token's attention
    row, or, without a class token, the mean of the patch tokens' rows.

    Args:
        attention: list of arrays `(batch, heads, tokens, tokens)`, one per block.
        grid: `TokenGrid`. The model's token layout (`token_grid(model)`).

    Returns:
        A float32 array `(batch, heads, rows, cols)`.
    """
    attention = _check_attention(attention)
    return _patch_map(_output_row(attention[-1], grid), grid)


def attention_rollout(model, images, batch_size=8, upsample=True):
    """Attention rollout of the output token for each image (paper Figure 6).

    See `rollout` and `rollout_map` for what is computed. The map is upsampled
    to the image bilinearly (`keras_vit.inspect.upsample`); it is not rescaled,
    so divide by its maximum to draw it as a mask.

    Args:
        model: keras.Model. A keras_vit model, plain or hybrid.
        images: array `(batch, height, width, channels)` the model takes.
        batch_size: int. Images per forward pass. Defaults to 8.
        upsample: bool. Return maps of the image's size; False returns the
            token grid's. Defaults to True.

    Returns:
        A float32 array `(batch, height, width)` (or `(batch, rows, cols)`).

    Example:

    >>> model = keras_vit.ViT(image_size=(16, 24), patch_size=8, hidden_dim=8,
    ...                       num_layers=2, num_heads=2, mlp_dim=16)
    >>> attention_rollout(model, np.zeros((1, 16, 24, 3))).shape
    (1, 16, 24)
    """
    return _model_maps(model, images, batch_size, upsample, rollout_map)


def last_layer_attention(model, images, batch_size=8, upsample=True):
    """The last block's attention of the output token, per head, for each image.

    See `last_layer_map` for what is computed and `attention_rollout` for the
    upsampling.

    Args:
        model: keras.Model. A keras_vit model, plain or hybrid.
        images: array `(batch, height, width, channels)` the model takes.
        batch_size: int. Images per forward pass. Defaults to 8.
        upsample: bool. Return maps of the image's size; False returns the
            token grid's. Defaults to True.

    Returns:
        A float32 array `(batch, heads, height, width)` (or the grid's size).
    """
    return _model_maps(model, images, batch_size, upsample, last_layer_map)


def _model_maps(model, images, batch_size, upsample, to_map):
    images = geometry.check_images(model, images)
    grid = geometry.token_grid(model, images.shape[1:3])
    batches = attention_batches(model, images, batch_size)
    maps = np.concatenate([to_map(attention, grid) for attention in batches], axis=0)
    return geometry.upsample(maps, grid.image_size) if upsample else maps


def _output_row(matrix, grid):
    if grid.num_prefix_tokens:
        return matrix[..., 0, :]
    return matrix.mean(axis=-2)


def _patch_map(rows, grid):
    if rows.shape[-1] != grid.num_tokens:
        raise ValueError(
            f"The attention has {rows.shape[-1]} tokens but `grid` holds "
            f"{grid.num_tokens} ({grid.num_prefix_tokens} prefix + {grid.grid_size[0]}x"
            f"{grid.grid_size[1]} patches). Received: grid={grid}"
        )
    patches = rows[..., grid.num_prefix_tokens :]
    return patches.reshape(*patches.shape[:-1], *grid.grid_size).astype(np.float32)


def _check_attention(attention):
    """Returns `attention` as a list of float32 arrays, or raises naming their shapes."""
    attention = [np.asarray(weights, dtype=np.float32) for weights in attention]
    shapes = {weights.shape for weights in attention}
    if len(shapes) != 1 or any(len(s) != 4 or s[-1] != s[-2] for s in shapes):
        raise ValueError(
            "`attention` must be a non-empty list of arrays of one shape (batch, "
            f"heads, tokens, tokens). Received shapes: {[w.shape for w in attention]}"
        )
    return attention
