"""Few-shot linear evaluation of a model's frozen features (paper Section 4, Table 8, Figure 4).

The paper reports, beside fine-tuning, how well a linear classifier fitted in
closed form on k images per class separates the classes by a model's
pre-logits features. `few_shot` computes the features of a training pool and a
test set once, then fits `few_shot_accuracy` on seeded draws of k per class.
"""

import dataclasses

import keras
import numpy as np

from keras_vit.evaluation.linear import DEFAULT_L2_REG, check_examples, check_l2_reg, few_shot_accuracy
from keras_vit.evaluation.sampling import check_class_sizes, check_seeds, check_shots, sample_shots
from keras_vit.layers import names
from keras_vit.models.vision_transformer import find_config
from keras_vit.utils import progress
from keras_vit.utils.validation import check_positive_int

DEFAULT_SHOTS = (1, 5, 10, 25)
DEFAULT_BATCH_SIZE = 128


@dataclasses.dataclass(frozen=True)
class FewShotResult:
    """Few-shot linear accuracies, by shot count and seed.

    Attributes:
        shots: tuple of int. The shot counts, increasing.
        seeds: tuple of int. The seeds of the draws.
        accuracies: dict from shot count to a tuple of accuracies, one per seed.
        l2_reg: float. The ridge penalty.

    `mean` and `std` give, per shot count, the mean and the (population)
    standard deviation over the seeds; `str(result)` is a table of them.
    """

    shots: tuple
    seeds: tuple
    accuracies: dict
    l2_reg: float = DEFAULT_L2_REG

    @property
    def mean(self):
        """dict from shot count to the mean accuracy over the seeds."""
        return {k: float(np.mean(values)) for k, values in self.accuracies.items()}

    @property
    def std(self):
        """dict from shot count to the standard deviation of the accuracy over the seeds."""
        return {k: float(np.std(values)) for k, values in self.accuracies.items()}

    def __str__(self):
        seeds = ", ".join(map(str, self.seeds))
        lines = [
            f"few-shot linear accuracy (l2_reg {self.l2_reg:g}, seeds {seeds})",
            f"{'shots':>5}  {'mean':>6}  {'std':>6}  per seed",
        ]
        for k in self.shots:
            per_seed = " ".join(f"{value:.4f}" for value in self.accuracies[k])
            lines.append(f"{k:>5}  {self.mean[k]:.4f}  {self.std[k]:.4f}  {per_seed}")
        return "\n".join(lines)


def few_shot(model, train_source, test_source, shots=DEFAULT_SHOTS, seeds=3, l2_reg=DEFAULT_L2_REG,
             batch_size=DEFAULT_BATCH_SIZE):
    """Few-shot linear accuracy of `model`'s frozen features, as big_vision measures it.

    The features are the pre-logits representation (`feature_model`),
    computed once for every example of both sources. For each seed and shot
    count k, `sample_shots` draws k training examples of each class and
    `few_shot_accuracy` fits a least-squares classifier on their features
    and scores it on all of `test_source`.

    Args:
        model: keras.Model. A keras_vit classifier, or a model built with
            `include_top=False`.
        train_source: `(images, labels)` arrays, or an iterable of
            `(images, labels)` batches such as a `tf.data.Dataset`: images
            as `model` takes them, labels int class indices. The pool the
            k-shot examples are drawn from; every class needs at least
            `max(shots)` examples.
        test_source: the same kind, the examples the accuracy is measured on.
        shots: int or sequence of int. Examples per class. Defaults to
            `(1, 5, 10, 25)`, the paper's.
        seeds: int or sequence of int. The number of draws (seeds
            `0 ... seeds - 1`), or the seeds themselves. Defaults to 3.
        l2_reg: float > 0. The ridge penalty. Defaults to `2**10`.
        batch_size: int. Images per forward pass for array sources.
            Defaults to 128.

    Returns:
        A `FewShotResult`.

    Example:

    >>> import keras_vit
    >>> model = keras_vit.ViT(image_size=16, patch_size=8, hidden_dim=16, num_layers=1,
    ...                       num_heads=2, mlp_dim=32, num_classes=10)
    >>> splits = keras_vit.data.load_digits(image_size=16)
    >>> result = few_shot(model, splits["train"], splits["test"], shots=(1, 5), seeds=2)
    >>> sorted(result.accuracies), len(result.accuracies[5])
    ([1, 5], 2)
    """
    shots, seeds = check_shots(shots), check_seeds(seeds)
    l2_reg, batch_size = check_l2_reg(l2_reg), check_positive_int("batch_size", batch_size)
    extractor = feature_model(model)
    train_features, train_labels = features(extractor, train_source, batch_size, "train_source")
    check_class_sizes(train_labels, shots[-1])
    test_features, test_labels = features(extractor, test_source, batch_size, "test_source")
    accuracies = {k: [] for k in shots}
    for seed in seeds:
        for k in shots:
            chosen = sample_shots(train_labels, k, seed)
            accuracies[k].append(
                few_shot_accuracy(train_features[chosen], train_labels[chosen], test_features, test_labels, l2_reg)
            )
    return FewShotResult(shots, seeds, {k: tuple(values) for k, values in accuracies.items()}, l2_reg)


