"""Position embeddings added to the tokens (paper Eq. 1 and Appendix D.4), and their kinds.

Four kinds are layers added to the token sequence: none, learned 1D, learned
2D (`POSITION_EMBEDDINGS`) and big_vision's fixed 2D sin-cos. The fifth, 1D
relative attention, lives inside attention
(`MultiHeadSelfAttention(relative_position_tokens=...)`). Builders add the
learned kinds once after the stem, or before every Transformer block
(`POSITION_EMBEDDING_PLACEMENTS`); the others only after the stem.
"""

import keras
import numpy as np

from keras_vit.layers.grid import GridLayer
from keras_vit.layers.interpolation import resize_axis_table, resize_grid_table, same_grid
from keras_vit.utils.resample import METHODS, resample_axis_table, resample_position_embedding
from keras_vit.utils.validation import check_choice


class _PositionLayer(GridLayer):
    """What every position-embedding layer shares: its patch grid, prefix tokens,
    and for a dynamic-size model how its tables follow the grid of each call."""

    def __init__(self, grid_size, num_prefix_tokens=1, resample_method="zoom", **kwargs):
        super().__init__(grid_size, num_prefix_tokens, **kwargs)
        self.resample_method = check_choice("resample_method", resample_method, METHODS)

    def table(self):
        """The embedding added to each token at the built grid, as a NumPy array
        `(num_tokens, hidden_dim)`; None for a layer that adds nothing."""
        return None

    def get_config(self):
        config = super().get_config()
        config.update(resample_method=self.resample_method)
        return config


@keras.saving.register_keras_serializable(package="keras_vit")
class AddPositionEmbedding(_PositionLayer):
    """Adds learned 1D position embeddings to a token sequence (paper Eq. 1, `E_pos`).

    The embedding has shape `(1, num_prefix_tokens + rows * cols, hidden_dim)`:
    one row per prefix token (the class token), then one per patch in row-major
    order. The layer knows its patch grid, so weights trained on another grid
    can be resampled onto it with `set_embedding` (paper Section 3.2): the
    patch rows are laid out on their grid and interpolated in 2D, the prefix
    rows kept.

    Args:
        grid_size: int or pair of ints. The `(rows, cols)` of the patch grid.
        num_prefix_tokens: int. Tokens before the patches (1 with a class token,
            0 without). Defaults to 1.
        resample_method: str. How the embedding is resampled inside the graph
            to a `grid` other than `grid_size`: `"zoom"` (the original's
            linear zoom) or `"bicubic"`, as at load time. Defaults to `"zoom"`.
        **kwargs: Base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        tokens: Float tensor of shape `(batch, num_prefix_tokens + rows * cols,
            hidden_dim)`.
        grid: Optional. The patch embedding's output on its grid, `(batch,
            rows, cols, hidden_dim)`, in a model built with
            `dynamic_image_size=True`: the embedding is resampled to its
            `(rows, cols)` when they are not `grid_size`.

    Input shape:
        `(batch, num_tokens, hidden_dim)`.

    Output shape:
        Same as the input.

    Example:

    >>> layer = AddPositionEmbedding(grid_size=(2, 3))
    >>> keras.ops.shape(layer(keras.ops.zeros((4, 7, 8))))
    (4, 7, 8)
    """

    def build(self, tokens_shape, grid_shape=None):
        self.check_input_shape(tokens_shape, grid_shape)
        self.embedding = self.add_weight(
            name="embedding",
            shape=(1, self.num_tokens, tokens_shape[-1]),
            initializer=keras.initializers.RandomNormal(stddev=0.02),
        )

    def call(self, tokens, grid=None):
        grid = self.call_grid(tokens, grid)
        embedding = self.embedding
        if not same_grid(grid, self.grid_size):
            prefix, patches = embedding[0, : self.num_prefix_tokens], embedding[0, self.num_prefix_tokens :]
            patches = resize_grid_table(patches, self.grid_size, grid, self.resample_method)
            embedding = keras.ops.concatenate([prefix, patches], axis=0)[None]
        return tokens + keras.ops.cast(embedding, tokens.dtype)

    def table(self):
        return keras.ops.convert_to_numpy(self.embedding.value)[0]

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

    def resample_weight(self, name, array, method="zoom"):
        """`array`, a value for this layer's weight `name` trained on another
        (square) grid, resampled to this layer's grid; used by the loaders."""
        return self.resampled(array, method=method)


