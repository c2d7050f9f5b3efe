"""What every data source becomes, and the split and checks the sources share.

Every source becomes a `Source`: per split, a `tf.data.Dataset` of
`(image, label)` pairs with uint8 RGB images (any size) and int32 labels, plus
the number of classes. `keras_vit.data.pipeline` turns these into batches.

This module imports no other `keras_vit.data` module, so that the sources
(`digits`, `folder`, `tfds`) can all import it and `load` can import them.
"""

import dataclasses
import math
import numbers

import numpy as np

SPLITS = {"train": 0.7, "validation": 0.1, "test": 0.2}


@dataclasses.dataclass
class Source:
    """A data set's splits as `tf.data.Dataset`s of `(uint8 image, int32 label)`.

    Attributes:
        splits: dict from split name ("train", "validation", "test") to dataset.
        sizes: dict from split name to its number of examples.
        num_classes: int.
        class_names: tuple of str, one per class.
        name: str. Where the data came from.
        skipped: int. Files skipped because they were not readable images.
        subset: int or None. The distinct training examples when the train
            split is a repeated subset (`keras_vit.data.subset.subset_train`),
            else None.
    """

    splits: dict
    sizes: dict
    num_classes: int
    class_names: tuple
    name: str
    skipped: int = 0
    subset: int | None = None


def stratified_split(labels, seed, fractions=SPLITS):
    """Splits example indices so that every class is divided in `fractions`.

    Each class's examples are shuffled and cut in the order of `fractions`: a
    split gets its fraction of the class, rounded, and the last split gets the
    rest. Each split's indices are then shuffled, so its classes are mixed.

    Args:
        labels: int array `(n,)`. The class of each example.
        seed: int. Seed of the shuffling; the same seed gives the same split.
        fractions: dict from split name to its fraction of each class, in
            [0, 1] and summing to 1. Defaults to 70/10/20 for
            train/validation/test.

    Returns:
        A dict from split name to an int array of indices into `labels`; the
        arrays are disjoint and together cover every index.

    Example:

    >>> parts = stratified_split(np.arange(20) % 2, seed=0)
    >>> {name: len(index) for name, index in parts.items()}
    {'train': 14, 'validation': 2, 'test': 4}
    """
    names = tuple(_check_fractions(fractions))
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    parts = {name: [] for name in names}
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        # Each share is rounded on its own, not cumulatively, as it always
        # was: this keeps the documented digits split (1,258 / 179 / 360).
        cuts = np.cumsum([round(len(members) * fractions[name]) for name in names[:-1]])
        for name, part in zip(names, np.split(members, cuts)):
            parts[name].append(part)
    return {name: rng.permutation(np.concatenate(index)) for name, index in parts.items()}


def _check_fractions(fractions):
    values = list(fractions.values()) if isinstance(fractions, dict) else []
    if (
        not values
        or not all(isinstance(v, numbers.Real) and 0 <= v <= 1 for v in values)
        or not math.isclose(sum(values), 1.0)
    ):
        raise ValueError(
            "`fractions` must be a dict from split name to a fraction in [0, 1], "
            f"the fractions summing to 1. Received: fractions={fractions!r}"
        )
    return fractions


def check_labels(labels, num_classes):
    """Raises a `ValueError` naming the first label outside `[0, num_classes)`."""
    labels = np.asarray(labels)
    bad = labels[(labels < 0) | (labels >= num_classes)]
    if bad.size:
        raise ValueError(
            f"Labels must lie in [0, {num_classes}) for {num_classes} classes. "
            f"Received: {bad.size} labels outside it, e.g. {int(bad[0])}"
        )


def from_split_arrays(splits, num_classes, class_names, name):
    """A `Source` from in-memory splits.

    Args:
        splits: dict from split name to `(images, labels)`: uint8 RGB arrays
            `(n, height, width, 3)` and int arrays `(n,)`.
        num_classes: int.
        class_names: sequence of str, one per class.
        name: str. Where the data came from.

    Returns:
        A `Source` whose datasets yield the arrays' rows as uint8 and int32.
    """
    import tensorflow as tf

    datasets = {
        split: tf.data.Dataset.from_tensor_slices((images.astype("uint8"), labels.astype("int32")))
        for split, (images, labels) in splits.items()
    }
    sizes = {split: len(labels) for split, (_, labels) in splits.items()}
    return Source(datasets, sizes, num_classes, tuple(class_names), name)
