"""Learned position embeddings, and the table the builders pick a kind from."""

import keras
import numpy as np

from keras_vit.utils.resample import resample_position_embedding
from keras_vit.utils.validation import check_grid, check_non_negative_int


@keras.saving.register_keras_serializable(package="keras_vit")
class AddPositionEmbedding(keras.layers.Layer):
    """Adds learned 1D position embeddings to a token sequence (paper Eq. 1, `E_pos`).

    The embedding has shape `(1, num_prefix_tokens + rows * cols, hidden_dim)`:
    one row per prefix token (the class token), then one per patch in row-major
    order. The layer knows its patch grid, so weights trained on another grid
    can be resampled onto it with `set_embedding` (paper Section 3.2).

    Args:
        grid_size: int or pair of ints. The `(rows, cols)` of the patch grid.
        num_prefix_tokens: int. Tokens before the patches (1 with a class token,
            0 without). Defaults to 1.
        **kwargs: Base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        tokens: Float tensor of shape `(batch, num_prefix_tokens + rows * cols,
            hidden_dim)`.

    Input shape:
        `(batch, num_tokens, hidden_dim)`.

    Output shape:
        Same as the input.

    Example:

    >>> layer = AddPositionEmbedding(grid_size=(2, 3))
    >>> keras.ops.shape(layer(keras.ops.zeros((4, 7, 8))))
    (4, 7, 8)
    """

    def __init__(self, grid_size, num_prefix_tokens=1, **kwargs):
        super().__init__(**kwargs)
        self.grid_size = check_grid("grid_size", grid_size)
        self.num_prefix_tokens = check_non_negative_int("num_prefix_tokens", num_prefix_tokens)

    @property
    def num_tokens(self):
        return self.num_prefix_tokens + self.grid_size[0] * self.grid_size[1]

    def build(self, input_shape):
        self._check_shape(input_shape)
        self.embedding = self.add_weight(
            name="embedding",
            shape=(1, self.num_tokens, input_shape[-1]),
            initializer=keras.initializers.RandomNormal(stddev=0.02),
        )

    def call(self, tokens):
        self._check_shape(tokens.shape)
        return tokens + keras.ops.cast(self.embedding, tokens.dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def set_embedding(self, embedding, source_grid=None, method="zoom"):
        """Assigns an embedding trained on any grid, resampling it to this layer's.

        Args:
            embedding: array of shape `(1, num_prefix_tokens + gh * gw, hidden_dim)`.
            source_grid: pair of ints, or None when the source grid is square.
                Defaults to None.
            method: str. `"zoom"` (the original implementation's linear zoom) or
                `"bicubic"`. Defaults to `"zoom"`.
        """
        self.embedding.assign(self.resampled(embedding, source_grid, method))

    def resampled(self, embedding, source_grid=None, method="zoom"):
        """Returns `embedding` resampled to this layer's grid, as a NumPy array.

        Takes the arguments of `set_embedding` and assigns nothing.
        """
        return resample_position_embedding(
            np.asarray(embedding),
            self.grid_size,
            source_grid=source_grid,
            num_prefix_tokens=self.num_prefix_tokens,
            method=method,
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            grid_size=list(self.grid_size), num_prefix_tokens=self.num_prefix_tokens
        )
        return config

    def _check_shape(self, shape):
        if len(shape) != 3 or shape[1] not in (None, self.num_tokens):
            raise ValueError(
                f"AddPositionEmbedding holds {self.num_tokens} positions "
                f"({self.num_prefix_tokens} prefix + {self.grid_size[0]}x"
                f"{self.grid_size[1]} patches). Received: tokens.shape={tuple(shape)}. "
                "Build the model for this image size, or resample the embedding."
            )


@keras.saving.register_keras_serializable(package="keras_vit")
class NoPositionEmbedding(keras.layers.Layer):
    """Leaves the tokens as they are: the paper's "no positional information" (App. D.4).

    Takes the same arguments as `AddPositionEmbedding` so builders can swap them.

    Example:

    >>> keras.ops.shape(NoPositionEmbedding(grid_size=2)(keras.ops.ones((1, 5, 8))))
    (1, 5, 8)
    """

    def __init__(self, grid_size, num_prefix_tokens=1, **kwargs):
        super().__init__(**kwargs)
        self.grid_size = check_grid("grid_size", grid_size)
        self.num_prefix_tokens = check_non_negative_int("num_prefix_tokens", num_prefix_tokens)

    def call(self, tokens):
        return tokens

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            grid_size=list(self.grid_size), num_prefix_tokens=self.num_prefix_tokens
        )
        return config


# The kinds of position embedding a builder can be asked for, by name. The paper's
# 2D and relative kinds (Appendix D.4) are added here, with the same constructor.
POSITION_EMBEDDINGS = {
    "learned_1d": AddPositionEmbedding,
    "none": NoPositionEmbedding,
}
