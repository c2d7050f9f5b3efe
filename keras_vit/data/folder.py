"""Image folders: one sub-folder per class, optionally inside train/validation/test."""

import os
import sys

import numpy as np

from keras_vit.data.source import Source, stratified_split

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
# What an image file decodes to: grayscale, RGB, RGB with alpha.
FILE_CHANNELS = (1, 3, 4)
SPLIT_FOLDERS = {"train": ("train",), "validation": ("validation", "val"), "test": ("test",)}


def scan_folder(directory, seed, channels=3):
    """Lists, checks and splits the images under `directory` (see `from_folder`)."""
    if channels not in FILE_CHANNELS:
        raise ValueError(
            f"An image folder's files decode to 1 (grayscale), 3 (RGB) or 4 (RGBA) channels. "
            f"Received: channels={channels!r}"
        )
    if not os.path.isdir(directory):
        raise ValueError(f"Image folder {directory!r} does not exist or is not a folder.")
    if os.path.isdir(os.path.join(directory, "train")):
        class_names = _class_folders(os.path.join(directory, "train"))
        files = {}
        for split, names in SPLIT_FOLDERS.items():
            found = [os.path.join(directory, n) for n in names if os.path.isdir(os.path.join(directory, n))]
            files[split] = _list_images(found[0], class_names) if found else ([], [])
        if not files["validation"][0] and not files["test"][0]:
            files = _split_files(*files["train"], seed)
    else:
        class_names = _class_folders(directory)
        files = _split_files(*_list_images(directory, class_names), seed)
    skipped = 0
    for split, (paths, labels) in files.items():
        paths, labels, bad = _readable(paths, labels)
        files[split] = (paths, labels)
        skipped += bad
    if not files["train"][0]:
        raise ValueError(
            f"Image folder {directory!r} has no readable images ({', '.join(IMAGE_EXTENSIONS)}) "
            "in its class sub-folders."
        )
    if skipped:
        print(f"keras_vit.data: skipped {skipped} unreadable image file(s) in {directory}", file=sys.stderr)
    splits = {split: _dataset(paths, labels, channels) for split, (paths, labels) in files.items()}
    sizes = {split: len(paths) for split, (paths, _) in files.items()}
    return Source(splits, sizes, len(class_names), class_names, directory, skipped)


def _class_folders(directory):
    names = tuple(sorted(e for e in os.listdir(directory) if os.path.isdir(os.path.join(directory, e))))
    if len(names) < 2:
        found = f"only {names[0]!r}" if names else "none"
        raise ValueError(
            f"Image folder {directory!r} must hold one sub-folder of images per class, and a "
            f"classifier needs at least two classes. Class sub-folders found: {found}."
        )
    return names


def _list_images(directory, class_names):
    paths, labels = [], []
    for label, name in enumerate(class_names):
        folder = os.path.join(directory, name)
        if not os.path.isdir(folder):
            continue
        for entry in sorted(os.listdir(folder)):
            if entry.lower().endswith(IMAGE_EXTENSIONS):
                paths.append(os.path.join(folder, entry))
                labels.append(label)
    return paths, labels


def _split_files(paths, labels, seed):
    if not paths:
        return {split: ([], []) for split in SPLIT_FOLDERS}
    paths, labels = np.asarray(paths), np.asarray(labels, "int32")
    return {
        split: (paths[index].tolist(), labels[index].tolist())
        for split, index in stratified_split(labels, seed).items()
    }


def _readable(paths, labels):
    """Keeps the files PIL can fully read; returns them and how many were dropped."""
    from PIL import Image

    kept_paths, kept_labels = [], []
    for path, label in zip(paths, labels):
        try:
            with Image.open(path) as image:
                image.verify()
        except Exception:  # PIL raises many types for a broken file; all mean "skip".
            continue
        kept_paths.append(path)
        kept_labels.append(label)
    return kept_paths, kept_labels, len(paths) - len(kept_paths)


def _dataset(paths, labels, channels):
    import tensorflow as tf

    def read(path, label):
        # Decoded to `channels` as they are stored: a grayscale file read for 1 is never RGB.
        image = tf.io.decode_image(tf.io.read_file(path), channels=channels, expand_animations=False)
        image.set_shape((None, None, channels))
        return image, label

    pairs = tf.data.Dataset.from_tensor_slices((tf.constant(paths, tf.string), tf.constant(labels, tf.int32)))
    return pairs.map(read, num_parallel_calls=tf.data.AUTOTUNE)
