"""Image files to a batch of RGB pixels at a model's input size."""

import os
import sys

import numpy as np

# Direct resizing to the input size, as the original code evaluates; PIL's
# bilinear filter also smooths when it shrinks, so downsizing does not alias.
RESAMPLING = "BILINEAR"


def open_images(paths):
    """Opens image files as RGB PIL images, before any model is loaded.

    Grayscale is copied to three channels and an alpha channel dropped, with
    a note on stderr. A folder stands for the files in it.

    Args:
        paths: list of str. Image files or folders of them.

    Returns:
        The list of files, and the list of their RGB images.
    """
    from PIL import Image

    files = _expand(paths)
    images = []
    for path in files:
        image = _open(Image, path)
        if image.mode != "RGB":
            what = "alpha channel dropped" if "A" in image.mode else "channels copied"
            print(f"note: {path}: converted {image.mode} to RGB ({what})", file=sys.stderr)
            image = image.convert("RGB")
        images.append(image)
    return files, images


def to_batch(images, size):
    """Resizes RGB PIL images to `size` = `(height, width)`, without keeping the aspect ratio.

    Returns:
        float32 array of shape `(len(images), height, width, 3)`, values in `[0, 255]`.
    """
    from PIL import Image

    height, width = (int(side) for side in size)
    batch = np.empty((len(images), height, width, 3), dtype="float32")
    for index, image in enumerate(images):
        resized = image.resize((width, height), getattr(Image.Resampling, RESAMPLING))
        batch[index] = np.asarray(resized, dtype="float32")
    return batch


def read_images(paths, size):
    """`open_images` then `to_batch`: the files and their float32 RGB pixels."""
    files, images = open_images(paths)
    return files, to_batch(images, size)


def _expand(paths):
    files = []
    for path in paths:
        if os.path.isdir(path):
            files += sorted(os.path.join(path, name) for name in os.listdir(path) if not name.startswith("."))
        elif os.path.isfile(path):
            files.append(path)
        else:
            raise ValueError(f"No such image file: {path}")
    if not files:
        raise ValueError(f"No image files in {', '.join(paths)}")
    return files


def _open(Image, path):
    try:
        image = Image.open(path)
        image.load()
    except (Image.UnidentifiedImageError, OSError, SyntaxError) as error:
        raise ValueError(f"{path} is not an image that PIL can read: {error}") from error
    return image
