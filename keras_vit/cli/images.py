"""Image files to a batch of RGB pixels at a model's input size."""

import os
import sys

import numpy as np

# Direct resizing to the input size, as the original code evaluates; PIL's
# bilinear filter also smooths when it shrinks, so downsizing does not alias.
RESAMPLING = "BILINEAR"


def read_images(paths, size):
    """Reads image files into float32 RGB pixels in `[0, 255]`.

    Each image is converted to RGB (grayscale copied to three channels, an
    alpha channel dropped; a note on stderr says so) and resized to `size`
    with PIL's bilinear filter, without keeping the aspect ratio. A folder
    stands for the files in it.

    Args:
        paths: list of str. Image files or folders of them.
        size: pair of ints. `(height, width)`.

    Returns:
        The list of files read, and a float32 array of shape
        `(len(files), height, width, 3)`.
    """
    from PIL import Image

    files = _expand(paths)
    height, width = (int(side) for side in size)
    batch = np.empty((len(files), height, width, 3), dtype="float32")
    for index, path in enumerate(files):
        image = _open(Image, path)
        if image.mode != "RGB":
            what = "alpha channel dropped" if "A" in image.mode else "channels copied"
            print(f"note: {path}: converted {image.mode} to RGB ({what})", file=sys.stderr)
            image = image.convert("RGB")
        resized = image.resize((width, height), getattr(Image.Resampling, RESAMPLING))
        batch[index] = np.asarray(resized, dtype="float32")
    return files, batch


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
