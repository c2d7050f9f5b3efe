"""Where a model's tokens sit in its input image, and maps from the token grid to pixels."""

import dataclasses

import keras
import numpy as np

from keras_vit.layers.grid import divide_size
from keras_vit.models.vision_transformer import config_of
from keras_vit.utils.resample import linear_weights
from keras_vit.utils.validation import check_grid, check_non_negative_int


@dataclasses.dataclass(frozen=True)
class TokenGrid:
    """The layout of a model's tokens over its input image.

    Args:
        image_size: pair of ints. The model's input `(height, width)` in pixels.
        grid_size: pair of ints. The `(rows, cols)` of the patch-token grid.
        num_prefix_tokens: int. Tokens before the patch tokens (1 for a class
            token, 0 without). Defaults to 1.

    Example:

    >>> TokenGrid(image_size=(32, 48), grid_size=(4, 3)).pixels_per_token
    (8.0, 16.0)
    """

    image_size: tuple
    grid_size: tuple
    num_prefix_tokens: int = 1

    def __post_init__(self):
        object.__setattr__(self, "image_size", check_grid("image_size", self.image_size))
        object.__setattr__(self, "grid_size", check_grid("grid_size", self.grid_size))
        check_non_negative_int("num_prefix_tokens", self.num_prefix_tokens)

    @property
    def num_patches(self):
        return self.grid_size[0] * self.grid_size[1]

    @property
    def num_tokens(self):
        return self.num_prefix_tokens + self.num_patches

    @property
    def pixels_per_token(self):
        """The `(height, width)` in input pixels that one patch token covers."""
        return tuple(float(s) / g for s, g in zip(self.image_size, self.grid_size))


def token_grid(model, image_size=None):
    """Returns the `TokenGrid` of a keras_vit model, plain or hybrid.

    The grid, the prefix tokens and the pixels per token come from the model's
    `ViTConfig` (`keras_vit.models.config_of`), never from the patch size
    alone: in a hybrid model one token covers more pixels than its 1x1 patch. A model
    built with `dynamic_image_size=True` has the grid of the images it is
    called on.

    Args:
        model: keras.Model. A keras_vit model.
        image_size: pair of ints or None. The `(height, width)` of the images,
            for a dynamic-size model; None takes the size its position
            embeddings were built for. A fixed-size model takes only its own.
            Defaults to None.

    Returns:
        A `TokenGrid`.
    """
    config = config_of(model)
    if config.dynamic_image_size:
        stride = config.patch_stride
        image_size = config.image_size if image_size is None else check_grid("image_size", image_size)
        received = f"Received: image_size={image_size}"
        grid = tuple(divide_size(axis, size, stride, received) for axis, size in zip(("height", "width"), image_size))
        return TokenGrid(image_size, grid, config.num_prefix_tokens)
    if image_size is not None and check_grid("image_size", image_size) != config.image_size:
        raise ValueError(
            f"This model takes images of {config.image_size[0]}x{config.image_size[1]} only (built "
            f"without dynamic_image_size). Received: image_size={image_size!r}"
        )
    return TokenGrid(config.image_size, config.grid_size, config.num_prefix_tokens)


def check_images(model, images):
    """Returns `images` as a float32 NumPy batch, or raises if the model cannot take them."""
    images = np.asarray(keras.ops.convert_to_numpy(images), dtype=np.float32)
    expected = tuple(model.input_shape[1:])
    shape_ok = images.ndim == 4 and images.shape[0] > 0 and all(
        want in (None, got) for want, got in zip(expected, images.shape[1:])
    )
    if not shape_ok:
        raise ValueError(
            f"`images` must be a batch of shape (batch, {', '.join(map(str, expected))}) "
            "for this model (add a batch axis for one image, resize others first). "
            f"Received: images.shape={images.shape}"
        )
    if None in expected[:2]:
        token_grid(model, images.shape[1:3])  # sizes the patch stride does not divide
    return images


def upsample(maps, size):
    """Resizes maps over the token grid to `size` pixels, bilinearly.

    Each output pixel takes the linear interpolation, along rows then columns,
    of the four nearest map cells, with cell and pixel centres aligned as in
    `PIL.Image.resize(..., BILINEAR)` and `keras.ops.image.resize(...,
    "bilinear", antialias=False)`; beyond the outermost cell centres the edge
    value is held. A constant map stays constant.

    Args:
        maps: array of shape `(..., rows, cols)`.
        size: pair of ints. The output `(height, width)`.

    Returns:
        A float32 array of shape `(..., height, width)`.

    Example:

    >>> upsample(np.array([[0.0, 1.0]]), (1, 4)).tolist()
    [[0.0, 0.25, 0.75, 1.0]]
    """
    maps = np.asarray(maps, dtype=np.float32)
    if maps.ndim < 2:
        raise ValueError(
            f"`maps` must have shape (..., rows, cols). Received: maps.shape={maps.shape}"
        )
    height, width = check_grid("size", size)
    rows = _interpolation(maps.shape[-2], height)
    cols = _interpolation(maps.shape[-1], width)
    return np.einsum("ir,...rc,jc->...ij", rows, maps, cols).astype(np.float32)


def _interpolation(size_in, size_out):
    """The `(size_out, size_in)` matrix of linear interpolation weights, half-pixel centres."""
    position = (np.arange(size_out) + 0.5) * size_in / size_out - 0.5
    return linear_weights(np.clip(position, 0, size_in - 1), size_in)
