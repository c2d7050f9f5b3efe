"""Patch tokens back on their grid: `(batch, tokens, D)` to `(batch, rows, cols, D)`."""

import keras

from keras_vit.layers.grid import GridLayer


@keras.saving.register_keras_serializable(package="keras_vit")
class TokenMap(GridLayer):
    """Drops the prefix tokens and lays the patch tokens out on the patch grid.

    The inverse of the patch embedding's flattening (row-major), so that a
    block's output can feed a convolutional detection or segmentation head.

    Args:
        grid_size: int or pair of ints. The `(rows, cols)` of the patch grid.
        num_prefix_tokens: int. Tokens before the patches (the class token).
            Defaults to 1.
        **kwargs: Base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        tokens: `(batch, num_prefix_tokens + rows * cols, hidden_dim)`.
        grid: Optional. In a model built with `dynamic_image_size=True`, the
            patch embedding's output on its grid `(batch, rows, cols, ...)`,
            whose `(rows, cols)` the tokens are laid out on.

    Input shape:
        `(batch, num_prefix_tokens + rows * cols, hidden_dim)`.

    Output shape:
        `(batch, rows, cols, hidden_dim)`.

    Example:

    >>> tokens = keras.ops.reshape(keras.ops.arange(14.0), (1, 7, 2))
    >>> keras.ops.convert_to_numpy(TokenMap((2, 3))(tokens))[0, 1, 0].tolist()
    [8.0, 9.0]
    """

    def call(self, tokens, grid=None):
        rows, cols = self.call_grid(tokens, grid)
        patches = tokens[:, self.num_prefix_tokens :, :]
        return keras.ops.reshape(patches, (-1, rows, cols, tokens.shape[-1]))

    def compute_output_shape(self, tokens_shape, grid_shape=None):
        if grid_shape is None:
            return (tokens_shape[0], *self.grid_size, tokens_shape[-1])
        return (tokens_shape[0], *grid_shape[1:3], tokens_shape[-1])
