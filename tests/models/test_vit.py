import keras
import numpy as np
import pytest

import keras_vit
from keras_vit.models import ViTConfig, macs
from tests import reference

TINY = dict(patch_size=8, hidden_dim=16, num_layers=2, num_heads=4, mlp_dim=24, num_classes=7)


def _randomize(model, seed=0):
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        variable.assign(rng.normal(scale=0.2, size=variable.shape).astype("float32"))


def _params(model):
    return {v.path: keras.ops.convert_to_numpy(v) for v in model.weights}


def _images(shape, seed=1):
    return np.random.default_rng(seed).uniform(0, 255, size=shape).astype("float32")


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"pooling": "gap"},
        {"representation_size": 12},
        {"activation": "gelu"},
        {"image_size": (24, 40)},
    ],
    ids=["token", "gap", "pre_logits", "exact_gelu", "non_square"],
)
def test_matches_numpy_forward_pass(kwargs):
    kwargs = {"image_size": 32, **TINY, **kwargs}
    model = keras_vit.ViT(**kwargs)
    _randomize(model)
    images = _images((3, *model.input_shape[1:3], 3))
    expected = reference.vit_forward(
        _params(model),
        images,
        num_heads=kwargs["num_heads"],
        pooling=kwargs.get("pooling", "token"),
        approximate_gelu=kwargs.get("activation", "gelu_tanh") == "gelu_tanh",
    )
    assert expected.std() > 0.1
    np.testing.assert_allclose(model.predict(images, verbose=0), expected, atol=1e-4)


def test_non_square_grid_and_shapes():
    model = keras_vit.ViT(image_size=(24, 40), **TINY)
    assert model.input_shape == (None, 24, 40, 3)
    assert model.get_layer("pos_embedding").grid_size == (3, 5)
    assert tuple(model.get_layer("pos_embedding").embedding.shape) == (1, 16, 16)
    assert model.output_shape == (None, 7)


def test_without_top_returns_the_pooled_representation():
    model = keras_vit.ViT(image_size=32, include_top=False, representation_size=12, **TINY)
    assert model.output_shape == (None, 12)
    assert "head" not in [layer.name for layer in model.layers]


def test_token_sequence_and_block_outputs_by_name():
    model = keras_vit.ViT(image_size=32, **TINY)
    sequence = keras.Model(model.input, model.get_layer("encoder_norm").output)
    blocks = keras.Model(model.input, [model.get_layer(f"encoderblock_{i}").output for i in range(2)])
    images = _images((2, 32, 32, 3))
    assert tuple(sequence(images).shape) == (2, 17, 16)
    assert [tuple(b.shape) for b in blocks(images)] == [(2, 17, 16)] * 2


def test_classifier_activation_softmax():
    model = keras_vit.ViT(image_size=32, classifier_activation="softmax", **TINY)
    _randomize(model)
    probabilities = model.predict(_images((2, 32, 32, 3)), verbose=0)
    np.testing.assert_allclose(probabilities.sum(axis=-1), 1.0, atol=1e-5)


def test_without_preprocessing_takes_the_minus_one_to_one_range():
    with_pre = keras_vit.ViT(image_size=32, **TINY)
    without = keras_vit.ViT(image_size=32, include_preprocessing=False, **TINY)
    _randomize(with_pre)
    without.set_weights(with_pre.get_weights())
    images = _images((2, 32, 32, 3))
    np.testing.assert_allclose(
        without.predict(images / 127.5 - 1, verbose=0), with_pre.predict(images, verbose=0), atol=1e-5
    )
    assert "preprocessing" not in [layer.name for layer in without.layers]


def test_weights_file_round_trip(tmp_path):
    model = keras_vit.ViT(image_size=32, **TINY)
    _randomize(model)
    path = str(tmp_path / "tiny.weights.h5")
    model.save_weights(path)
    loaded = keras_vit.ViT(image_size=32, weights=path, **TINY)
    images = _images((2, 32, 32, 3))
    np.testing.assert_array_equal(loaded.predict(images, verbose=0), model.predict(images, verbose=0))


def test_macs_of_vit_b16_at_224():
    # 17.6 GMAC per image is the figure usually quoted for ViT-B/16.
    assert round(macs(ViTConfig()) / 1e9, 1) == 17.6


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"image_size": 30}, r"`image_size` height must be divisible by patch_size=8. Received: image_size=\(30, 30\)"),
        ({"image_size": (32, 36)}, r"`image_size` width must be divisible by patch_size=8"),
        ({"image_size": (32, 0)}, r"`image_size` must be a positive int or a pair"),
        ({"hidden_dim": 18}, r"`hidden_dim` must be divisible by num_heads=4, .* Received: hidden_dim=18"),
        ({"pooling": "max"}, r"`pooling` must be one of 'token', 'gap', 'map'. Received: pooling='max'"),
        ({"dropout_rate": -0.1}, r"`dropout_rate` must be a number in \[0, 1\). Received: dropout_rate=-0.1"),
        ({"attention_dropout_rate": 1.5}, r"`attention_dropout_rate` must be a number in \[0, 1\)"),
        ({"num_classes": 0}, r"`num_classes` must be a positive integer. Received: num_classes=0"),
        ({"classifier_activation": "softmaxx"}, r"`classifier_activation` must be None or the name"),
        ({"position_embedding": "sinusoidal"},
         r"`position_embedding` must be one of 'none', 'learned_1d', 'learned_2d', 'relative', 'sincos_2d'. Received: position_embedding='sinusoidal'"),
        ({"position_embedding_placement": "head"},
         r"`position_embedding_placement` must be one of 'stem', 'every_layer', 'every_layer_shared'. Received: position_embedding_placement='head'"),
        ({"position_embedding": "none", "position_embedding_placement": "every_layer"},
         r"position_embedding='none' adds nothing.*Received: position_embedding_placement='every_layer'"),
        ({"position_embedding": "relative", "position_embedding_placement": "every_layer_shared"},
         r"position_embedding='relative' adds nothing.*Received: position_embedding_placement='every_layer_shared'"),
        ({"position_embedding": "learned_2d", "hidden_dim": 15, "num_heads": 3},
         r"`hidden_dim` must be even. Received: hidden_dim=15"),
        ({"weights": "imagenet21k"}, r"weights='imagenet21k' names published weights, but no published variant has this size"),
    ],
)
def test_bad_arguments_fail_before_building(kwargs, message):
    with pytest.raises(ValueError, match=message):
        keras_vit.ViT(**{"image_size": 32, **TINY, **kwargs})


def test_wrong_channel_count_at_call():
    model = keras_vit.ViT(image_size=32, **TINY)
    with pytest.raises(ValueError, match=r"expected shape=\(None, 32, 32, 3\), found shape=\(1, 32, 32, 4\)"):
        model(np.zeros((1, 32, 32, 4), "float32"))
