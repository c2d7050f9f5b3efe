"""Opens a data source by name: the bundled digits, tensorflow-datasets, a folder, or arrays.

Each source becomes a `keras_vit.data.source.Source`; this module only picks
the source's module (`digits`, `tfds`, `folder`) and hands it the arguments.
"""

import os

import numpy as np

from keras_vit.data.digits import CLASS_NAMES, load_digits
from keras_vit.data.folder import scan_folder
from keras_vit.data.source import check_labels, from_split_arrays, stratified_split
from keras_vit.data.tfds import from_tfds


def load_source(source="digits", data_dir=None, image_size=32, seed=0, channels=3):
    """Opens a data source by name.

    Args:
        source: str or tuple. `"digits"` (bundled, offline), `"tfds:NAME"` (a
            tensorflow-datasets name such as `"tfds:oxford_iiit_pet"`), the path
            of an image folder (see `from_folder`), or `(images, labels)` arrays
            (see `from_arrays`). Defaults to `"digits"`.
        data_dir: str or None. tensorflow-datasets' data directory (where it
            downloads to, or reads a prepared copy from). Defaults to None.
        image_size: int. Size of the digits images; other sources keep theirs.
            Defaults to 32.
        seed: int. Seed of any split this function makes. Defaults to 0.
        channels: int. The images' channels: 3 for RGB; 1 reads grayscale
            files and data sets as they are (and turns RGB ones gray). Arrays
            may have any number. Defaults to 3.

    Returns:
        A `Source`.
    """
    if isinstance(source, (tuple, list)) and len(source) == 2:
        return from_arrays(*source, seed=seed, channels=channels)
    if not isinstance(source, str):
        raise ValueError(
            "`source` must be 'digits', 'tfds:NAME', a folder path or (images, labels). "
            f"Received: source={source!r}"
        )
    if source == "digits":
        splits = load_digits(image_size=image_size, seed=seed, channels=channels)
        return from_split_arrays(splits, len(CLASS_NAMES), CLASS_NAMES, "digits")
    if source.startswith("tfds:"):
        return from_tfds(source[len("tfds:"):], data_dir=data_dir, seed=seed, channels=channels)
    if os.path.isdir(source):
        return from_folder(source, seed=seed, channels=channels)
    raise ValueError(
        "`source` must be 'digits', 'tfds:NAME' (e.g. 'tfds:cifar10') or an existing "
        f"image folder. Received: source={source!r}"
    )


def from_arrays(images, labels, num_classes=None, class_names=None, seed=0, channels=3):
    """A `Source` from in-memory arrays, split 70/10/20 into train/validation/test.

    Args:
        images: uint8 array `(n, height, width, channels)` (or 1 channel,
            copied into `channels`) of pixels.
        labels: int array `(n,)` in `[0, num_classes)`.
        num_classes: int or None. Defaults to `max(labels) + 1`.
        class_names: sequence of str or None. Defaults to the class indices.
        seed: int. Seed of the split. Defaults to 0.
        channels: int. The channels of the images the model takes (3 for
            RGB). Defaults to 3.

    Returns:
        A `Source`.
    """
    images, labels = np.asarray(images), np.asarray(labels)
    if images.ndim != 4 or images.shape[-1] not in (1, channels):
        raise ValueError(
            f"`images` must have shape (n, height, width, {channels} or 1) for channels={channels}. "
            f"Received: images.shape={images.shape}"
        )
    if labels.shape != (len(images),) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"`labels` must be {len(images)} integers, one per image. "
            f"Received: labels.shape={labels.shape}, dtype={labels.dtype}"
        )
    num_classes = int(labels.max()) + 1 if num_classes is None else num_classes
    check_labels(labels, num_classes)
    if images.shape[-1] == 1:
        images = np.repeat(images, channels, axis=-1)
    splits = {name: (images[index], labels[index]) for name, index in stratified_split(labels, seed).items()}
    names = tuple(class_names or (str(i) for i in range(num_classes)))
    return from_split_arrays(splits, num_classes, names, "arrays")


def from_folder(directory, seed=0, channels=3):
    """A `Source` from a folder with one sub-folder of images per class.

    If `directory` holds `train/` (and optionally `validation/` or `val/`, and
    `test/`) sub-folders, each is a split with one sub-folder per class;
    otherwise the class folders are split 70/10/20, stratified, by `seed`.
    Images may have any size (they are resized in the pipeline); files that
    are not readable images are skipped and counted, with a note on stderr.

    Args:
        directory: str. The folder.
        seed: int. Seed of the split. Defaults to 0.
        channels: int. 3 decodes every file as RGB, 1 as grayscale (a
            grayscale file as it is), 4 as RGBA. Defaults to 3.

    Returns:
        A `Source`.
    """
    return scan_folder(directory, seed, channels)
