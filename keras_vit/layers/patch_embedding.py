"""Patch embedding: split an image into non-overlapping patches and project each one."""

import keras
from keras import ops

from keras_vit.utils.validation import check_positive_int


@keras.saving.register_keras_serializable(package="keras_vit")
class PatchEmbedding(keras.layers.Layer):
    """Linear projection of flattened image patches (paper Section 3.1, Eq. 1).

    A `patch_size x patch_size` convolution with stride `patch_size` is the same
    linear map as flattening every patch and multiplying by a `(P^2 C, D)` matrix.
    Its kernel has the layout `(P, P, C, D)` of the original checkpoints. The
    feature map is flattened row-major into `N = (H / P) * (W / P)` tokens.

    Args:
        patch_size: int. Side length `P` of the square patches.
        hidden_dim: int. Width `D` of each token.
        **kwargs: Base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        images: Float tensor of shape `(batch, height, width, channels)`, with
            `height` and `width` divisible by `patch_size`.

    Input shape:
        `(batch, height, width, channels)`.

    Output shape:
        `(batch, (height // P) * (width // P), hidden_dim)`.

    Example:

    >>> layer = PatchEmbedding(patch_size=4, hidden_dim=8)
    >>> keras.ops.shape(layer(keras.ops.ones((2, 16, 12, 3))))
    (2, 12, 8)
    """

    def __init__(self, patch_size, hidden_dim, **kwargs):
        super().__init__(**kwargs)
        self.patch_size = check_positive_int("patch_size", patch_size)
        self.hidden_dim = check_positive_int("hidden_dim", hidden_dim)

    def build(self, input_shape):
        self._check_shape(input_shape)
        self.num_channels = input_shape[-1]
        size = self.patch_size
        self.kernel = self.add_weight(
            name="kernel",
            shape=(size, size, self.num_channels, self.hidden_dim),
            initializer="lecun_normal",
        )
        self.bias = self.add_weight(
            name="bias", shape=(self.hidden_dim,), initializer="zeros"
        )

    def call(self, images):
        self._check_shape(images.shape)
        features = ops.conv(
            images, self.kernel, strides=self.patch_size, padding="valid"
        )
        features = features + self.bias
        batch = ops.shape(features)[0]
        return ops.reshape(features, (batch, -1, self.hidden_dim))

    def compute_output_shape(self, input_shape):
        self._check_shape(input_shape)
        height, width = input_shape[1], input_shape[2]
        return (input_shape[0], self._num_patches(height, width), self.hidden_dim)

    def get_config(self):
        config = super().get_config()
        config.update(patch_size=self.patch_size, hidden_dim=self.hidden_dim)
        return config

    def _num_patches(self, height, width):
        if height is None or width is None:
            return None
        return (height // self.patch_size) * (width // self.patch_size)

    def _check_shape(self, shape):
        if len(shape) != 4:
            raise ValueError(
                "PatchEmbedding expects images of shape (batch, height, width, "
                f"channels). Received: images.shape={tuple(shape)}"
            )
        for axis, size in (("height", shape[1]), ("width", shape[2])):
            if not isinstance(size, int) or size % self.patch_size == 0:
                continue  # known only when the graph runs (None, or a symbol in JAX exports)
            raise ValueError(
                f"Image {axis} must be divisible by patch_size={self.patch_size}. "
                f"Received: images.shape={tuple(shape)}"
            )
        built_channels = getattr(self, "num_channels", None)
        if built_channels is not None and shape[-1] != built_channels:
            raise ValueError(
                f"PatchEmbedding was built for images with {built_channels} "
                f"channels. Received: images.shape={tuple(shape)}"
            )
