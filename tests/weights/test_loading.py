"""Resolution, heads and failure behaviour of loading, whatever the format."""

import logging

import keras
import numpy as np
import pytest
import scipy.ndimage

import keras_vit
from keras_vit.weights import load_weights
from tests.weights.original import images, original_arrays, original_forward

TINY = dict(patch_size=8, hidden_dim=16, num_layers=2, num_heads=4, mlp_dim=24)


def _save(tmp_path, arrays, name="ckpt.npz"):
    path = str(tmp_path / name)
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize("image_size", [48, (40, 56)])
def test_other_resolution_equals_a_hand_zoomed_grid(tmp_path, image_size):
    arrays = original_arrays()
    model = keras_vit.from_checkpoint(_save(tmp_path, arrays), image_size=image_size)
    rows, cols = (image_size, image_size) if isinstance(image_size, int) else image_size
    posemb = arrays["Transformer/posembed_input/pos_embedding"]
    grid = posemb[0, 1:].reshape(4, 4, -1)
    zoomed = scipy.ndimage.zoom(grid, (rows // 8 / 4, cols // 8 / 4, 1), order=1)
    resized = dict(arrays)
    resized["Transformer/posembed_input/pos_embedding"] = np.concatenate(
        [posemb[:, :1], zoomed.reshape(1, -1, posemb.shape[-1])], axis=1
    )
    batch = np.random.default_rng(0).uniform(0, 255, size=(2, rows, cols, 3)).astype(np.float32)
    np.testing.assert_allclose(model.predict(batch, verbose=0), original_forward(resized, batch), atol=1e-4)


def test_other_number_of_classes_gets_a_zero_head(tmp_path, caplog):
    path = _save(tmp_path, original_arrays())
    with caplog.at_level(logging.INFO, logger="keras_vit"):
        model = keras_vit.from_checkpoint(path, num_classes=3)
    assert "new zero-initialised head for 3 classes (the checkpoint's: 7 classes)" in caplog.text
    assert not np.any(keras.ops.convert_to_numpy(model.get_layer("head").kernel))
    np.testing.assert_allclose(model.predict(images(), verbose=0), 0.0)


def test_without_top_drops_head_and_pre_logits(tmp_path):
    arrays = original_arrays(representation=12)
    model = keras_vit.from_checkpoint(_save(tmp_path, arrays), include_top=False)
    assert model.output_shape == (None, 16)
    names = [layer.name for layer in model.layers]
    assert "head" not in names and "pre_logits" not in names
    report = load_weights(model, str(tmp_path / "ckpt.npz"))
    assert any("pre_logits/kernel" in note and "head/kernel" in note for note in report.notes)


def test_all_zero_head_is_reported(tmp_path):
    arrays = original_arrays(representation=12)
    arrays["head/kernel"][:] = 0
    arrays["head/bias"][:] = 0
    model = keras_vit.ViT(image_size=32, num_classes=7, representation_size=12, **TINY)
    report = load_weights(model, _save(tmp_path, arrays))
    assert any("head is all zeros" in note for note in report.notes)


def test_failed_load_leaves_the_model_unchanged(tmp_path):
    arrays = original_arrays()
    arrays["Transformer/encoderblock_1/MlpBlock_3/Dense_1/kernel"] = np.zeros((25, 16), np.float32)
    model = keras_vit.ViT(image_size=32, num_classes=7, **TINY)
    before = [keras.ops.convert_to_numpy(w).copy() for w in model.weights]
    with pytest.raises(ValueError, match=r"'encoderblock_1/mlp_fc2/kernel': .*ckpt.npz has \(25, 16\), the model expects \(24, 16\)"):
        load_weights(model, _save(tmp_path, arrays))
    for old, new in zip(before, model.weights):
        np.testing.assert_array_equal(old, keras.ops.convert_to_numpy(new))


def test_checkpoint_of_another_size_is_named(tmp_path):
    path = _save(tmp_path, original_arrays())
    with pytest.raises(ValueError, match=r"ckpt.npz is another architecture \(hidden_dim=16, .*expects hidden_dim=384"):
        keras_vit.ViTS16(weights=path)


def test_missing_weights_are_listed(tmp_path):
    arrays = original_arrays()
    del arrays["Transformer/encoder_norm/scale"]
    model = keras_vit.ViT(image_size=32, num_classes=7, **TINY)
    with pytest.raises(ValueError, match="no array for 1 of the model's weights: encoder_norm/gamma"):
        load_weights(model, _save(tmp_path, arrays))


def test_own_formats_round_trip(tmp_path):
    model = keras_vit.from_checkpoint(_save(tmp_path, original_arrays()))
    model.save_weights(str(tmp_path / "vit.weights.h5"))
    model.save(str(tmp_path / "vit.keras"))
    batch = images()
    expected = model.predict(batch, verbose=0)
    for name in ("vit.weights.h5", "vit.keras"):
        fresh = keras_vit.ViT(image_size=32, num_classes=7, **TINY)
        load_weights(fresh, str(tmp_path / name))
        np.testing.assert_allclose(fresh.predict(batch, verbose=0), expected, atol=1e-6)


def test_own_files_of_another_grid_and_head_are_adapted_like_every_checkpoint(tmp_path):
    source = _save(tmp_path, original_arrays())
    trained = keras_vit.from_checkpoint(source)  # 32 x 32, 7 classes
    trained.save_weights(str(tmp_path / "tiny_32px.weights.h5"))
    trained.save(str(tmp_path / "tiny_32px.keras"))
    batch = images(size=48)
    expected = keras_vit.from_checkpoint(source, image_size=48).predict(batch, verbose=0)
    for name in ("tiny_32px.weights.h5", "tiny_32px.keras"):
        at_48 = keras_vit.ViT(image_size=48, num_classes=7, weights=str(tmp_path / name), **TINY)
        np.testing.assert_allclose(at_48.predict(batch, verbose=0), expected, atol=1e-5)
        other_head = keras_vit.ViT(image_size=32, num_classes=5, **TINY)
        report = load_weights(other_head, str(tmp_path / name))
        assert "new zero-initialised head for 5 classes (the checkpoint's: 7 classes)" in report.notes
        assert not np.any(keras.ops.convert_to_numpy(other_head.get_layer("head").kernel))


def test_weights_file_of_another_architecture_leaves_the_model_unchanged(tmp_path):
    other = keras_vit.ViT(image_size=32, num_classes=7, **{**TINY, "num_layers": 1})
    other.save_weights(str(tmp_path / "other.weights.h5"))
    model = keras_vit.ViT(image_size=32, num_classes=7, **TINY)
    before = [keras.ops.convert_to_numpy(w).copy() for w in model.weights]
    with pytest.raises(ValueError, match=r"other.weights.h5 holds the weights of another architecture than this "
                                         r"model: 16 of the model's weights have no place in it \(encoderblock_1/"):
        load_weights(model, str(tmp_path / "other.weights.h5"))
    for old, new in zip(before, model.weights):
        np.testing.assert_array_equal(old, keras.ops.convert_to_numpy(new))


def test_checkpoint_without_head_gives_a_zero_head(tmp_path):
    arrays = original_arrays()
    del arrays["head/kernel"], arrays["head/bias"]
    model = keras_vit.ViT(image_size=32, num_classes=5, **TINY)
    report = load_weights(model, _save(tmp_path, arrays))
    assert "new zero-initialised head for 5 classes (the checkpoint's: none)" in report.notes
