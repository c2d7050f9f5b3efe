"""A pretrained input kernel reused beyond its shape: another patch size, other input channels.

Pure NumPy, on kernels in Keras' layout `(height, width, in_channels, out_channels)`, as
the position tables of `keras_vit.utils.resample` are resampled: the loaders call these
for a checkpoint's patch embedding (or a hybrid's root convolution) when the model asks
for another patch size or number of channels.

- `resample_patch_embedding`: FlexiViT's pseudo-inverse resize (Beyer et al., "FlexiViT:
  One Model for All Patch Sizes", CVPR 2023), as big_vision's `resample_patchemb` and
  timm's `resample_patch_embed` compute it.
- `adapt_input_channels`: timm's `adapt_input_conv`, an RGB kernel for 1 or N channels.
"""

import math
import numbers

import numpy as np

from keras_vit.utils.resample import MATRICES

# timm's `resample_patch_embed` resizes with PyTorch's antialiased bicubic
# interpolation; the kernel is resampled so that it sees a patch resized that way
# as the old kernel saw the patch.
PATCH_RESIZE = "bicubic_antialias"


def resample_patch_embedding(kernel, new_patch_size):
    """Resamples a patch-embedding kernel to another patch size (FlexiViT).

    With `B` the linear map that resizes an `(h, w)` patch to `new_patch_size`
    (bicubic, antialiased), the new kernel is `pinv(B^T) w` for each input and
    output channel: a patch resized up by `B` and embedded with the new kernel
    gives the token the old kernel gives the patch itself (exactly when the
    patch grows; the least-squares best when it shrinks). Equal to timm's
    `resample_patch_embed` with its defaults.

    Args:
        kernel: array of shape `(height, width, in_channels, out_channels)`.
        new_patch_size: int or pair of ints. The new `(height, width)`.

    Returns:
        A float32 array of shape `(*new_patch_size, in_channels, out_channels)`.

    Example:

    >>> kernel = np.ones((16, 16, 3, 8), "float32")
    >>> resample_patch_embedding(kernel, 8).shape
    (8, 8, 3, 8)
    """
    kernel = _check_kernel(kernel)
    new_size = _check_patch_size(new_patch_size)
    if tuple(kernel.shape[:2]) == new_size:
        return kernel.astype(np.float32)
    resize = MATRICES[PATCH_RESIZE]
    # The 2D resize is separable, B = rows (x) cols, and so is pinv(B^T).
    rows = np.linalg.pinv(resize(kernel.shape[0], new_size[0]).T)
    cols = np.linalg.pinv(resize(kernel.shape[1], new_size[1]).T)
    return np.einsum("ri,ijco,sj->rsco", rows, kernel.astype(np.float64), cols).astype(np.float32)


def adapt_input_channels(kernel, channels):
    """An RGB input kernel for images of `channels` channels, as timm's `adapt_input_conv`.

    For one channel the three input channels' weights are summed, so that a
    grayscale image gives what its copy in three channels gave; for more (or
    two) they are repeated in RGB order and scaled by `3 / channels`, so that
    the output keeps its scale.

    Args:
        kernel: array of shape `(height, width, 3, out_channels)`.
        channels: int. The input channels of the new kernel.

    Returns:
        A float32 array of shape `(height, width, channels, out_channels)`.

    Example:

    >>> kernel = np.ones((2, 2, 3, 4), "float32")
    >>> adapt_input_channels(kernel, 1)[..., 0].ravel().tolist()
    [3.0, 3.0, 3.0, 3.0]
    """
    kernel = _check_kernel(kernel)
    if isinstance(channels, bool) or not isinstance(channels, numbers.Integral) or channels < 1:
        raise ValueError(f"`channels` must be an int >= 1, the new input channels. Received: channels={channels!r}")
    if kernel.shape[2] == channels:
        return kernel.astype(np.float32)
    if kernel.shape[2] != 3:
        raise ValueError(
            "Only a kernel for RGB images (3 input channels) is adapted to other channels, as timm "
            f"does. Received: kernel.shape={kernel.shape} for channels={channels}"
        )
    kernel = kernel.astype(np.float64)
    if channels == 1:
        return kernel.sum(axis=2, keepdims=True).astype(np.float32)
    repeated = np.tile(kernel, (1, 1, math.ceil(channels / 3), 1))[:, :, :channels]
    return (repeated * (3 / channels)).astype(np.float32)


def adapt_channel_values(values, channels):
    """Per-channel RGB values (a pixel mean or std) for `channels` channels, as the
    kernel is adapted: their mean for one channel, repeated in RGB order for more;
    None (the paper's 0.5) and values of `channels` already stay as they are."""
    if values is None or len(values) == channels or len(values) != 3:
        return values
    if channels == 1:
        return (float(np.mean(values)),)
    return tuple(float(values[index % 3]) for index in range(channels))


def _check_kernel(kernel):
    kernel = np.asarray(kernel)
    if kernel.ndim != 4:
        raise ValueError(
            "`kernel` must be 4-D, (height, width, in_channels, out_channels) as Keras lays out a "
            f"convolution's kernel. Received: kernel.shape={kernel.shape}"
        )
    return kernel


def _check_patch_size(size):
    pair = (size, size) if isinstance(size, numbers.Integral) and not isinstance(size, bool) else size
    if (
        not isinstance(pair, (tuple, list))
        or len(pair) != 2
        or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 1 for v in pair)
    ):
        raise ValueError(
            "`new_patch_size` must be an int >= 1 or a pair (height, width) of them. "
            f"Received: new_patch_size={size!r}"
        )
    return tuple(int(v) for v in pair)
