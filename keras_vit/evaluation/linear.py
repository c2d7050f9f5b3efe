"""Closed-form least-squares classification on frozen features, as big_vision's few-shot evaluator.

big_vision (`evaluators/fewshot_lsr.py`), which produced the paper's few-shot
numbers (Table 8, Figure 4), fits one L2-regularised linear regression from
whitened features to `{-1, 1}` one-hot targets and predicts the largest
output. The same solve is here in float64 NumPy: done in float32, for 800
examples of 768 random features, the weights are off by 2e-5 of the largest
one and by up to 12% on small ones.
"""

import numbers

import numpy as np

# The constant feature appended to every example: a bias that `l2_reg` barely
# shrinks, since its weight need only be 1/100 of an unregularised one.
BIAS = 100.0
# Added to each feature's standard deviation, so that a feature constant over
# the training examples does not divide by zero.
STD_EPSILON = 1e-5
DEFAULT_L2_REG = 2.0**10


def few_shot_accuracy(train_features, train_labels, test_features, test_labels, l2_reg=DEFAULT_L2_REG):
    """Accuracy of a least-squares linear classifier fitted in closed form.

    The features are whitened with the training examples' mean and standard
    deviation (plus 1e-5), a constant feature 100 is appended as a bias, and
    the targets are `2 * one_hot(label) - 1`; `ridge_weights` solves for the
    weights and each test example gets the class of its largest output.

    The classes are `0 ... max(train_labels)`, as `one_hot(y, num_classes)` in
    big_vision: a test label above the largest training label is never
    predicted and counts as wrong.

    Args:
        train_features: float array `(n, d)`. One row per training example.
        train_labels: int array `(n,)` of labels >= 0, at least two distinct.
        test_features: float array `(m, d)`.
        test_labels: int array `(m,)` of labels >= 0.
        l2_reg: float > 0. The ridge penalty. Defaults to `2**10`, big_vision's.

    Returns:
        The fraction of test examples classified right, a float in [0, 1].

    Example:

    >>> features = np.array([[0.0, 1.0], [0.1, 0.9], [1.0, 0.0], [0.9, 0.1]])
    >>> few_shot_accuracy(features, [0, 0, 1, 1], features[::-1], [1, 1, 0, 0])
    1.0
    """
    train_features, train_labels = check_examples("train", train_features, train_labels)
    test_features, test_labels = check_examples("test", test_features, test_labels)
    if test_features.shape[1] != train_features.shape[1]:
        raise ValueError(
            "`test_features` must have as many columns as `train_features`. Received: "
            f"train_features.shape={train_features.shape}, test_features.shape={test_features.shape}"
        )
    x_train, x_test = whiten(train_features, test_features)
    weights = ridge_weights(x_train, targets(train_labels), check_l2_reg(l2_reg))
    predicted = np.argmax(x_test @ weights, axis=1)
    return float(np.mean(predicted == test_labels))


def whiten(train_features, test_features):
    """Both sets standardised with the training set's mean and std (+1e-5),
    in float64, each with the constant bias feature appended."""
    train_features = np.asarray(train_features, np.float64)
    mean = train_features.mean(axis=0)
    std = train_features.std(axis=0) + STD_EPSILON

    def standardise(features):
        features = (np.asarray(features, np.float64) - mean) / std
        return np.pad(features, ((0, 0), (0, 1)), constant_values=BIAS)

    return standardise(train_features), standardise(test_features)


def targets(labels):
    """`2 * one_hot(labels, max(labels) + 1) - 1`, float64: +1 for the class, -1 elsewhere."""
    labels = np.asarray(labels)
    if len(np.unique(labels)) < 2:
        raise ValueError(
            "`train_labels` must hold at least two classes: a linear classifier needs two to "
            f"tell apart. Received: the classes {np.unique(labels).tolist()}"
        )
    one_hot = labels[:, None] == np.arange(labels.max() + 1)
    return 2.0 * one_hot - 1.0


def ridge_weights(features, targets, l2_reg=DEFAULT_L2_REG):
    """The ridge solution `(XᵀX + λI)⁻¹ XᵀY`, through an eigendecomposition.

    With N examples of D features, the symmetric matrix decomposed is `XᵀX`
    (D x D) when N >= D and `XXᵀ` (N x N) otherwise, whichever is smaller,
    using `(XᵀX + λI)⁻¹Xᵀ = Xᵀ(XXᵀ + λI)⁻¹`; both are big_vision's
    `lhs / (eigs + λ) @ rhs`. No regularisation is left out: whitening and
    the bias feature are the caller's (`whiten`).

    Args:
        features: float array `(n, d)`, `X`.
        targets: float array `(n, c)`, `Y`.
        l2_reg: float > 0. `λ`. Defaults to `2**10`.

    Returns:
        A float64 array `(d, c)`.

    Example:

    >>> ridge_weights(np.eye(2), np.array([[1.0], [-1.0]]), l2_reg=1.0).ravel().tolist()
    [0.5, -0.5]
    """
    x = np.asarray(features, np.float64)
    y = np.asarray(targets, np.float64)
    num_points, dim = x.shape
    if num_points >= dim:
        eigs, q = np.linalg.eigh(x.T @ x)
        lhs, rhs = q, q.T @ (x.T @ y)
    else:
        eigs, q = np.linalg.eigh(x @ x.T)
        lhs, rhs = x.T @ q, q.T @ y
    return (lhs / (eigs + l2_reg)) @ rhs


def check_examples(split, features, labels):
    """`features` as a 2-D float array and `labels` as a 1-D int array of equal
    length and values >= 0; raises a `ValueError` naming `{split}_features`
    or `{split}_labels` otherwise."""
    features, labels = np.asarray(features), np.asarray(labels)
    if features.ndim != 2 or not np.issubdtype(features.dtype, np.number) or not np.isfinite(features).all():
        raise ValueError(
            f"`{split}_features` must be a 2-D array of finite numbers, one row per example. "
            f"Received: {split}_features.shape={features.shape}, dtype={features.dtype}"
        )
    if labels.ndim != 1 or not (np.issubdtype(labels.dtype, np.integer) or labels.size == 0):
        raise ValueError(
            f"`{split}_labels` must be a 1-D array of integer class indices. "
            f"Received: {split}_labels.shape={labels.shape}, dtype={labels.dtype}"
        )
    if len(labels) != len(features) or not len(labels):
        raise ValueError(
            f"`{split}_labels` must hold one label per row of `{split}_features`, at least one. "
            f"Received: {len(labels)} labels for {len(features)} feature rows"
        )
    if labels.min() < 0:
        raise ValueError(f"`{split}_labels` must be >= 0. Received: a label {int(labels.min())}")
    return features, labels


def check_l2_reg(l2_reg):
    """Returns `l2_reg` as a float if it is a finite number > 0, else raises a `ValueError`."""
    if isinstance(l2_reg, bool) or not isinstance(l2_reg, numbers.Real) or not 0 < l2_reg < np.inf:
        raise ValueError(f"`l2_reg` must be a finite number > 0. Received: l2_reg={l2_reg!r}")
    return float(l2_reg)
