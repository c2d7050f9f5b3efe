"""Which training examples a few-shot run sees: k of each class, by seed, as big_vision draws them."""

import numbers

import numpy as np

from keras_vit.utils.validation import check_positive_int


def sample_shots(labels, shots, seed):
    """The indices of `shots` examples of each class, drawn by `seed`.

    As big_vision: one `np.random.default_rng(seed)` permutes each class's
    indices in turn, classes in increasing order, and the first `shots` of
    each permutation are taken. The draws for fewer shots are therefore the
    first ones of those for more, with the same seed.

    Args:
        labels: int array `(n,)`. The class of each training example.
        shots: int >= 1. Examples per class.
        seed: int >= 0.

    Returns:
        An int array of `shots * classes` indices into `labels`, class by class.

    Example:

    >>> sample_shots(np.array([0, 1, 0, 1, 0, 1]), shots=2, seed=0).shape
    (4,)
    """
    labels = np.asarray(labels)
    shots = check_positive_int("shots", shots)
    check_class_sizes(labels, shots)
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.permutation(np.flatnonzero(labels == c))[:shots] for c in np.unique(labels)])


def check_class_sizes(labels, shots):
    """Raises a `ValueError` naming the smallest class if it has fewer than `shots` examples."""
    classes, counts = np.unique(np.asarray(labels), return_counts=True)
    if len(classes) < 2:
        raise ValueError(
            "The training examples must hold at least two classes for a linear classifier to tell "
            f"apart. Received: the classes {classes.tolist()}"
        )
    smallest = int(np.argmin(counts))
    if counts[smallest] < shots:
        raise ValueError(
            f"Class {classes[smallest]} has {counts[smallest]} training examples, fewer than "
            f"shots={shots}: every class needs at least as many examples as the largest shot count."
        )


def check_shots(shots):
    """`shots` as a tuple of distinct positive ints in increasing order; raises a `ValueError` otherwise."""
    values = (shots,) if isinstance(shots, numbers.Integral) else shots
    try:
        values = tuple(values)
    except TypeError:
        values = ()
    if not values or not all(_is_int(k) and k >= 1 for k in values) or len(set(values)) != len(values):
        raise ValueError(
            "`shots` must be a positive integer or a sequence of distinct positive integers, "
            f"e.g. (1, 5, 10, 25). Received: shots={shots!r}"
        )
    return tuple(sorted(int(k) for k in values))


def check_seeds(seeds):
    """`seeds` as a tuple of seeds: an int N gives `(0, ..., N - 1)`, as big_vision's `num_seeds`;
    a sequence gives its distinct ints >= 0. Raises a `ValueError` otherwise."""
    if _is_int(seeds):
        return tuple(range(check_positive_int("seeds", seeds)))
    try:
        values = tuple(seeds)
    except TypeError:
        values = ()
    if not values or not all(_is_int(s) and s >= 0 for s in values) or len(set(values)) != len(values):
        raise ValueError(
            "`seeds` must be a number of seeds (a positive integer) or a sequence of distinct "
            f"integers >= 0. Received: seeds={seeds!r}"
        )
    return tuple(int(s) for s in values)


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)
