"""Original `.npz` checkpoints and their real-world variants load and reproduce the
original equations."""

import ml_dtypes
import numpy as np
import pytest

import keras_vit
from tests.weights.original import images, original_arrays, original_forward


def _save(tmp_path, arrays, name="ckpt.npz"):
    path = str(tmp_path / name)
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize(
    "kwargs", [{}, {"pooling": "gap"}, {"representation": 12}], ids=["token", "gap", "pre_logits"]
)
def test_from_checkpoint_matches_the_original_equations(tmp_path, kwargs):
    arrays = original_arrays(**kwargs)
    model = keras_vit.from_checkpoint(_save(tmp_path, arrays))
    batch = images()
    expected = original_forward(arrays, batch)
    assert expected.std() > 0.5
    np.testing.assert_allclose(model.predict(batch, verbose=0), expected, atol=1e-4)


def _big_vision(arrays):
    """The same weights as big_vision writes them: other module names, stacked blocks."""
    rename = {"MultiHeadDotProductAttention_1": "MultiHeadDotProductAttention_0", "LayerNorm_2": "LayerNorm_1",
              "MlpBlock_3": "MlpBlock_0"}
    blocks, result = {}, {}
    for key, value in arrays.items():
        if key.startswith("Transformer/encoderblock_"):
            _, block, rest = key.split("/", 2)
            for old, new in rename.items():
                rest = rest.replace(old, new)
            blocks.setdefault(rest, {})[int(block.split("_")[1])] = value
        elif key == "Transformer/posembed_input/pos_embedding":
            result["pos_embedding"] = value
        else:
            result[key] = value
    for rest, layers in blocks.items():
        result[f"Transformer/encoderblock/{rest}"] = np.stack([layers[i] for i in sorted(layers)])
    return result


VARIANTS = {
    "params_prefix": lambda a: {f"params/{k}": v for k, v in a.items()},
    "opt_target_prefix": lambda a: {f"opt/target/{k}": v for k, v in a.items()},
    "bfloat16": lambda a: {k: v.astype(ml_dtypes.bfloat16) for k, v in a.items()},
    "big_vision_stacked": lambda a: {f"params/{k}": v for k, v in _big_vision(a).items()},
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_real_file_variants_load_the_same(tmp_path, variant):
    arrays = original_arrays()
    if variant == "bfloat16":
        # The reference sees what the file holds: the weights rounded to bfloat16.
        arrays = {k: v.astype(ml_dtypes.bfloat16).astype(np.float32) for k, v in arrays.items()}
    model = keras_vit.from_checkpoint(_save(tmp_path, VARIANTS[variant](arrays)))
    batch = images()
    np.testing.assert_allclose(model.predict(batch, verbose=0), original_forward(arrays, batch), atol=1e-4)


def test_builder_loads_by_path_and_keeps_the_checkpoint_head(tmp_path):
    arrays = original_arrays(**{"width": 192, "heads": 3, "mlp": 768, "depth": 12, "patch": 16, "image": 32})
    model = keras_vit.ViTTi16(weights=_save(tmp_path, arrays))
    assert model.input_shape == (None, 32, 32, 3)
    assert model.output_shape == (None, 7)
    batch = images()
    np.testing.assert_allclose(model.predict(batch, verbose=0), original_forward(arrays, batch), atol=1e-3)


def test_pickled_npz_is_refused(tmp_path):
    path = str(tmp_path / "pickled.npz")
    np.savez(path, cls=np.array([{"code": "anything"}], dtype=object))
    with pytest.raises(ValueError, match=r"pickled.npz holds pickled Python objects"):
        keras_vit.from_checkpoint(path)


def test_truncated_file_names_the_file(tmp_path):
    path = _save(tmp_path, original_arrays())
    with open(path, "rb") as file:
        data = file.read()
    with open(path, "wb") as file:
        file.write(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"ckpt.npz is truncated: it begins as a zip archive but ends after"):
        keras_vit.from_checkpoint(path)


def test_not_a_vit_checkpoint(tmp_path):
    path = _save(tmp_path, {"conv/kernel": np.zeros((3, 3, 3, 8), np.float32)})
    with pytest.raises(ValueError, match="no patch embedding or first encoder block: not a ViT checkpoint"):
        keras_vit.from_checkpoint(path)


def test_random_bytes_are_not_a_readable_checkpoint(tmp_path):
    path = tmp_path / "noise.npz"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(ValueError, match=r"noise.npz is not an .npz checkpoint: it begins with the bytes [0-9a-f ]+, not a zip archive"):
        keras_vit.from_checkpoint(str(path))
