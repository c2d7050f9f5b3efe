"""What every layer that knows the patch grid shares: the grid it was built for,
its prefix tokens, and for a dynamic-size model the grid of each call."""

import keras
from keras import ops

from keras_vit.utils.validation import check_grid, check_non_negative_int


class GridLayer(keras.layers.Layer):
    """Base of the layers that lay tokens out on the patch grid.

    Called as `layer(tokens)`, the layer holds one grid, `grid_size`. In a
    model built with `dynamic_image_size=True` it is called as
    `layer(tokens, grid)`, where `grid` is the patch embedding's output kept
    on its grid, `(batch, rows, cols, hidden_dim)`: the grid of that call is
    `grid`'s `(rows, cols)`, and `grid_size` is the grid the layer's weights
    were built (or loaded) for.

    Args:
        grid_size: int or pair of ints. The `(rows, cols)` of the patch grid.
        num_prefix_tokens: int. Tokens before the patches (1 with a class token,
            0 without). Defaults to 1.
        **kwargs: Base `keras.layers.Layer` arguments (`name`, `dtype`, ...).
    """

    def __init__(self, grid_size, num_prefix_tokens=1, **kwargs):
        super().__init__(**kwargs)
        self.grid_size = check_grid("grid_size", grid_size)
        self.num_prefix_tokens = check_non_negative_int("num_prefix_tokens", num_prefix_tokens)

    @property
    def num_tokens(self):
        """Tokens at the built grid: prefix tokens and patches."""
        return self.num_prefix_tokens + self.grid_size[0] * self.grid_size[1]

    def call_grid(self, tokens, grid=None):
        """The `(rows, cols)` of this call: `grid_size`, or `grid`'s (ints, or
        scalar tensors where the graph leaves the size open). Checks what can be
        checked before running."""
        if grid is None:
            self._check_tokens(tokens.shape, self.grid_size)
            return self.grid_size
        rows, cols = ops.shape(grid)[1:3]
        if isinstance(rows, int) and isinstance(cols, int):
            self._check_tokens(tokens.shape, (rows, cols))
        return rows, cols

    def check_input_shape(self, shape, grid_shape=None):
        """At build: tokens of rank 3, as many as the grid holds if it is fixed."""
        if grid_shape is None:
            self._check_tokens(shape, self.grid_size)
        elif len(shape) != 3:
            raise ValueError(
                f"{type(self).__name__} {self.name!r} expects tokens of shape (batch, "
                f"num_tokens, hidden_dim). Received: tokens.shape={tuple(shape)}"
            )

    def _check_tokens(self, shape, grid):
        expected = self.num_prefix_tokens + grid[0] * grid[1]
        if len(shape) != 3 or shape[1] not in (None, expected):
            raise ValueError(
                f"{type(self).__name__} {self.name!r} expects {expected} tokens here "
                f"({self.num_prefix_tokens} prefix + {grid[0]}x{grid[1]} patches). "
                f"Received: tokens.shape={tuple(shape)}. Build the model for this image "
                "size, resample its weights, or build it with dynamic_image_size=True."
            )

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(grid_size=list(self.grid_size), num_prefix_tokens=self.num_prefix_tokens)
        return config


def divide_size(axis, size, stride, received):
    """`size // stride` for an image `axis` ("height" or "width"); a known size
    that `stride` does not divide raises, with `received` ("Received: ...")."""
    if not isinstance(size, int):
        return size // stride
    if size % stride:
        raise ValueError(
            f"Image {axis} {size} is not divisible by {stride}, the pixels per patch "
            f"token of this dynamic-size model (patch_size, times the ResNet stem's "
            f"stride in a hybrid). {received}"
        )
    return size // stride
