"""The kernel that takes a model's images, fitted from a checkpoint of another patch
size (FlexiViT) or for images of other channels (timm's `adapt_input_conv`).

Only the first convolution is adapted: the patch embedding of a plain ViT (its patch
size and its input channels), a hybrid's or BiT's root convolution (its input
channels) and a hybrid's patch embedding (its patch size; its input is the stem's).
Every other kernel of another shape is a mismatch the loader refuses.
"""

from keras_vit.layers import names
from keras_vit.utils.kernels import adapt_input_channels, resample_patch_embedding

PATCH_KERNEL = f"{names.PATCH_EMBEDDING}/kernel"
ROOT_KERNEL = f"{names.ROOT_CONV}/kernel"


def is_input_kernel(path):
    """Whether the weight at `path` is one `fit_input_kernel` may change."""
    return path in (PATCH_KERNEL, ROOT_KERNEL)


def fit_input_kernel(path, array, shape, has_root):
    """A checkpoint's `array` for the input kernel at `path` of the model's `shape`.

    Args:
        path: str. `PATCH_KERNEL` or `ROOT_KERNEL`.
        array: NumPy array `(height, width, in_channels, out_channels)`.
        shape: tuple. The model's kernel shape.
        has_root: bool. Whether the model has a root convolution before the
            patch embedding (whose input channels are then the stem's).

    Returns:
        `(kernel, notes)`: the fitted float32 kernel and one line per change.

    Raises:
        ValueError: the shapes differ in more than what `path` may change;
            says what.
    """
    shape = tuple(int(v) for v in shape)
    takes_images = path == ROOT_KERNEL or not has_root
    spatial_ok = path == PATCH_KERNEL or tuple(array.shape[:2]) == shape[:2]
    channels_ok = takes_images or array.shape[2] == shape[2]
    if array.ndim != 4 or array.shape[3] != shape[3] or not spatial_ok or not channels_ok:
        raise ValueError("only the patch size and the images' channels are adapted")
    notes = []
    if array.shape[2] != shape[2]:
        array = adapt_input_channels(array, shape[2])
        how = "summed" if shape[2] == 1 else f"repeated, scaled by 3/{shape[2]}"
        notes.append(f"{path} adapted from 3 to {shape[2]} input channels ({how}, as timm's adapt_input_conv)")
    if tuple(array.shape[:2]) != shape[:2]:
        old = "x".join(str(v) for v in array.shape[:2])
        array = resample_patch_embedding(array, shape[:2])
        notes.append(
            f"{path} resampled from {old} to {shape[0]}x{shape[1]} patches (FlexiViT's pseudo-inverse resize)"
        )
    return array, notes
