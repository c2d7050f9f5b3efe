"""What masked patch prediction predicts for each patch (paper Appendix B.1.2).

The paper tries three targets: the patch's mean colour quantised to 3 bits per
channel (one of 512 classes), a 4x4 downsized patch in the same 3-bit colours
(16 predictions of 512 classes), and the full patch's pixels, regressed with an
L2 loss. Every helper here takes RGB images in `[0, 255]` and cuts them into
patches in the order of `keras_vit.layers.PatchEmbedding`'s tokens (row-major).
"""

from keras import ops

from keras_vit.preprocessing import OFFSET, SCALE
from keras_vit.utils.validation import check_grid, check_positive_int

TARGETS = ("mean_color", "downsampled_color", "pixels")

# 3 bits per channel: 8 levels of 32 values each, 8**3 colours.
COLOR_BITS = 3
NUM_COLORS = 2 ** (3 * COLOR_BITS)
_LEVELS = 2**COLOR_BITS
_LEVEL_WIDTH = 256 // _LEVELS


def image_patches(images, patch_size):
    """Cuts images into non-overlapping patches, in the order of the patch tokens.

    Args:
        images: tensor or array `(batch, height, width, channels)`.
        patch_size: int or pair of ints. The patch `(height, width)` in pixels;
            it must divide the image's.

    Returns:
        A float32 tensor `(batch, num_patches, patch_height, patch_width,
        channels)`, patches in row-major order.
    """
    images = ops.cast(ops.convert_to_tensor(images), "float32")
    rows, cols = _check_images(images, patch_size)
    patch_height, patch_width = check_grid("patch_size", patch_size)
    channels = images.shape[-1]
    patches = ops.reshape(images, (-1, rows, patch_height, cols, patch_width, channels))
    patches = ops.transpose(patches, (0, 1, 3, 2, 4, 5))
    return ops.reshape(patches, (-1, rows * cols, patch_height, patch_width, channels))


def color_index(colors):
    """Quantises RGB colours in `[0, 255]` to 3 bits per channel: one of 512 classes.

    Each channel's level is `min(7, floor(value / 32))` (values outside
    `[0, 255]` are clipped to the nearest level) and the class is
    `64 * red + 8 * green + blue`.

    Args:
        colors: tensor `(..., 3)` of RGB values in `[0, 255]`.

    Returns:
        An int32 tensor `(...)` in `[0, 512)`.

    Example:

    >>> keras.ops.convert_to_numpy(color_index([[0, 0, 0], [255, 31, 32]])).tolist()
    [0, 449]
    """
    levels = ops.clip(ops.floor(ops.cast(colors, "float32") / _LEVEL_WIDTH), 0, _LEVELS - 1)
    levels = ops.cast(levels, "int32")
    return _LEVELS**2 * levels[..., 0] + _LEVELS * levels[..., 1] + levels[..., 2]


def mean_color_targets(images, patch_size):
    """The class of each patch's mean colour, quantised to 3 bits per channel.

    The paper's main masked-patch-prediction target (Appendix B.1.2): the
    patch's mean red, green and blue in `[0, 255]` each fall into one of 8
    levels of 32 values, and the class is `64 * red + 8 * green + blue`.

    Args:
        images: tensor or array `(batch, height, width, 3)` of RGB values in
            `[0, 255]`.
        patch_size: int or pair of ints. The patch side in pixels: for a hybrid
            model, the pixels one token covers (stem stride times patch size).

    Returns:
        An int32 tensor `(batch, num_patches)` in `[0, 512)`.

    Example:

    >>> import numpy as np
    >>> images = np.zeros((1, 4, 8, 3), "float32")
    >>> images[:, :, 4:] = (255, 128, 40)   # the right patch
    >>> keras.ops.convert_to_numpy(mean_color_targets(images, 4)).tolist()
    [[0, 481]]
    """
    images = _rgb(images)
    return color_index(ops.mean(image_patches(images, patch_size), axis=(2, 3)))


def downsampled_color_targets(images, patch_size, cells=4):
    """The 3-bit colour classes of each patch downsized to `cells x cells`.

    The paper's second target (Appendix B.1.2): each patch is averaged down to
    a 4x4 grid of cells, each cell's mean colour quantised as in
    `mean_color_targets`, giving 16 predictions of 512 classes per patch.

    Args:
        images: tensor or array `(batch, height, width, 3)` of RGB values in
            `[0, 255]`.
        patch_size: int or pair of ints. The patch side in pixels, divisible
            by `cells`.
        cells: int. Cells per side of the downsized patch. Defaults to 4.

    Returns:
        An int32 tensor `(batch, num_patches, cells * cells)` in `[0, 512)`,
        each patch's cells in row-major order.

    Example:

    >>> import numpy as np
    >>> images = np.zeros((1, 8, 8, 3), "float32")
    >>> images[:, :2, :2] = 255   # the top-left cell of the only patch
    >>> keras.ops.convert_to_numpy(downsampled_color_targets(images, 8))[0, 0, :3].tolist()
    [511, 0, 0]
    """
    images = _rgb(images)
    cells = check_positive_int("cells", cells)
    patch_height, patch_width = check_grid("patch_size", patch_size)
    if patch_height % cells or patch_width % cells:
        raise ValueError(
            f"`patch_size` must be divisible by cells={cells}, to downsize each patch to "
            f"{cells}x{cells}. Received: patch_size={patch_size!r}"
        )
    patches = image_patches(images, patch_size)
    shape = (-1, patches.shape[1], cells, patch_height // cells, cells, patch_width // cells, 3)
    means = ops.mean(ops.reshape(patches, shape), axis=(3, 5))
    return color_index(ops.reshape(means, (-1, patches.shape[1], cells * cells, 3)))


def pixel_targets(images, patch_size):
    """Each patch's pixels in `[-1, 1]`, flattened: the paper's L2 regression target.

    Args:
        images: tensor or array `(batch, height, width, channels)` of values in
            `[0, 255]`.
        patch_size: int or pair of ints. The patch side in pixels.

    Returns:
        A float32 tensor `(batch, num_patches, patch_height * patch_width *
        channels)`, each patch's pixels row-major with channels last.

    Example:

    >>> import numpy as np
    >>> targets = pixel_targets(np.full((1, 4, 4, 3), 255.0), 2)
    >>> keras.ops.shape(targets), float(keras.ops.max(targets))
    ((1, 4, 12), 1.0)
    """
    patches = image_patches(images, patch_size)
    _, num_patches, height, width, channels = patches.shape
    return ops.reshape(patches, (-1, num_patches, height * width * channels)) * SCALE + OFFSET


def _check_images(images, patch_size):
    patch_height, patch_width = check_grid("patch_size", patch_size)
    if len(images.shape) != 4:
        raise ValueError(
            "`images` must have shape (batch, height, width, channels). "
            f"Received: images.shape={tuple(images.shape)}"
        )
    height, width = images.shape[1:3]
    if height is None or width is None or height % patch_height or width % patch_width:
        raise ValueError(
            f"`images` must have a fixed height and width divisible by patch_size={patch_size!r}. "
            f"Received: images.shape={tuple(images.shape)}"
        )
    return height // patch_height, width // patch_width


def _rgb(images):
    images = ops.convert_to_tensor(images)
    if len(images.shape) != 4 or images.shape[-1] != 3:
        raise ValueError(
            "Colour targets need RGB images of shape (batch, height, width, 3). "
            f"Received: images.shape={tuple(images.shape)}"
        )
    return images
