"""big_vision's fixed 2D sin-cos position embedding, `position_embedding="sincos_2d"`."""

import keras
import numpy as np
import pytest

import keras_vit
from keras_vit.layers import AddSinCosPositionEmbedding2D, names

TINY = dict(patch_size=8, hidden_dim=16, num_layers=1, num_heads=2, mlp_dim=24, num_classes=5)


def posemb_sincos_2d(h, w, width, temperature=10_000.0):
    """big_vision/models/vit.py's function, transcribed to NumPy in float64."""
    y, x = np.mgrid[:h, :w]
    omega = np.arange(width // 4) / (width // 4 - 1)
    omega = 1.0 / (temperature**omega)
    y = np.einsum("m,d->md", y.flatten(), omega)
    x = np.einsum("m,d->md", x.flatten(), omega)
    return np.concatenate([np.sin(x), np.cos(x), np.sin(y), np.cos(y)], axis=1)


def _tiny(image_size=(24, 40), **kwargs):
    return keras_vit.ViT(image_size=image_size, position_embedding="sincos_2d", **{**TINY, **kwargs})


def _randomize(model, seed=0):
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        variable.assign(rng.normal(scale=0.3, size=variable.shape).astype("float32"))
    return model


def _images(size, seed=1):
    return np.random.default_rng(seed).uniform(0, 255, size=(2, *size, 3)).astype("float32")


@pytest.fixture(scope="module")
def static():
    return _randomize(_tiny())


def test_the_table_is_big_vision_s_on_a_non_square_grid():
    layer = AddSinCosPositionEmbedding2D(grid_size=(3, 5), num_prefix_tokens=1)
    tokens = np.random.default_rng(0).normal(size=(2, 16, 16)).astype("float32")
    added = keras.ops.convert_to_numpy(layer(tokens)) - tokens
    expected = np.concatenate([np.zeros((1, 16)), posemb_sincos_2d(3, 5, 16)])
    np.testing.assert_allclose(added[0], expected, atol=1e-6)
    np.testing.assert_allclose(added[1], expected, atol=1e-6)
    np.testing.assert_allclose(layer.table(), expected, atol=1e-6)
    assert layer.weights == []


def test_the_model_learns_nothing_for_its_positions(static):
    layer = static.get_layer(names.POSITION_EMBEDDING)
    assert isinstance(layer, AddSinCosPositionEmbedding2D)
    assert layer.trainable_weights == [] and layer.non_trainable_weights == []
    assert not any("pos_embedding" in v.path for v in static.weights)


def test_a_dynamic_model_computes_the_static_one_at_every_size(static):
    dynamic = _tiny(dynamic_image_size=True)
    dynamic.set_weights(static.get_weights())
    images = _images((24, 40))
    np.testing.assert_allclose(dynamic.predict(images, verbose=0), static.predict(images, verbose=0), atol=1e-5)
    other = _tiny(image_size=(32, 16))
    other.set_weights(static.get_weights())
    images = _images((32, 16))
    np.testing.assert_allclose(dynamic.predict(images, verbose=0), other.predict(images, verbose=0), atol=1e-5)


def test_saves_and_loads_as_keras(static, tmp_path):
    path = str(tmp_path / "sincos.keras")
    static.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    images = _images((24, 40))
    np.testing.assert_array_equal(loaded.predict(images, verbose=0), static.predict(images, verbose=0))
    assert loaded.vit_config.position_embedding == "sincos_2d"


def test_learned_position_weights_of_a_checkpoint_are_reported_unused(static):
    # As for position_embedding="none": the loaders have no weight to put them in.
    from keras_vit.weights.load import assign_weights

    arrays = {v.path: keras.ops.convert_to_numpy(v.value) for v in static.weights}
    arrays["pos_embedding/embedding"] = np.zeros((1, 16, 16), "float32")   # a learned 1D table
    with pytest.warns(UserWarning, match=r"1 checkpoint arrays were not used: .*pos_embedding/embedding"):
        report = assign_weights(static, arrays)
    assert report.unused == ("pos_embedding/embedding",) and report.missing == ()


@pytest.mark.parametrize("kwargs, message", [
    ({"hidden_dim": 18, "num_heads": 2},
     r"`hidden_dim` must be a multiple of 4, at least 8. Received: hidden_dim=18"),
    ({"hidden_dim": 4, "num_heads": 2},
     r"`hidden_dim` must be a multiple of 4, at least 8. Received: hidden_dim=4"),
    ({"position_embedding_placement": "every_layer"},
     r"`position_embedding_placement` must be 'stem'. Received: position_embedding_placement='every_layer'"),
])
def test_bad_arguments_fail_before_building(kwargs, message):
    with pytest.raises(ValueError, match=message):
        keras_vit.models.ViTConfig(position_embedding="sincos_2d", **kwargs)
