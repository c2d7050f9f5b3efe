"""Patch embedding: split an image into non-overlapping patches and project each one."""

import keras
from keras import ops

from keras_vit.layers.fast_path import convolve
from keras_vit.utils.validation import check_bool, check_image_size, check_positive_int


@keras.saving.register_keras_serializable(package="keras_vit")
class PatchEmbedding(keras.layers.Layer):
    """Linear projection of flattened image patches (paper Section 3.1, Eq. 1).

    A `patch_size x patch_size` convolution with stride `patch_size` is the same
    linear map as flattening every patch and multiplying by a `(P^2 C, D)` matrix.
    Its kernel has the layout `(P, P, C, D)` of the original checkpoints. The
    feature map is flattened row-major into `N = (H / P) * (W / P)` tokens, or
    kept on its grid with `flatten=False`: keras_vit's builders keep it there,
    so that every layer that lays tokens out on the grid reads the grid of each
    call off this output, as timm reads `(H, W)` off its patch embedding.

    Args:
        patch_size: int. Side length `P` of the square patches.
        hidden_dim: int. Width `D` of each token.
        flatten: bool. Return the tokens `(batch, N, D)`; False returns the
            map `(batch, H / P, W / P, D)`. Defaults to True.
        use_bias: bool. Whether the projection has a bias (CLIP's has none).
            Defaults to True.
        **kwargs: Base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        images: Float tensor of shape `(batch, height, width, channels)`, with
            `height` and `width` divisible by `patch_size`.

    Input shape:
        `(batch, height, width, channels)`.

    Output shape:
        `(batch, (height // P) * (width // P), hidden_dim)`, or
        `(batch, height // P, width // P, hidden_dim)` with `flatten=False`.

    Example:

    >>> layer = PatchEmbedding(patch_size=4, hidden_dim=8)
    >>> keras.ops.shape(layer(keras.ops.ones((2, 16, 12, 3))))
    (2, 12, 8)
    >>> keras.ops.shape(PatchEmbedding(4, 8, flatten=False)(keras.ops.ones((2, 16, 12, 3))))
    (2, 4, 3, 8)
    """

    def __init__(self, patch_size, hidden_dim, flatten=True, use_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.use_bias = check_bool("use_bias", use_bias)
        self.patch_size = check_positive_int("patch_size", patch_size)
        self.hidden_dim = check_positive_int("hidden_dim", hidden_dim)
        self.flatten = check_bool("flatten", flatten)

    def build(self, input_shape):
        self._check_shape(input_shape)
        self.num_channels = input_shape[-1]
        size = self.patch_size
        self.kernel = self.add_weight(
            name="kernel",
            shape=(size, size, self.num_channels, self.hidden_dim),
            initializer="lecun_normal",
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self.hidden_dim,), initializer="zeros")

    def call(self, images):
        self._check_shape(images.shape)
        features = convolve(images, self.kernel, self.patch_size)
        if self.bias is not None:
            features = features + self.bias
        if not self.flatten:
            return features
        batch = ops.shape(features)[0]
        return ops.reshape(features, (batch, -1, self.hidden_dim))

    def compute_output_shape(self, input_shape):
        self._check_shape(input_shape)
        rows, cols = (None if size is None else size // self.patch_size for size in input_shape[1:3])
        if not self.flatten:
            return (input_shape[0], rows, cols, self.hidden_dim)
        return (input_shape[0], None if None in (rows, cols) else rows * cols, self.hidden_dim)

    def get_config(self):
        config = super().get_config()
        config.update(
            patch_size=self.patch_size, hidden_dim=self.hidden_dim, flatten=self.flatten, use_bias=self.use_bias
        )
        return config

    def _check_shape(self, shape):
        if len(shape) != 4:
            raise ValueError(
                "PatchEmbedding expects images of shape (batch, height, width, "
                f"channels). Received: images.shape={tuple(shape)}"
            )
        check_image_size(shape, self.patch_size, f"patch_size={self.patch_size}")
        built_channels = getattr(self, "num_channels", None)
        if built_channels is not None and shape[-1] != built_channels:
            raise ValueError(
                f"PatchEmbedding was built for images with {built_channels} "
                f"channels. Received: images.shape={tuple(shape)}"
            )
