"""Every reader meets broken files with a clean error that names the file, and runs no code.

Valid files of every format are written here, then truncated, bit-flipped and
emptied; a load must raise `ValueError` or `OSError` naming the file and leave
the model as it was, or, where the damage is invisible to the format (a flip
inside an array), load what the file holds and no more. No load may unpickle
code (a pickle whose `__reduce__` would write a marker file must leave no marker).
"""

import os
import pathlib
import zlib

import keras
import numpy as np
import pytest

import keras_vit
from keras_vit.weights import load_weights
from tests.hf_reference import random_hf_vit
from tests.weights.original import original_arrays

torch = pytest.importorskip("torch")
safetensors_torch = pytest.importorskip("safetensors.torch")

TINY = dict(image_size=32, patch_size=8, hidden_dim=16, num_layers=2, num_heads=4, mlp_dim=24, num_classes=7)
MARKER = "unpickled.marker"


class _WritesAMarker:
    """Unpickling this would run `pathlib.Path.touch` on the marker: it must never happen."""

    def __init__(self, folder):
        self.marker = str(folder / MARKER)

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


@pytest.fixture(scope="module")
def hf_vit():
    """A random HF ViT of `TINY`'s sizes: the source of the timm and HF files."""
    transformers = pytest.importorskip("transformers")
    from tests.weights.test_timm_and_hf import LAYERS

    assert LAYERS == TINY["num_layers"]  # `_timm_state` splits that many blocks
    return random_hf_vit(torch, transformers, hidden_size=16, num_hidden_layers=2, num_attention_heads=4,
                         intermediate_size=24, image_size=32, patch_size=8, num_labels=7)


def _valid_files(folder, hf_vit):
    """One file (or folder) per reader that loads into a `TINY` model, and the file inside it to damage."""
    from tests.weights.test_timm_and_hf import _timm_state

    files = {}
    npz = folder / "original.npz"
    np.savez(npz, **original_arrays())
    files["npz"] = (npz, npz)
    state = {k: v.contiguous() for k, v in _timm_state(hf_vit).items()}
    safetensors_torch.save_file(state, str(folder / "timm.safetensors"))
    files["safetensors"] = (folder / "timm.safetensors", folder / "timm.safetensors")
    torch.save({"state_dict": state}, folder / "timm.pth")
    files["pth"] = (folder / "timm.pth", folder / "timm.pth")
    hf = folder / "hf"
    hf_vit.save_pretrained(hf, safe_serialization=True)
    files["hf_config"] = (hf, hf / "config.json")
    files["hf_weights"] = (hf, hf / "model.safetensors")
    h5 = _weights_h5(folder)
    files["weights_h5"] = (h5, h5)
    return files


def _weights_h5(folder):
    """A `.weights.h5` of a `TINY` model with random weights (the builders start some at zero)."""
    h5 = folder / "tiny.weights.h5"
    saved = keras_vit.ViT(**TINY)
    rng = np.random.default_rng(0)
    saved.set_weights([rng.normal(size=w.shape).astype("float32") for w in saved.weights])
    saved.save_weights(h5)
    return h5


def _damaged(data, how, rng):
    """The damaged bytes, and how many of them differ from `data`."""
    if how == "empty":
        return b"", len(data)
    if how == "truncated":
        return data[: len(data) // 2], len(data) - len(data) // 2
    flipped = bytearray(data)
    count = 1 if how == "one_bit_flipped" else max(1, len(data) // 200)
    positions = rng.choice(len(data), size=count, replace=False)
    for position in positions:
        flipped[position] ^= 1 << int(rng.integers(8))
    return bytes(flipped), len(positions)


def _values(model):
    return [keras.ops.convert_to_numpy(w).copy() for w in model.weights]


@pytest.mark.parametrize("how", ["empty", "truncated", "bit_flipped", "one_bit_flipped"])
@pytest.mark.parametrize("reader", ["npz", "safetensors", "pth", "hf_config", "hf_weights", "weights_h5"])
def test_a_damaged_file_is_a_clean_error_naming_it_or_loads_what_it_holds(tmp_path, hf_vit, reader, how):
    source, damaged = _valid_files(tmp_path, hf_vit)[reader]
    model = keras_vit.ViT(**TINY)
    before = _values(model)
    # Undamaged, the file loads and sets every weight: a damaged copy has something to break.
    load_weights(model, str(source))
    intact = _values(model)
    assert not any(np.array_equal(old, new) for old, new in zip(before, intact))
    model.set_weights(before)

    rng = np.random.default_rng(zlib.crc32(f"{reader}-{how}".encode()))
    data, num_damaged = _damaged(damaged.read_bytes(), how, rng)
    damaged.write_bytes(data)
    try:
        load_weights(model, str(source))
    except (ValueError, OSError) as error:
        assert os.path.basename(str(source)) in str(error), error
        for old, new in zip(before, model.weights):
            np.testing.assert_array_equal(old, keras.ops.convert_to_numpy(new))
        return
    # A flip can land where no reader can see it (inside an array's values, in padding,
    # in a config field the loader does not read); then the model holds what the file
    # holds: the intact file's weights, but for at most one value per flipped byte.
    assert how.endswith("bit_flipped")
    changed = sum(int((~np.equal(old, new)).sum()) for old, new in zip(intact, _values(model)))
    assert changed <= num_damaged, f"{changed} values differ from the intact file's after {num_damaged} flipped bytes"


def test_a_weights_h5_with_a_damaged_object_header_is_a_clean_error(tmp_path):
    h5 = _weights_h5(tmp_path)
    rng = np.random.default_rng(zlib.crc32(b"weights_h5-bit_flipped") + 1)  # flips that reach an object header
    h5.write_bytes(_damaged(h5.read_bytes(), "bit_flipped", rng)[0])
    with pytest.raises((ValueError, OSError), match="tiny.weights.h5"):
        load_weights(keras_vit.ViT(**TINY), str(h5))


@pytest.mark.parametrize("suffix", [".npz", ".pth"])
def test_a_pickle_that_would_run_code_runs_none(tmp_path, suffix):
    path = tmp_path / f"evil{suffix}"
    if suffix == ".npz":
        np.savez(path, hook=np.array([_WritesAMarker(tmp_path)], dtype=object))
    else:
        torch.save({"state_dict": {"x": torch.zeros(1)}, "hook": _WritesAMarker(tmp_path)}, path)
    with pytest.raises(ValueError, match="evil"):
        load_weights(keras_vit.ViT(**TINY), str(path))
    assert not (tmp_path / MARKER).exists()
