"""tensorflow-datasets as a source: any catalogue name, e.g. "oxford_iiit_pet", "cifar10"."""

import os
import socket
import urllib.parse

from keras_vit.data.source import Source

CATALOG = "https://www.tensorflow.org/datasets/catalog/overview"
# Seconds to wait for a data set's download server before saying it cannot be reached.
CONNECT_TIMEOUT = 5


def from_tfds(name, data_dir=None, seed=0, channels=3):
    """A `Source` from a tensorflow-datasets data set with image and label features.

    The data set is downloaded and prepared into `data_dir` on first use (this
    needs the network; a prepared copy in `data_dir` needs none). When it is
    not prepared and its download server cannot be reached, this fails at once
    (tensorflow-datasets itself would retry for minutes). Splits are
    taken by name; a data set without a "validation" split gives the last 10%
    of "train" to it, and one without "test" uses its validation split.

    Args:
        name: str. The catalogue name, e.g. "oxford_iiit_pet".
        data_dir: str or None. tensorflow-datasets' data directory.
            Defaults to None (`~/tensorflow_datasets`).
        seed: int. Seed of the file shuffling. Defaults to 0.
        channels: int. 3 gives RGB images (grayscale ones copied), 1
            grayscale (RGB ones converted). Defaults to 3.

    Returns:
        A `Source`.
    """
    import tensorflow as tf
    import tensorflow_datasets as tfds

    if channels not in (1, 3):
        raise ValueError(f"A tensorflow-datasets source gives 1 or 3 channels. Received: channels={channels!r}")
    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except tfds.core.registered.DatasetNotFoundError:
        raise ValueError(
            f"Unknown tensorflow-datasets name {name!r}; see {CATALOG} for the names. "
            f"Received: source='tfds:{name}'"
        ) from None
    label_key = _supervised_label_key(builder.info, name)
    if not builder.is_prepared():
        _check_reachable(builder, name, data_dir)
    builder.download_and_prepare()
    splits = _split_names(builder.info.splits)
    read_config = tfds.ReadConfig(shuffle_seed=seed)
    datasets = [
        builder.as_dataset(split=spec, as_supervised=True, shuffle_files=True, read_config=read_config)
        for spec in splits.values()
    ]
    info = builder.info
    label = info.features[label_key]

    def convert(image, label_value):
        if channels == 1:
            image = image if image.shape[-1] == 1 else tf.image.rgb_to_grayscale(image[..., :3])
        else:
            image = tf.image.grayscale_to_rgb(image) if image.shape[-1] == 1 else image[..., :3]
        return image, tf.cast(label_value, tf.int32)

    splits_out = {split: data.map(convert) for split, data in zip(splits, datasets)}
    sizes = {split: info.splits[spec].num_examples for split, spec in splits.items()}
    return Source(splits_out, sizes, label.num_classes, tuple(label.names), f"tfds:{name}")


def _check_reachable(builder, name, data_dir):
    """Raises a `ValueError` naming the data set and its folder if the server
    of its first download cannot be reached."""
    urls = sorted(builder.url_infos or ())
    if not urls:
        return  # Data sets without recorded downloads (manual ones) explain themselves.
    url = urllib.parse.urlsplit(urls[0])
    try:
        port = url.port or (80 if url.scheme == "http" else 443)
        socket.create_connection((url.hostname, port), timeout=CONNECT_TIMEOUT).close()
    except OSError as error:
        folder = data_dir or os.environ.get("TFDS_DATA_DIR") or "~/tensorflow_datasets"
        raise ValueError(
            f"tensorflow-datasets {name!r} is not in {folder} (data_dir, --data-dir) and cannot be "
            f"downloaded: {url.hostname} is unreachable ({error}). Prepare it on a machine with network "
            f"access (tfds.builder({name!r}).download_and_prepare()) and copy its folder into {folder}, "
            "or pass the data directory that holds it."
        ) from None


def _supervised_label_key(info, name):
    keys = info.supervised_keys
    if not keys or len(keys) != 2:
        raise ValueError(f"tensorflow-datasets {name!r} has no (image, label) supervised keys.")
    label_key = keys[1]
    if not hasattr(info.features[label_key], "num_classes"):
        raise ValueError(f"tensorflow-datasets {name!r}: {label_key!r} is not a class label.")
    return label_key


def _split_names(available):
    names = set(available.keys())
    if "train" not in names:
        raise ValueError(f"The data set has no 'train' split; it has {sorted(names)}.")
    if "validation" in names:
        train, validation = "train", "validation"
    else:
        train, validation = "train[:90%]", "train[90%:]"
    test = "test" if "test" in names else validation
    return {"train": train, "validation": validation, "test": test}
