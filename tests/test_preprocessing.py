import keras
import numpy as np
import pytest

import keras_vit
from keras_vit.classes import imagenet_classes


def test_preprocess_input_matches_the_models_own_preprocessing():
    kwargs = dict(image_size=16, patch_size=8, hidden_dim=8, num_layers=1, num_heads=2, mlp_dim=8, num_classes=3)
    inside = keras_vit.ViT(**kwargs)
    outside = keras_vit.ViT(include_preprocessing=False, **kwargs)
    for variable in inside.weights:
        variable.assign(np.random.default_rng(0).normal(size=variable.shape).astype("float32"))
    outside.set_weights(inside.get_weights())
    pixels = np.random.default_rng(1).uniform(0, 255, size=(2, 16, 16, 3)).astype("float32")
    np.testing.assert_allclose(
        outside.predict(keras_vit.preprocess_input(pixels), verbose=0), inside.predict(pixels, verbose=0), atol=1e-5
    )
    tensor = keras_vit.preprocess_input(keras.ops.convert_to_tensor(pixels))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(tensor), pixels / 127.5 - 1, atol=1e-6)


def test_preprocess_input_takes_a_family_models_mean_and_std():
    kwargs = dict(image_size=16, patch_size=8, hidden_dim=8, num_layers=1, num_heads=2, mlp_dim=8, num_classes=3,
                  pixel_mean=keras_vit.preprocessing.CLIP_MEAN, pixel_std=keras_vit.preprocessing.CLIP_STD)
    inside = keras_vit.ViT(**kwargs)
    outside = keras_vit.ViT(**{**kwargs, "include_preprocessing": False})
    for variable in inside.weights:
        variable.assign(np.random.default_rng(0).normal(size=variable.shape).astype("float32"))
    outside.set_weights(inside.get_weights())
    pixels = np.random.default_rng(1).uniform(0, 255, size=(2, 16, 16, 3)).astype("float32")
    mean, std = outside.vit_config.normalization
    np.testing.assert_allclose(outside.predict(keras_vit.preprocess_input(pixels, mean, std), verbose=0),
                               inside.predict(pixels, verbose=0), atol=1e-5)


def test_class_lists():
    assert len(imagenet_classes(1000)) == 1000
    assert len(imagenet_classes(21843)) == 21843
    assert imagenet_classes(1000)[0] == ("n01440764", "tench, Tinca tinca")
    assert imagenet_classes(21843)[0] == ("n00004475", "organism, being")


def test_decode_predictions_orders_and_names():
    scores = np.zeros((2, 1000), "float32")
    scores[0, [1, 2]] = [0.3, 0.7]
    scores[1, 0] = 1.0
    decoded = keras_vit.decode_predictions(scores, top=2)
    assert [name for _, name, _ in decoded[0]] == [
        "great white shark, white shark, man-eater, man-eating shark, Carcharodon carcharias",
        "goldfish, Carassius auratus",
    ]
    assert decoded[1][0][:2] == ("n01440764", "tench, Tinca tinca")
    assert keras_vit.decode_predictions(np.ones((1, 21843)), top=1)[0][0][2] == 1.0


def test_decode_predictions_rejects_other_class_counts():
    with pytest.raises(ValueError, match="Received: predictions with 10 classes"):
        keras_vit.decode_predictions(np.zeros((1, 10)))
