"""Every reader meets broken files with a clean error that names the file, and runs no code.

Valid files of every format are written here, then truncated, bit-flipped and
emptied; a load must raise `ValueError` or `OSError` naming the file, leave the
model as it was, and never unpickle code (a pickle whose `__reduce__` would
write a marker file must leave no marker).
"""

import os
import pathlib
import zlib

import keras
import numpy as np
import pytest

import keras_vit
from keras_vit.weights import load_weights
from tests.weights.original import original_arrays

torch = pytest.importorskip("torch")
safetensors_numpy = pytest.importorskip("safetensors.numpy")

TINY = dict(image_size=32, patch_size=8, hidden_dim=16, num_layers=2, num_heads=4, mlp_dim=24, num_classes=7)
MARKER = "unpickled.marker"


class _WritesAMarker:
    """Unpickling this would run `pathlib.Path.touch` on the marker: it must never happen."""

    def __init__(self, folder):
        self.marker = str(folder / MARKER)

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


def _valid_files(folder):
    """One valid file (or folder) per reader, and the file inside it to damage."""
    files = {}
    npz = folder / "original.npz"
    np.savez(npz, **original_arrays())
    files["npz"] = (npz, npz)
    state = {"patch_embed.proj.weight": np.ones((16, 3, 8, 8), np.float32), "pos_embed": np.ones((1, 17, 16), np.float32)}
    safetensors_numpy.save_file(state, str(folder / "timm.safetensors"))
    files["safetensors"] = (folder / "timm.safetensors", folder / "timm.safetensors")
    torch.save({"state_dict": {k: torch.from_numpy(v) for k, v in state.items()}}, folder / "timm.pth")
    files["pth"] = (folder / "timm.pth", folder / "timm.pth")
    hf = folder / "hf"
    hf.mkdir()
    (hf / "config.json").write_text('{"model_type": "vit", "hidden_size": 16, "num_hidden_layers": 2, '
                                    '"num_attention_heads": 4, "intermediate_size": 24, "patch_size": 8, '
                                    '"image_size": 32}')
    safetensors_numpy.save_file({"vit.embeddings.patch_embeddings.projection.weight": np.ones((16, 3, 8, 8), np.float32)},
                                str(hf / "model.safetensors"))
    files["hf_config"] = (hf, hf / "config.json")
    files["hf_weights"] = (hf, hf / "model.safetensors")
    h5 = folder / "tiny.weights.h5"
    keras_vit.ViT(**TINY).save_weights(h5)
    files["weights_h5"] = (h5, h5)
    return files


def _damaged(data, how, rng):
    if how == "empty":
        return b""
    if how == "truncated":
        return data[: len(data) // 2]
    flipped = bytearray(data)
    for position in rng.choice(len(data), size=max(1, len(data) // 200), replace=False):
        flipped[position] ^= 1 << int(rng.integers(8))
    return bytes(flipped)


@pytest.mark.parametrize("how", ["empty", "truncated", "bit_flipped"])
@pytest.mark.parametrize("reader", ["npz", "safetensors", "pth", "hf_config", "hf_weights", "weights_h5"])
def test_a_broken_file_is_a_clean_error_naming_it(tmp_path, reader, how):
    source, damaged = _valid_files(tmp_path)[reader]
    rng = np.random.default_rng(zlib.crc32(f"{reader}-{how}".encode()))
    damaged.write_bytes(_damaged(damaged.read_bytes(), how, rng))
    model = keras_vit.ViT(**TINY)
    before = [keras.ops.convert_to_numpy(w).copy() for w in model.weights]
    try:
        load_weights(model, str(source))
    except (ValueError, OSError) as error:
        assert os.path.basename(str(source)) in str(error), error
    else:
        # A flip can land where it changes nothing a loader checks (a value inside an
        # array); then the load must at least have been complete and consistent.
        assert how == "bit_flipped"
        return
    for old, new in zip(before, model.weights):
        np.testing.assert_array_equal(old, keras.ops.convert_to_numpy(new))


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
