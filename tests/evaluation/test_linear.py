"""big_vision's closed-form least squares against a direct ridge solve, and its accuracy."""

import numpy as np
import pytest

from keras_vit.evaluation import linear
from keras_vit.evaluation.linear import few_shot_accuracy, ridge_weights, targets, whiten

pytestmark = pytest.mark.backend_independent(reason="the solver is float64 NumPy")


def _augmented(train, test):
    """Whitening and the bias column, written out independently of `linear.whiten`."""
    train, test = np.asarray(train, np.float64), np.asarray(test, np.float64)
    mean, std = train.mean(axis=0), train.std(axis=0) + 1e-5
    return [np.hstack([(x - mean) / std, np.full((len(x), 1), 100.0)]) for x in (train, test)]


def _ridge(x, y, l2_reg):
    """`(XᵀX + λI)⁻¹XᵀY` by a linear solve: the textbook ridge solution."""
    return np.linalg.solve(x.T @ x + l2_reg * np.eye(x.shape[1]), x.T @ y)


def _one_hot_pm(labels, num_classes):
    return np.where(np.asarray(labels)[:, None] == np.arange(num_classes), 1.0, -1.0)


def _problem(num_train, dim, num_classes=4, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(num_classes, dim))
    train_labels = np.arange(num_train) % num_classes
    test_labels = rng.integers(0, num_classes, 50)
    train = centres[train_labels] + rng.normal(size=(num_train, dim))
    test = centres[test_labels] + rng.normal(size=(50, dim))
    train[:, 0] = 3.0  # a feature constant over the training set: whitened by 1e-5 alone
    return train.astype(dtype), train_labels, test.astype(dtype), test_labels


@pytest.fixture
def decomposed(monkeypatch):
    """The shapes of the matrices `ridge_weights` hands to `eigh`."""
    shapes, eigh = [], np.linalg.eigh

    def recording(matrix):
        shapes.append(matrix.shape)
        return eigh(matrix)

    monkeypatch.setattr(linear.np.linalg, "eigh", recording)
    return shapes


@pytest.mark.parametrize("l2_reg", [1.0, 2.0**10])
@pytest.mark.parametrize(
    "num_train, dim, gram",
    [(60, 10, (11, 11)), (11, 10, (11, 11)), (12, 40, (12, 12))],
    ids=["N>D: XᵀX", "N=D: XᵀX", "N<D: XXᵀ"],
)
def test_both_branches_give_the_ridge_solution(num_train, dim, gram, l2_reg, decomposed):
    train, train_labels, test, test_labels = _problem(num_train, dim)
    x_train, x_test = _augmented(train, test)
    expected = _ridge(x_train, _one_hot_pm(train_labels, 4), l2_reg)

    ours_train, ours_test = whiten(train, test)
    np.testing.assert_allclose(ours_train, x_train, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours_test, x_test, rtol=1e-12, atol=1e-12)
    weights = ridge_weights(x_train, targets(train_labels), l2_reg)
    assert decomposed == [gram]
    assert weights.shape == (dim + 1, 4) and weights.dtype == np.float64
    np.testing.assert_allclose(weights, expected, rtol=1e-6, atol=1e-9)
    predicted = np.argmax(x_test @ expected, axis=1)
    np.testing.assert_array_equal(np.argmax(x_test @ weights, axis=1), predicted)
    accuracy = few_shot_accuracy(train, train_labels, test, test_labels, l2_reg)
    assert accuracy == np.mean(predicted == test_labels)


@pytest.mark.parametrize("num_train", [800, 100], ids=["N>D", "N<D"])
def test_float32_features_768_wide_are_solved_in_float64(num_train):
    train, train_labels, test, test_labels = _problem(num_train, 768, num_classes=10, dtype=np.float32)
    x_train, x_test = _augmented(train, test)
    expected = _ridge(x_train, _one_hot_pm(train_labels, 10), 2.0**10)
    ours_train, _ = whiten(train, test)
    weights = ridge_weights(ours_train, targets(train_labels))
    # The same solve in float32 is off by 2e-7 (of weights up to 0.011) here, 200 times the tolerance.
    np.testing.assert_allclose(weights, expected, rtol=1e-6, atol=1e-9)
    accuracy = few_shot_accuracy(train, train_labels, test, test_labels)
    assert accuracy == np.mean(np.argmax(x_test @ expected, axis=1) == test_labels)


