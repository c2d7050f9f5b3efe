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
        patch_stride: int or None. For a dynamic-size model, the input pixels
            per patch token: the grid is then read off the `images` passed
            with the tokens at every call. Defaults to None.
        **kwargs: Base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        tokens: `(batch, num_prefix_tokens + rows * cols, hidden_dim)`.
        images: The model's input images, for a layer with `patch_stride` only.

    Input shape:
        `(batch, num_prefix_tokens + rows * cols, hidden_dim)`.

    Output shape:
        `(batch, rows, cols, hidden_dim)`.

    Example:

    >>> tokens = keras.ops.reshape(keras.ops.arange(14.0), (1, 7, 2))
    >>> keras.ops.convert_to_numpy(TokenMap((2, 3))(tokens))[0, 1, 0].tolist()
    [8.0, 9.0]
    """

    def call(self, tokens, images=None):
        rows, cols = self.call_grid(tokens, images)
        patches = tokens[:, self.num_prefix_tokens :, :]
        return keras.ops.reshape(patches, (-1, rows, cols, tokens.shape[-1]))

    def compute_output_shape(self, input_shape):
        if self.patch_stride is not None:
            return (input_shape[0], None, None, input_shape[-1])
        return (input_shape[0], *self.grid_size, input_shape[-1])
