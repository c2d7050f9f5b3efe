"""Nested, class-stratified subsets of a training split (the paper's data-size experiments).

The paper pre-trains on random subsets of JFT-300M (9M, 30M, 90M and all of it,
Section 4.3) with the same recipe. `subset_indices` draws such subsets of any
training split: every class keeps the same fraction of its examples, and for
one seed a smaller fraction's examples are the first of a larger one's, so the
subsets are nested. `subset_train` applies one to a `Source`, repeating it so
that an epoch still has the full split's number of examples: every fraction is
trained on the same number of images, and only how many distinct ones differs.
"""

import dataclasses
import math
import numbers

import numpy as np


def check_fraction(name, value):
    """Returns `value` as a float if it lies in (0, 1], else raises a `ValueError` naming `name`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 < value <= 1.0:
        raise ValueError(
            f"`{name}` must be a fraction of the training examples in (0, 1]. Received: {name}={value!r}"
        )
    return float(value)


def subset_indices(labels, fraction, seed):
    """The indices of a class-stratified `fraction` of the examples, nested across fractions.

    One `np.random.default_rng(seed)` permutes each class's indices in turn,
    classes in increasing order; each class keeps the first
    `max(1, round(fraction * size))` (half to even) of its permutation. With the same seed a
    smaller fraction therefore keeps a subset of what a larger one keeps.

    Args:
        labels: int array `(n,)`. The class of each example.
        fraction: float in (0, 1]. The share of every class kept.
        seed: int. The seed of the permutations.

    Returns:
        An int array of the kept indices, increasing.

    Example:

    >>> labels = np.arange(100) % 4
    >>> small, large = (subset_indices(labels, f, seed=0) for f in (0.1, 0.5))
    >>> len(small), len(large), bool(np.isin(small, large).all())
    (8, 48, True)
    """
    fraction = check_fraction("fraction", fraction)
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    kept = []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        kept.append(members[: max(1, round(fraction * len(members)))])
    return np.sort(np.concatenate(kept)) if kept else np.zeros((0,), np.int64)


def split_labels(source, split="train"):
    """The labels of `source`'s `split`, in the dataset's order, as an int array (reads the split once)."""
    dataset = source.splits[split].map(lambda image, label: label)
    return np.fromiter(dataset.as_numpy_iterator(), dtype=np.int64, count=source.sizes[split])


def subset_train(source, fraction, seed):
    """`source` with its training split cut to a nested, stratified `fraction`, repeated to the full size.

    The kept examples (`subset_indices` of the split's labels) are repeated,
    and the repetition cut, to the full split's number of examples: a run of
    E epochs on the subset sees as many images, in as many steps, as a run of
    E epochs on the whole split. The other splits are unchanged.

    Args:
        source: `keras_vit.data.Source`.
        fraction: float in (0, 1]. 1 returns `source` itself.
        seed: int. The seed of the draw.

    Returns:
        A `Source`; `sizes["train"]` stays the full split's size, and
        `subset_size(source)` gives the number of distinct examples.
    """
    import tensorflow as tf

    fraction = check_fraction("train_fraction", fraction)
    if fraction == 1.0:
        return source
    full = source.sizes["train"]
    kept = subset_indices(split_labels(source), fraction, seed)
    mask = np.zeros((full,), bool)
    mask[kept] = True
    mask = tf.constant(mask)
    subset = source.splits["train"].enumerate().filter(lambda index, pair: tf.gather(mask, index))
    subset = subset.map(lambda index, pair: pair).cache()
    # The filter leaves the size unknown to tf.data; stated, every backend's
    # fit knows the epoch's steps, as with the whole split.
    repeated = subset.repeat(math.ceil(full / len(kept))).take(full)
    repeated = repeated.apply(tf.data.experimental.assert_cardinality(full))
    splits = dict(source.splits, train=repeated)
    return dataclasses.replace(source, splits=splits, name=f"{source.name} ({len(kept)} of {full} training examples)",
                               subset=len(kept))


def subset_size(source):
    """The number of distinct training examples of `source`: the subset's, or the whole split's."""
    return source.subset if source.subset is not None else source.sizes["train"]
