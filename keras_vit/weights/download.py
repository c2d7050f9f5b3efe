"""Downloads registry checkpoints into the Keras cache and keeps their conversion beside them."""

import os
import sys

import numpy as np

from keras_vit import variants
from keras_vit.weights import cache
from keras_vit.weights.formats import timm
from keras_vit.weights.formats.state_dict import read_state_dict
from keras_vit.weights.reader import read_checkpoint

_CONVERTED_SUFFIX = ".converted.npz"
# Raised whenever a converter's output changes, so that older caches are converted again.
CONVERTER_VERSION = 2
_STAMP_KEY = "__keras_vit_conversion__"


def fetch(entry, cache_dir=None):
    """Returns the local path of `entry`'s file, downloading it on first use.

    The file lands in `~/.keras/keras_vit` (or `$KERAS_HOME/keras_vit`, or
    `cache_dir/keras_vit`) only once it arrived whole and matches the hashes its
    server publishes and the registry's SHA-256, where known; its SHA-256 is
    recorded beside it and checked on every later use, and a file that no longer
    matches is downloaded again (`keras_vit.weights.cache`).

    Args:
        entry: WeightsEntry. The registry's entry of the file.
        cache_dir: str or None. The folder above `keras_vit/`. Defaults to None.

    Raises:
        OSError: the download failed; the message says how to do without one.
        ValueError: the file arrived but is not the one published.
    """
    path = os.path.join(cache.cache_folder(cache_dir), entry.filename)
    try:
        return cache.cached_file(entry.url, path, entry.sha256)
    except ValueError:
        raise
    except Exception as error:
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
    try:
        path = fetch(entry, cache_dir)
    except OSError as error:
        if entry.hub is None:
            raise
        return _from_hub(entry, error)
    cached = path + _CONVERTED_SUFFIX
    stamp = _stamp(path)
    if os.path.exists(cached):
        with np.load(cached, allow_pickle=False) as archive:
            if _STAMP_KEY in archive.files and archive[_STAMP_KEY].tolist() == stamp:
                return {key.replace("|", "/"): archive[key] for key in archive.files if key != _STAMP_KEY}
    arrays = _read(entry, path)
    partial = cached + ".partial.npz"
    np.savez(partial, **{key.replace("/", "|"): value for key, value in arrays.items()}, **{_STAMP_KEY: stamp})
    os.replace(partial, cached)
    return arrays


def _from_hub(entry, error):
    """The entry's arrays from its hub handle, when its URL cannot be reached."""
    from keras_vit.weights import hub

    print(f"keras_vit: {entry.url} cannot be reached; loading the same weights from {entry.hub}", file=sys.stderr)
    heads = getattr(variants.ALL_VARIANTS.get(entry.variant), "num_heads", None)
    try:
        path = hub.local_path(entry.hub)
    except (OSError, ImportError) as hub_error:
        raise OSError(f"{error} Its Hub copy {entry.hub} could not be loaded either: {hub_error}") from None
    return read_checkpoint(path, num_heads=heads).arrays


def _stamp(path):
    """What a conversion depends on: the converter, and the source file's size and time."""
    status = os.stat(path)
    return [CONVERTER_VERSION, status.st_size, status.st_mtime_ns]


def _read(entry, path):
    """The downloaded file read as the entry's variant says: its heads, and for a
    timm file its architecture (what its keys do not say)."""
    heads = getattr(variants.ALL_VARIANTS.get(entry.variant), "num_heads", None)
    if entry.architecture is None:
        return read_checkpoint(path, num_heads=heads).arrays
    arrays = timm.read(read_state_dict(path), path, heads, config={"architecture": entry.architecture}).arrays
    if "_clip_" in entry.architecture:
        arrays = _clip_projection(arrays, path)
    return arrays


def _clip_projection(arrays, path):
    """timm keeps CLIP's projection to the image-text space as a head with a
    zero bias: it loads as the projection (`projection_dim`), without bias."""
    arrays = dict(arrays)
    bias = arrays.pop("head/bias", None)
    if bias is not None and np.any(bias):
        raise ValueError(
            f"{path}: a CLIP image tower's head should be its projection, with a zero bias; this one has a bias."
        )
    if "head/kernel" in arrays:
        arrays["projection/kernel"] = arrays.pop("head/kernel")
    return arrays
