"""Patch tokens back on their grid: `(batch, tokens, D)` to `(batch, rows, cols, D)`."""

import keras

from keras_vit.utils.validation import check_grid, check_non_negative_int


@keras.saving.register_keras_serializable(package="keras_vit")
class TokenMap(keras.layers.Layer):
    """Drops the prefix tokens and lays the patch tokens out on the patch grid.

    The inverse of the patch embedding's flattening (row-major), so that a
    block's output can feed a convolutional detection or segmentation head.

    Args:
        grid_size: int or pair of ints. The `(rows, cols)` of the patch grid.
        num_prefix_tokens: int. Tokens before the patches (the class token).
            Defaults to 1.
        **kwargs: Base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Input shape:
        `(batch, num_prefix_tokens + rows * cols, hidden_dim)`.

    Output shape:
        `(batch, rows, cols, hidden_dim)`.

    Example:

    >>> tokens = keras.ops.reshape(keras.ops.arange(14.0), (1, 7, 2))
    >>> keras.ops.convert_to_numpy(TokenMap((2, 3))(tokens))[0, 1, 0].tolist()
    [8.0, 9.0]
    """

    def __init__(self, grid_size, num_prefix_tokens=1, **kwargs):
        super().__init__(**kwargs)
        self.grid_size = check_grid("grid_size", grid_size)
        self.num_prefix_tokens = check_non_negative_int("num_prefix_tokens", num_prefix_tokens)

    def call(self, tokens):
        expected = self.num_prefix_tokens + self.grid_size[0] * self.grid_size[1]
        if tokens.shape[1] is not None and tokens.shape[1] != expected:
            raise ValueError(
                f"TokenMap expects {expected} tokens ({self.num_prefix_tokens} prefix + "
                f"{self.grid_size[0]}x{self.grid_size[1]} patches). Received: tokens.shape={tuple(tokens.shape)}"
            )
        patches = tokens[:, self.num_prefix_tokens :, :]
        return keras.ops.reshape(patches, (-1, *self.grid_size, tokens.shape[-1]))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self.grid_size, input_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(grid_size=list(self.grid_size), num_prefix_tokens=self.num_prefix_tokens)
        return config