def test_separable_classes_are_all_right_and_random_labels_are_at_chance():
    rng = np.random.default_rng(1)
    labels = np.arange(500) % 10
    centres = 10.0 * rng.normal(size=(10, 32))
    features = centres[labels] + rng.normal(size=(500, 32))
    assert few_shot_accuracy(features[:300], labels[:300], features[300:], labels[300:]) == 1.0

    noise = rng.normal(size=(3000, 32))
    random_labels = rng.integers(0, 10, 3000)
    chance = few_shot_accuracy(noise[:1000], random_labels[:1000], noise[1000:], random_labels[1000:])
    # 2,000 test examples at p = 0.1: a standard deviation of 0.0067.
    assert 0.07 < chance < 0.13


def test_the_classes_are_zero_to_the_largest_training_label():
    np.testing.assert_array_equal(targets(np.array([0, 2, 2])), [[1, -1, -1], [-1, -1, 1], [-1, -1, 1]])
    rng = np.random.default_rng(2)
    train_labels = np.array([0, 2] * 20)
    train = 5.0 * train_labels[:, None] + rng.normal(size=(40, 3))
    test = np.concatenate([train[:4], 5.0 + rng.normal(size=(4, 3)), 15.0 + rng.normal(size=(2, 3))])
    test_labels = np.array([0, 2, 0, 2, 1, 1, 1, 1, 3, 3])
    # Class 1, absent from training, is never predicted, nor class 3 above the largest training label.
    assert few_shot_accuracy(train, train_labels, test, test_labels) == 0.4


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(train_features=np.zeros(4)), "`train_features` must be a 2-D array of finite numbers"),
        (dict(test_features=np.full((3, 2), np.nan)), "`test_features` must be a 2-D array of finite numbers"),
        (dict(train_labels=np.array([0.0, 1.0, 0.0, 1.0])), "`train_labels` must be a 1-D array of integer"),
        (dict(train_labels=np.array([0, 1, 0])), r"`train_labels` must hold one label per row of `train_features`, "
                                                 r"at least one. Received: 3 labels for 4 feature rows"),
        (dict(test_labels=np.array([0, 1])), "Received: 2 labels for 3 feature rows"),
        (dict(test_labels=np.array([0, -1, 1])), r"`test_labels` must be >= 0. Received: a label -1"),
        (dict(test_features=np.zeros((3, 5))), r"`test_features` must have as many columns as `train_features`. "
                                               r"Received: train_features.shape=\(4, 2\), test_features.shape=\(3, 5\)"),
        (dict(train_labels=np.array([3, 3, 3, 3])), r"at least two classes.*Received: the classes \[3\]"),
        (dict(l2_reg=0.0), r"`l2_reg` must be a finite number > 0. Received: l2_reg=0.0"),
        (dict(l2_reg=float("inf")), "Received: l2_reg=inf"),
        (dict(l2_reg=True), "Received: l2_reg=True"),
    ],
)
def test_bad_input_is_named(change, message):
    arguments = dict(
        train_features=np.eye(4, 2), train_labels=np.array([0, 1, 0, 1]),
        test_features=np.ones((3, 2)), test_labels=np.array([0, 1, 1]),
    )
    with pytest.raises(ValueError, match=message):
        few_shot_accuracy(**{**arguments, **change})


def test_whitening_is_float64_on_float32_features():
    # Features far from zero, as a ViT's can be: float32 means and differences keep about
    # 7 digits, which moves the whitened values by about 1e-4; float64 keeps them to 1e-12.
    rng = np.random.default_rng(0)
    train = (3e3 + rng.normal(size=(200, 6))).astype(np.float32)
    test = (3e3 + rng.normal(size=(20, 6))).astype(np.float32)
    x_train, x_test = whiten(train, test)
    assert x_train.dtype == x_test.dtype == np.float64
    for whitened, expected in zip((x_train, x_test), _augmented(train, test)):
        np.testing.assert_allclose(whitened, expected, rtol=0, atol=1e-9)