def feature_model(model):
    """The model of `model`'s pre-logits features, sharing its layers.

    For a classifier that is the input of its `head` layer: the pooled token,
    after the `pre_logits` layer where there is one. A keras_vit model built
    with `include_top=False` returns those features already and is returned
    as it is.

    Args:
        model: keras.Model.

    Returns:
        A `keras.Model` from `model`'s input to features `(batch, width)`.
    """
    if names.HEAD in {layer.name for layer in model.layers}:
        return keras.Model(model.input, model.get_layer(names.HEAD).input, name=f"{model.name}_features")
    config = find_config(model)
    if config is not None and not config.include_top:
        return model
    raise ValueError(
        f"`model` must be a keras_vit model with a {names.HEAD!r} layer or one built with "
        f"include_top=False, whose output is its features. Received: model.name={model.name!r}, "
        f"which has no {names.HEAD!r} layer"
    )


def features(extractor, source, batch_size, name="source"):
    """`(features, labels)` of every example of `source`: float64 `(n, width)`, int `(n,)`.

    Args:
        extractor: keras.Model, e.g. a `feature_model`.
        source: `(images, labels)` arrays, or an iterable of such batches.
        batch_size: int. Images per forward pass for arrays.
        name: str. The argument `source` was, for error messages.
    """
    outputs, labels, size = [], [], None
    batches, total, unit = _batches(source, batch_size, name)
    with progress.counter(f"features of the {name.removesuffix('_source')} images", total, unit) as count:
        for images, batch_labels in batches:
            images = np.asarray(images, np.float32)
            size = size or len(images)
            outputs.append(_predict(extractor, images, size))
            labels.append(np.asarray(batch_labels).reshape(-1))
            count.add(len(images) if unit == "images" else 1)
    if not outputs:
        raise ValueError(f"`{name}` must hold at least one example. Received: an empty {type(source).__name__}")
    return check_examples(name.removesuffix("_source"), np.concatenate(outputs), np.concatenate(labels))


def _predict(extractor, images, size):
    """`extractor`'s float64 outputs for `images`, a smaller last batch padded
    to the first's `size`: on JAX and TensorFlow another shape compiles the
    model again, which takes longer than the padding costs."""
    count = len(images)
    if count < size:
        images = np.concatenate([images, np.zeros((size - count, *images.shape[1:]), images.dtype)])
    return np.asarray(extractor.predict_on_batch(images), np.float64)[:count]


def _batches(source, batch_size, name):
    """`source` as an iterable of `(images, labels)` batches, with how much it holds for the progress
    counter: `(batches, total, unit)`. A pair of arrays is one source, not two batches."""
    if isinstance(source, (tuple, list)) and len(source) == 2 and not isinstance(source[0], (tuple, list)):
        images, labels = np.asarray(source[0]), np.asarray(source[1])
        if labels.ndim != 1 or len(labels) != len(images):
            raise ValueError(
                f"`{name}` must be (images, labels) with one label per image. Received: "
                f"images.shape={images.shape}, labels.shape={labels.shape}"
            )
        batches = ((images[i:i + batch_size], labels[i:i + batch_size]) for i in range(0, len(images), batch_size))
        return batches, len(images), "images"
    if isinstance(source, (str, bytes, dict, np.ndarray)) or not hasattr(source, "__iter__"):
        raise TypeError(
            f"`{name}` must be (images, labels) NumPy arrays or an iterable of (images, labels) "
            f"batches such as a tf.data.Dataset. Received: {name} of type {type(source).__name__}"
        )
    try:
        total = len(source)  # a tf.data.Dataset of unknown length raises TypeError
    except TypeError:
        total = None
    return source, total, "batches"
