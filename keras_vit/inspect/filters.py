"""Principal components of the RGB embedding filters (paper Figure 7, left)."""

import keras
import numpy as np

from keras_vit.layers import names
from keras_vit.utils.validation import check_positive_int


def embedding_filters(model, n=28):
    """The first `n` principal components of the model's filters on RGB pixels.

    For a plain ViT these are the patch-embedding filters, kernel `(P, P, C, D)`
    (the paper's Figure 7 shows those of ViT-L/32). A hybrid model embeds 1x1
    patches of a ResNet feature map, so its filters on RGB pixels are those of
    the stem's first convolution: when the model has a layer named `conv_root`,
    its kernel `(7, 7, C, width)` is used instead, as stored (before any weight
    standardisation). See `principal_components` for the computation.

    Args:
        model: keras.Model. A keras_vit model, plain or hybrid.
        n: int. How many components. Defaults to 28, as in the paper.

    Returns:
        A float32 array `(n, kernel_height, kernel_width, channels)`.

    Example:

    >>> model = keras_vit.ViT(image_size=16, patch_size=4, hidden_dim=32,
    ...                       num_layers=1, num_heads=2, mlp_dim=16)
    >>> embedding_filters(model, n=5).shape
    (5, 4, 4, 3)
    """
    return principal_components(filter_kernel(model), n)


def filter_kernel(model):
    """The kernel `embedding_filters` decomposes: `conv_root`'s if any, else the patch embedding's.

    Args:
        model: keras.Model. A keras_vit model, plain or hybrid.

    Returns:
        A float32 NumPy array `(height, width, channels, filters)`.
    """
    layer = names.find_layer(model, names.ROOT_CONV)
    if layer is None:
        layer = names.find_layer(model, names.PATCH_EMBEDDING)
    kernel = getattr(layer, "kernel", None)
    if kernel is None or len(kernel.shape) != 4:
        raise ValueError(
            "`model` has no 'conv_root' or 'embedding' layer with a convolution "
            f"kernel: pass a model built by keras_vit. Received: model.name={model.name!r}"
        )
    return keras.ops.convert_to_numpy(kernel.value).astype(np.float32)


def principal_components(kernel, n=28):
    """The first `n` principal components of a convolution's filters.

    Each of the `filters` output channels is one sample, a vector of
    `height * width * channels` values. The samples are centred on their mean
    and the components are the right singular vectors of that matrix, by
    decreasing singular value, reshaped to `(height, width, channels)`. A
    component's sign is arbitrary; it is fixed so that its entry of largest
    magnitude is positive.

    Args:
        kernel: array `(height, width, channels, filters)`.
        n: int. How many components; at most the smaller of `filters` and
            `height * width * channels`. Defaults to 28.

    Returns:
        A float32 array `(n, height, width, channels)` of unit-norm components.

    Example:

    >>> kernel = np.zeros((1, 2, 1, 3)); kernel[0, 0, 0] = [1.0, -1.0, 0.0]
    >>> principal_components(kernel, n=1).tolist()
    [[[[1.0], [0.0]]]]
    """
    kernel = np.asarray(kernel, dtype=np.float64)
    if kernel.ndim != 4:
        raise ValueError(
            "`kernel` must have shape (height, width, channels, filters). "
            f"Received: kernel.shape={kernel.shape}"
        )
    samples = kernel.reshape(-1, kernel.shape[-1]).T
    check_positive_int("n", n)
    if n > min(samples.shape):
        raise ValueError(
            f"`n` can be at most {min(samples.shape)} for a kernel of shape "
            f"{kernel.shape}. Received: n={n}"
        )
    samples = samples - samples.mean(axis=0)
    components = np.linalg.svd(samples, full_matrices=False)[2][:n]
    largest = np.abs(components).argmax(axis=1)
    components *= np.sign(components[np.arange(n), largest])[:, None]
    return components.reshape(n, *kernel.shape[:3]).astype(np.float32)
