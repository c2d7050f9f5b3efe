"""The default data set: scikit-learn's handwritten digits, upscaled, as RGB or grayscale images.

1,797 real 8x8 scans of handwritten digits (UCI "optdigits", shipped inside
scikit-learn), so a model can be trained and tested with no network at all.
"""

import numpy as np

from keras_vit.data.source import stratified_split
from keras_vit.utils.validation import check_positive_int

CLASS_NAMES = tuple(str(digit) for digit in range(10))


def load_digits(image_size=32, seed=0, channels=3):
    """Returns the digits as uint8 images, split into train/validation/test.

    The 8x8 scans (ink 0..16) are scaled to 0..255 and resized bilinearly to
    `image_size`. The split is stratified by class and fixed by `seed`:
    1,258 / 179 / 360 images.

    Args:
        image_size: int. Side of the square output images. Defaults to 32.
        seed: int. Seed of the split. Defaults to 0.
        channels: int. The gray scans copied into this many channels: 3 for
            RGB, 1 for grayscale. Defaults to 3.

    Returns:
        A dict from split name to `(images, labels)`: uint8 arrays of shape
        `(n, image_size, image_size, channels)` and int32 arrays of shape `(n,)`.

    Example:

    >>> splits = load_digits(image_size=16)
    >>> {name: images.shape for name, (images, _) in splits.items()}["test"]
    (360, 16, 16, 3)
    """
    from sklearn.datasets import load_digits as sklearn_digits

    image_size = check_positive_int("image_size", image_size)
    channels = check_positive_int("channels", channels)
    digits = sklearn_digits()
    pixels = np.round(digits.images * (255.0 / 16.0)).astype("uint8")
    images = np.stack([_resize(image, image_size) for image in pixels])
    images = np.repeat(images[..., None], channels, axis=-1)
    labels = digits.target.astype("int32")
    return {name: (images[index], labels[index]) for name, index in stratified_split(labels, seed).items()}


def _resize(image, size):
    from PIL import Image

    return np.asarray(Image.fromarray(image).resize((size, size), Image.BILINEAR))