@keras.saving.register_keras_serializable(package="keras_vit")
class AddPositionEmbedding2D(_PositionLayer):
    """Adds learned 2D position embeddings (paper Appendix D.4, "2-dimensional").

    Two tables of width `hidden_dim / 2` are learned: a row (Y) embedding
    `row_embedding` of shape `(rows, hidden_dim / 2)` and a column (X) embedding
    `column_embedding` of shape `(cols, hidden_dim / 2)`. The patch at
    `(row, col)` gets `concat(row_embedding[row], column_embedding[col])`: the
    row half first, then the column half. The prefix tokens (the class token)
    get their own learned rows, `prefix_embedding` of shape
    `(num_prefix_tokens, hidden_dim)` (no weight without prefix tokens).

    Weights trained on another grid load by resampling each table along its
    own axis (`resample_weight`), with the methods of the 1D embedding.

    Args:
        grid_size: int or pair of ints. The `(rows, cols)` of the patch grid.
        num_prefix_tokens: int. Tokens before the patches. Defaults to 1.
        resample_method: str. `"zoom"` or `"bicubic"`, for each table resampled
            inside the graph to a `grid` other than `grid_size`. Defaults to `"zoom"`.
        **kwargs: Base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        tokens: Float tensor of shape `(batch, num_prefix_tokens + rows * cols,
            hidden_dim)`, with an even `hidden_dim`.
        grid: Optional. The patch embedding's output on its grid, as for
            `AddPositionEmbedding`.

    Input shape:
        `(batch, num_tokens, hidden_dim)`.

    Output shape:
        Same as the input.

    Example:

    >>> layer = AddPositionEmbedding2D(grid_size=(2, 3))
    >>> keras.ops.shape(layer(keras.ops.zeros((4, 7, 8))))
    (4, 7, 8)
    >>> tuple(layer.row_embedding.shape), tuple(layer.column_embedding.shape)
    ((2, 4), (3, 4))
    """

    def build(self, tokens_shape, grid_shape=None):
        self.check_input_shape(tokens_shape, grid_shape)
        hidden_dim = tokens_shape[-1]
        if hidden_dim is None or hidden_dim % 2:
            raise ValueError(
                "The 2D position embedding splits the token width in a row half and a "
                f"column half: `hidden_dim` must be even. Received: hidden_dim={hidden_dim}"
            )
        initializer = keras.initializers.RandomNormal(stddev=0.02)
        rows, cols = self.grid_size
        self.row_embedding = self.add_weight(
            name="row_embedding", shape=(rows, hidden_dim // 2), initializer=initializer
        )
        self.column_embedding = self.add_weight(
            name="column_embedding", shape=(cols, hidden_dim // 2), initializer=initializer
        )
        self.prefix_embedding = None
        if self.num_prefix_tokens:
            self.prefix_embedding = self.add_weight(
                name="prefix_embedding",
                shape=(self.num_prefix_tokens, hidden_dim),
                initializer=initializer,
            )

    def call(self, tokens, grid=None):
        grid = self.call_grid(tokens, grid)
        return tokens + keras.ops.cast(self._composed(grid), tokens.dtype)[None]

    def _composed(self, grid=None):
        ops = keras.ops
        rows, cols = grid or self.grid_size
        row_table = resize_axis_table(self.row_embedding, rows, self.resample_method)
        column_table = resize_axis_table(self.column_embedding, cols, self.resample_method)
        half = self.row_embedding.shape[-1]
        row_part = ops.broadcast_to(ops.expand_dims(row_table, 1), (rows, cols, half))
        column_part = ops.broadcast_to(ops.expand_dims(column_table, 0), (rows, cols, half))
        patches = ops.reshape(ops.concatenate([row_part, column_part], axis=-1), (-1, 2 * half))
        if self.prefix_embedding is None:
            return patches
        return ops.concatenate([ops.convert_to_tensor(self.prefix_embedding), patches], axis=0)

    def table(self):
        return keras.ops.convert_to_numpy(self._composed())

    def resample_weight(self, name, array, method="zoom"):
        """`array`, a value for weight `name` trained on another grid, resized to
        this layer's: the row table to its rows, the column table to its columns."""
        sizes = {"row_embedding": self.grid_size[0], "column_embedding": self.grid_size[1]}
        if name not in sizes:
            raise ValueError(f"{name!r} of {type(self).__name__} cannot be resampled.")
        return resample_axis_table(array, sizes[name], method=method)


@keras.saving.register_keras_serializable(package="keras_vit")
class NoPositionEmbedding(_PositionLayer):
    """Leaves the tokens as they are: the paper's "no positional information" (App. D.4).

    Takes the same arguments as `AddPositionEmbedding` so builders can swap
    them; it also stands after the stem of models whose position embeddings
    sit in every block or inside attention, where it records the grid.

    Example:

    >>> keras.ops.shape(NoPositionEmbedding(grid_size=2)(keras.ops.ones((1, 5, 8))))
    (1, 5, 8)
    """

    def call(self, tokens, grid=None):
        self.call_grid(tokens, grid)
        return tokens


@keras.saving.register_keras_serializable(package="keras_vit")
class AddSinCosPositionEmbedding2D(_PositionLayer):
    """Adds fixed 2D sine-cosine position embeddings, as big_vision's `posemb_sincos_2d`.

    Nothing is learned. For a token width `D` (a multiple of 4, at least 8)
    the layer takes `D / 4` frequencies `omega = 1 / 10000 ** (arange(D / 4) /
    (D / 4 - 1))`, and the patch in row `y`, column `x` gets
    `concat(sin(x * omega), cos(x * omega), sin(y * omega), cos(y * omega))`:
    the column's quarters first, then the row's. The prefix tokens (the class
    token) get zeros, as big_vision adds the embedding before prepending its
    class token. The table is computed for the grid of each call, so a model
    built with `dynamic_image_size=True` needs no resampling: at any size it
    computes what a model built for that size computes.

    Args:
        grid_size: int or pair of ints. The `(rows, cols)` of the patch grid.
        num_prefix_tokens: int. Tokens before the patches. Defaults to 1.
        resample_method: str. Unused (nothing is resampled); taken so that
            builders can swap the kinds. Defaults to `"zoom"`.
        **kwargs: Base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        tokens: Float tensor of shape `(batch, num_prefix_tokens + rows * cols,
            hidden_dim)`.
        grid: Optional. The patch embedding's output on its grid, as for
            `AddPositionEmbedding`: the table is computed for its `(rows, cols)`.

    Input shape:
        `(batch, num_tokens, hidden_dim)`.

    Output shape:
        Same as the input.

    Example:

    >>> layer = AddSinCosPositionEmbedding2D(grid_size=(2, 3))
    >>> keras.ops.shape(layer(keras.ops.zeros((4, 7, 8))))
    (4, 7, 8)
    >>> layer.weights
    []
    """

    def build(self, tokens_shape, grid_shape=None):
        self.check_input_shape(tokens_shape, grid_shape)
        self._width = check_sincos_width("hidden_dim", tokens_shape[-1])

    def call(self, tokens, grid=None):
        rows, cols = self.call_grid(tokens, grid)
        table = sincos_2d_table(rows, cols, tokens.shape[-1], self.num_prefix_tokens)
        return tokens + keras.ops.cast(table, tokens.dtype)[None]

    def table(self):
        return keras.ops.convert_to_numpy(sincos_2d_table(*self.grid_size, self._width, self.num_prefix_tokens))


def check_sincos_width(name, width):
    """Returns `width` if the 2D sin-cos embedding can split it, else raises a `ValueError`."""
    if width is None or width % 4 or width < 8:
        raise ValueError(
            "position_embedding='sincos_2d' gives a quarter of each token to each of sin "
            "and cos of the column and of the row, over D / 4 - 1 > 0 frequency steps: "
            f"`{name}` must be a multiple of 4, at least 8. Received: {name}={width}"
        )
    return width


def sincos_2d_table(rows, cols, width, num_prefix_tokens=0):
    """big_vision's `posemb_sincos_2d` for a `rows x cols` grid, as a
    `(num_prefix_tokens + rows * cols, width)` float32 tensor with zero prefix
    rows. `rows` and `cols` may be scalar tensors (a grid known at call time)."""
    ops = keras.ops
    quarter = width // 4
    # The frequencies depend on the width only: computed once in float64.
    omega = ops.convert_to_tensor((1.0 / 10_000 ** (np.arange(quarter) / (quarter - 1))).astype("float32"))
    y = ops.broadcast_to(ops.expand_dims(ops.arange(rows, dtype="float32"), 1), (rows, cols))
    x = ops.broadcast_to(ops.expand_dims(ops.arange(cols, dtype="float32"), 0), (rows, cols))
    y = ops.reshape(y, (-1, 1)) * omega[None]
    x = ops.reshape(x, (-1, 1)) * omega[None]
    table = ops.concatenate([ops.sin(x), ops.cos(x), ops.sin(y), ops.cos(y)], axis=-1)
    if not num_prefix_tokens:
        return table
    return ops.concatenate([ops.zeros((num_prefix_tokens, width), "float32"), table], axis=0)


# Every kind a builder takes (`position_embedding=`), and the layer it puts on the
# token sequence. "relative" adds nothing there: it is computed inside attention.
# "sincos_2d" is big_vision's fixed embedding, beyond the paper's ablation.
POSITION_EMBEDDINGS = {
    "none": NoPositionEmbedding,
    "learned_1d": AddPositionEmbedding,
    "learned_2d": AddPositionEmbedding2D,
    "relative": NoPositionEmbedding,
    "sincos_2d": AddSinCosPositionEmbedding2D,
}
POSITION_EMBEDDING_KINDS = tuple(POSITION_EMBEDDINGS)
# The kinds that add a learned table to the tokens, and where that table goes
# (`position_embedding_placement=`): once after the stem, a separate table
# before every block, or one table shared by every block. The others take "stem".
LEARNED_KINDS = ("learned_1d", "learned_2d")
POSITION_EMBEDDING_PLACEMENTS = ("stem", "every_layer", "every_layer_shared")
