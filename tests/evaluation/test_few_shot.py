"""`few_shot` on tiny random models and the bundled digits: the features, the draws, the result."""

import keras
import numpy as np
import pytest

import keras_vit
from keras_vit.data import load_digits, load_source
from keras_vit.evaluation import (
    FewShotResult,
    feature_model,
    features,
    few_shot,
    few_shot_accuracy,
    sample_shots,
    split_batches,
)

TINY = dict(patch_size=8, hidden_dim=16, num_layers=1, num_heads=2, mlp_dim=32, num_classes=10)
MODELS = {
    "vit": lambda: keras_vit.ViT(image_size=16, **TINY),
    "hybrid": lambda: keras_vit.ViTHybrid((), resnet_width=0.5, image_size=16, **{**TINY, "patch_size": 2}),
    "dynamic": lambda: keras_vit.ViT(image_size=16, dynamic_image_size=True, **TINY),
}


@pytest.fixture(scope="module")
def digits():
    """400 training and 150 test digits (at least 30 of each class in training)."""
    splits = load_digits(image_size=16)
    return {split: (splits[split][0][:size], splits[split][1][:size]) for split, size in (("train", 400), ("test", 150))}


def _by_hand(train_features, train_labels, test_features, test_labels, shots, seeds):
    return {
        k: tuple(
            few_shot_accuracy(train_features[chosen], train_labels[chosen], test_features, test_labels)
            for chosen in (sample_shots(train_labels, k, seed) for seed in seeds)
        )
        for k in shots
    }


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_accuracies_are_those_of_the_head_s_input_on_the_same_draws(kind, digits):
    model = MODELS[kind]()
    result = few_shot(model, digits["train"], digits["test"], shots=(5, 1), seeds=2, batch_size=128)
    assert isinstance(result, FewShotResult)
    assert result.shots == (1, 5) and result.seeds == (0, 1) and result.l2_reg == 2.0**10
    assert set(result.accuracies) == {1, 5} and all(len(v) == 2 for v in result.accuracies.values())
    assert all(0.0 <= a <= 1.0 for values in result.accuracies.values() for a in values)

    extractor = feature_model(model)
    (train_features, train_labels), (test_features, test_labels) = (
        features(extractor, digits[split], 128) for split in ("train", "test")
    )
    # The features, in batches of 128 with the last one padded, are the head's input.
    head_input = keras.Model(model.input, model.get_layer("head").input)
    for split, computed in (("train", train_features), ("test", test_features)):
        expected = keras.ops.convert_to_numpy(head_input(digits[split][0].astype("float32")))
        np.testing.assert_allclose(computed, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(train_labels, digits["train"][1])
    assert result.accuracies == _by_hand(train_features, train_labels, test_features, test_labels, (1, 5), (0, 1))
    assert result.mean[5] == pytest.approx(np.mean(result.accuracies[5]))
    assert result.std[5] == pytest.approx(np.std(result.accuracies[5]))


def test_features_are_the_pooled_tokens_after_pre_logits(digits):
    images = digits["test"][0][:8]
    model = keras_vit.ViT(image_size=16, representation_size=12, **TINY)
    head = model.get_layer("head")
    head.kernel.assign(np.random.default_rng(0).normal(size=head.kernel.shape))
    features = feature_model(model).predict(images, verbose=0)
    assert features.shape == (8, 12)
    # The head is the one Dense layer after the features.
    np.testing.assert_allclose(features @ keras.ops.convert_to_numpy(head.kernel), model.predict(images, verbose=0),
                               rtol=1e-5, atol=1e-5)

    headless = keras_vit.ViT(image_size=16, include_top=False, **TINY)
    assert feature_model(headless) is headless
    result = few_shot(headless, digits["train"], digits["test"], shots=1, seeds=[5])
    assert result.seeds == (5,) and len(result.accuracies[1]) == 1


def test_batches_of_a_dataset_give_what_arrays_give(digits):
    import tensorflow as tf

    model = MODELS["vit"]()
    as_arrays = few_shot(model, digits["train"], digits["test"], shots=(1, 5), seeds=2)
    train, test = (tf.data.Dataset.from_tensor_slices(digits[split]).batch(100) for split in ("train", "test"))
    assert few_shot(model, train, test, shots=(1, 5), seeds=2) == as_arrays
    # A list of (images, labels) batches, and the arrays as a list.
    batches = [(digits["train"][0][i:i + 150], digits["train"][1][i:i + 150]) for i in range(0, 400, 150)]
    assert few_shot(model, batches, list(digits["test"]), shots=(1, 5), seeds=2) == as_arrays


def test_split_batches_fit_the_model_s_input_and_range():
    source = load_source("digits", image_size=16)
    scaled = keras_vit.ViT(image_size=16, include_preprocessing=False, **TINY)
    for model, low in ((MODELS["vit"](), 0.0), (scaled, -1.0)):
        images, labels = next(iter(split_batches(source, "test", model, 360, crop_fraction=1.0)))
        assert images.shape == (360, 16, 16, 3) and labels.dtype == "int32"
        np.testing.assert_array_equal(labels, load_digits(image_size=16)["test"][1])
        assert float(np.min(images)) == low and float(np.max(images)) <= 255.0 + low * 254.0
    with pytest.raises(ValueError, match=r"`split` must be one of \['test', 'train', 'validation'\]"):
        split_batches(source, "val", scaled, 8)


def test_the_table_shows_every_shot_count_and_seed():
    result = FewShotResult((1, 5), (0, 1), {1: (0.25, 0.75), 5: (0.5, 0.5)}, l2_reg=1024.0)
    assert str(result).splitlines() == [
        "few-shot linear accuracy (l2_reg 1024, seeds 0, 1)",
        "shots    mean     std  per seed",
        "    1  0.5000  0.2500  0.2500 0.7500",
        "    5  0.5000  0.0000  0.5000 0.5000",
    ]


def test_bad_arguments_are_named(digits):
    model = MODELS["vit"]()
    train, test = digits["train"], digits["test"]
    smallest = np.bincount(train[1]).argmin()
    count = np.bincount(train[1]).min()
    with pytest.raises(ValueError, match=rf"Class {smallest} has {count} training examples, fewer than shots=500"):
        few_shot(model, train, test, shots=(1, 500))
    zeros = train[1] == 0
    with pytest.raises(ValueError, match=r"at least two classes .*Received: the classes \[0\]"):
        few_shot(model, (train[0][zeros], train[1][zeros]), test, shots=1)
    with pytest.raises(ValueError, match=r"`test_source` must be \(images, labels\) with one label per image. "
                                         r"Received: images.shape=\(150, 16, 16, 3\), labels.shape=\(149,\)"):
        few_shot(model, train, (test[0], test[1][:-1]))
    with pytest.raises(TypeError, match=r"`train_source` must be \(images, labels\) NumPy arrays or an iterable"):
        few_shot(model, {"images": train[0]}, test)
    for arguments, message in [
        (dict(shots=(0, 5)), "`shots` must be"), (dict(seeds=0), "`seeds` must be"),
        (dict(l2_reg=-1.0), "`l2_reg` must be"), (dict(batch_size=0), "`batch_size` must be"),
    ]:
        with pytest.raises(ValueError, match=message):
            few_shot(model, train, test, **arguments)


def test_a_model_without_a_head_that_is_not_headless_is_refused():
    inputs = keras.Input((16, 16, 3))
    plain = keras.Model(inputs, keras.layers.Dense(4, name="logits")(keras.layers.Flatten()(inputs)), name="plain")
    with pytest.raises(ValueError, match=r"`model` must be a keras_vit model with a 'head' layer or one built with "
                                         r"include_top=False.*Received: model.name='plain', which has no 'head' layer"):
        feature_model(plain)
