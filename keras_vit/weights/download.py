"""Downloads registry checkpoints into the Keras cache and keeps their conversion beside them."""

import os

import keras
import numpy as np

from keras_vit.weights.reader import read_checkpoint

CACHE_SUBDIR = "keras_vit"
_CONVERTED_SUFFIX = ".converted.npz"
# Raised whenever a converter's output changes, so that older caches are converted again.
CONVERTER_VERSION = 2
_STAMP_KEY = "__keras_vit_conversion__"


def fetch(entry, cache_dir=None):
    """Returns the local path of `entry`'s file, downloading it on first use.

    Goes through `keras.utils.get_file`, so the file lands in the Keras cache
    (`~/.keras/keras_vit` unless `KERAS_HOME` or `cache_dir` says otherwise) and
    is checked against its SHA-256 where the registry knows it. A failed or
    corrupt download leaves no file behind.
    """
    # get_file falls back to /tmp when the cache folder does not exist yet.
    cache_dir = _cache_root(cache_dir)
    os.makedirs(os.path.join(cache_dir, CACHE_SUBDIR), exist_ok=True)
    target = os.path.join(cache_dir, CACHE_SUBDIR, entry.filename)
    try:
        return keras.utils.get_file(
            fname=entry.filename,
            origin=entry.url,
            file_hash=entry.sha256,
            hash_algorithm="sha256",
            cache_subdir=CACHE_SUBDIR,
            cache_dir=cache_dir,
        )
    except ValueError as error:
        _remove(target)
        raise ValueError(
            f"{target} downloaded from {entry.url} does not match its SHA-256 "
            f"{entry.sha256}; the file was deleted. ({error})"
        ) from None
    except Exception as error:
        _remove(target)
        raise OSError(
            f"Could not download {entry.url} ({type(error).__name__}: {error}). Without "
            f"network access, fetch that file on another machine and pass its path, e.g. "
            f"weights='/path/to/{entry.filename}' (keras-vit: --weights /path/to/{entry.filename})."
        ) from None


def converted_arrays(entry, cache_dir=None):
    """The entry's arrays under keras weight paths, converted once and cached.

    The cache records the converter's version and the downloaded file's size
    and modification time; when any of them differs, it is converted again.
    """
    path = fetch(entry, cache_dir)
    cached = path + _CONVERTED_SUFFIX
    stamp = _stamp(path)
    if os.path.exists(cached):
        with np.load(cached, allow_pickle=False) as archive:
            if _STAMP_KEY in archive.files and archive[_STAMP_KEY].tolist() == stamp:
                return {key.replace("|", "/"): archive[key] for key in archive.files if key != _STAMP_KEY}
    arrays = read_checkpoint(path).arrays
    partial = cached + ".partial.npz"
    np.savez(partial, **{key.replace("/", "|"): value for key, value in arrays.items()}, **{_STAMP_KEY: stamp})
    os.replace(partial, cached)
    return arrays


def _stamp(path):
    """What a conversion depends on: the converter, and the source file's size and time."""
    status = os.stat(path)
    return [CONVERTER_VERSION, status.st_size, status.st_mtime_ns]


def _cache_root(cache_dir):
    if cache_dir:
        return cache_dir
    return os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")


def _remove(path):
    if os.path.exists(path):
        os.remove(path)
