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
    a note on stderr. A folder stands for the images in it and in its
    sub-folders (an image folder with a sub-folder per class, say), in sorted
    order: its other files are skipped with a note, while a file named on its
    own must be an image.

    Args:
        paths: list of str. Image files or folders of them.

    Returns:
        The list of files, and the list of their RGB images.
    """
    from PIL import Image

    files, images = [], []
    for path, in_folder in _expand(paths):
        try:
            image = _open(Image, path)
        except ValueError as error:
            if not in_folder:
                raise
            print(f"note: skipped {path}: {error.__cause__ or error}", file=sys.stderr)
            continue
        files.append(path)
        if image.mode != "RGB":
            what = "alpha channel dropped" if "A" in image.mode else "channels copied"
            print(f"note: {path}: converted {image.mode} to RGB ({what})", file=sys.stderr)
            image = image.convert("RGB")
        images.append(image)
    if not files:
        raise ValueError(f"No image files in {', '.join(paths)}")
    return files, images


def to_batch(images, size, channels=3):
    """Resizes RGB PIL images to `size` = `(height, width)`, without keeping the aspect ratio.

    For a model of one input channel the images are made gray (a grayscale
    file, copied into RGB on opening, gets its own values back).

    Returns:
        float32 array of shape `(len(images), height, width, channels)`, values in `[0, 255]`.
    """
    from PIL import Image

    if channels not in (1, 3):
        raise ValueError(f"The model takes images of {channels} channels; image files give 1 (gray) or 3 (RGB).")
    height, width = (int(side) for side in size)
    batch = np.empty((len(images), height, width, channels), dtype="float32")
    for index, image in enumerate(images):
        resized = image.resize((width, height), getattr(Image.Resampling, RESAMPLING))
        if channels == 1:
            resized = resized.convert("L")
        batch[index] = np.asarray(resized, dtype="float32").reshape(height, width, channels)
    return batch


def read_images(paths, size):
    """`open_images` then `to_batch`: the files and their float32 RGB pixels."""
    files, images = open_images(paths)
    return files, to_batch(images, size)


def _expand(paths):
    """`(file, whether it came from a folder)` for every file the paths name."""
    files = []
    for path in paths:
        if os.path.isdir(path):
            files += [(name, True) for name in _folder_files(path)]
        elif os.path.isfile(path):
            files.append((path, False))
        else:
            raise ValueError(f"No such image file: {path}")
    return files


def _folder_files(folder):
    """The files in `folder` and its sub-folders, sorted, hidden ones left out."""
    files = []
    for root, folders, names in os.walk(folder):
        folders[:] = sorted(name for name in folders if not name.startswith("."))
        files += [os.path.join(root, name) for name in sorted(names) if not name.startswith(".")]
    return sorted(files)


def _open(Image, path):
    try:
        image = Image.open(path)
        image.load()
    except (Image.UnidentifiedImageError, OSError, SyntaxError) as error:
        raise ValueError(f"{path} is not an image that PIL can read: {error}") from error
    return image
