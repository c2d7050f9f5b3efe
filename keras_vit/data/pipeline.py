"""Batches for `model.fit`: training augmentation and evaluation resizing, in tf.data.

The pipelines run in `tf.data` on the CPU and feed `fit` on any Keras backend.
Images leave them as float32 in `[0, 255]` with the channels they came with
(RGB, or one for a grayscale source), the range keras_vit models take
when they include their own preprocessing; labels leave them one-hot, so MixUp
and CutMix can mix them and label smoothing can apply.
"""

import dataclasses
import functools

from keras_vit.utils.validation import check_grid, check_positive_int, check_rate

# Paper Appendix B.1.1 / the original input pipeline: Inception crops of 5% to
# 100% of the image area, aspect ratios 3/4 to 4/3, and random left-right flips.
INCEPTION_AREA = (0.05, 1.0)


@dataclasses.dataclass(frozen=True)
class Augmentation:
    """Training augmentation.

    Attributes:
        crop_area: pair of floats or None. Area range of the random
            Inception-style crop, as fractions of the image; None resizes the
            whole image. Defaults to `(0.05, 1.0)`.
        flip: bool. Random left-right flips. Defaults to True.
        randaugment: int. Operations per image of `keras.layers.RandAugment`;
            0 for none. Defaults to 0.
        randaugment_factor: float. RandAugment's strength in [0, 1].
            Defaults to 0.5.
        mixup: float. Alpha of `keras.layers.MixUp`; 0 for none. Defaults to 0.
        cutmix: float. Factor of `keras.layers.CutMix`; 0 for none. With both,
            each batch gets one of the two, drawn from the pipeline's seed.
            Defaults to 0.
    """

    crop_area: tuple | None = INCEPTION_AREA
    flip: bool = True
    randaugment: int = 0
    randaugment_factor: float = 0.5
    mixup: float = 0.0
    cutmix: float = 0.0

    def __post_init__(self):
        if self.crop_area is not None:
            low, high = self.crop_area
            if not 0 < low <= high <= 1:
                raise ValueError(
                    "`crop_area` must be None or (low, high) with 0 < low <= high <= 1. "
                    f"Received: crop_area={self.crop_area!r}"
                )
        if self.randaugment < 0 or self.mixup < 0 or self.cutmix < 0:
            raise ValueError(
                "`randaugment`, `mixup` and `cutmix` must be >= 0. Received: "
                f"randaugment={self.randaugment}, mixup={self.mixup}, cutmix={self.cutmix}"
            )


NO_AUGMENTATION = Augmentation(crop_area=None, flip=False)


def train_pipeline(
    dataset, num_classes, image_size, batch_size, augmentation=Augmentation(), size=None, seed=0,
    epochs=None, first_epoch=0,
):
    """Shuffled, augmented, one-hot batches for training.

    With `epochs`, the batches of epochs `first_epoch` to `epochs - 1` in one
    stream, each epoch's order drawn from `seed` and its index alone: a run
    resumed at `first_epoch` sees the order an uninterrupted one would (the
    random augmentations draw afresh). Give `model.fit` `steps_per_epoch`
    (`size // batch_size`). Without, one epoch, reshuffled each time through.

    Args:
        dataset: `tf.data.Dataset` of `(uint8 image, int label)`, e.g. a split
            of a `keras_vit.data.Source`.
        num_classes: int. Width of the one-hot labels.
        image_size: int or pair. The model's input `(height, width)`.
        batch_size: int. Examples per batch; the last, smaller batch is dropped.
        augmentation: `Augmentation`. Defaults to `Augmentation()`.
        size: int or None. Examples in `dataset`, to check `batch_size`
            against and size the shuffle buffer. Defaults to None.
        seed: int. Seed of the shuffling and the augmentation. Defaults to 0.
        epochs: int or None. The run's epochs; needs `size`. Defaults to None.
        first_epoch: int. The first epoch to yield, with `epochs`. Defaults to 0.

    Returns:
        A `tf.data.Dataset` of `(images, labels)`: float32 `(batch, h, w,
        channels)` in `[0, 255]` (the dataset's channels) and float32
        `(batch, num_classes)`.
    """
    import tensorflow as tf

    height, width = check_grid("image_size", image_size)
    batch_size = _check_batch(batch_size, size)
    channels = image_channels(dataset)

    def crop(image, label):
        image = _random_crop(image, augmentation.crop_area, seed) if augmentation.crop_area else image
        image = tf.ensure_shape(tf.image.resize(tf.cast(image, tf.float32), (height, width)), (height, width, channels))
        if augmentation.flip:
            image = tf.image.random_flip_left_right(image, seed=seed)
        return image, label

    buffer = min(size or 10_000, 10_000)

    def batches(order):
        return order.map(crop, num_parallel_calls=tf.data.AUTOTUNE).batch(batch_size, drop_remainder=True)

    def epoch(index):
        # Each epoch's order seeded by (seed, epoch), never reshuffled.
        return batches(dataset.shuffle(buffer, seed=seed * 1_000_003 + index, reshuffle_each_iteration=False))

    if epochs is None:
        data = batches(dataset.shuffle(buffer, seed=seed, reshuffle_each_iteration=True))
    else:
        if size is None:
            raise ValueError("`epochs` needs `size`, the examples in `dataset`, to size each epoch. Received: size=None")
        if not (isinstance(first_epoch, int) and 0 <= first_epoch):
            raise ValueError(f"`first_epoch` must be an int, 0 or more. Received: first_epoch={first_epoch!r}")
        # Empty when the run has finished every epoch.
        data = functools.reduce(tf.data.Dataset.concatenate, map(epoch, range(first_epoch, epochs)), epoch(0).take(0))
    data = data.map(_one_hot(num_classes), num_parallel_calls=tf.data.AUTOTUNE)
    if augmentation.randaugment:
        data = data.map(_randaugment(augmentation, seed), num_parallel_calls=tf.data.AUTOTUNE)
    if augmentation.mixup or augmentation.cutmix:
        # The mixers and the pick between them draw from stateful generators;
        # mapped one batch at a time they draw in batch order, so `seed` fixes
        # every batch (mapped in parallel, the batches would race for draws).
        data = data.map(_mix(augmentation, seed))
    return data.prefetch(tf.data.AUTOTUNE)


def eval_pipeline(dataset, num_classes, image_size, batch_size, crop_fraction=0.875):
    """Deterministic one-hot batches for validation and testing.

    Each image is resized so that the central `crop_fraction` of it fills the
    model's input, then centre-cropped; `crop_fraction=1` resizes the whole
    image, as the original ViT evaluation does.

    Args:
        dataset: `tf.data.Dataset` of `(uint8 image, int label)`.
        num_classes: int. Width of the one-hot labels.
        image_size: int or pair. The model's input `(height, width)`.
        batch_size: int. Examples per batch; the last batch may be smaller.
        crop_fraction: float in (0, 1]. Defaults to 0.875.

    Returns:
        A `tf.data.Dataset` of `(images, labels)` as `train_pipeline`'s.
    """
    import tensorflow as tf

    batch_size = check_positive_int("batch_size", batch_size)
    data = dataset.map(_eval_resize(image_size, crop_fraction, image_channels(dataset)), num_parallel_calls=tf.data.AUTOTUNE).batch(batch_size)
    return data.map(_one_hot(num_classes)).prefetch(tf.data.AUTOTUNE)


def image_channels(dataset):
    """The channels of the images of a `(image, label, ...)` dataset: 3 where unknown."""
    return dataset.element_spec[0].shape[-1] or 3


def _eval_resize(image_size, crop_fraction, channels):
    """The evaluation's deterministic resize and centre crop of one `(image, label)`."""
    import tensorflow as tf

    height, width = check_grid("image_size", image_size)
    if not 0 < crop_fraction <= 1:
        raise ValueError(f"`crop_fraction` must lie in (0, 1]. Received: crop_fraction={crop_fraction!r}")

    def resize(image, label):
        image = tf.cast(image, tf.float32)
        if crop_fraction < 1:
            scaled = (round(height / crop_fraction), round(width / crop_fraction))
            image = tf.image.resize(image, scaled)
            image = tf.image.resize_with_crop_or_pad(image, height, width)
        else:
            image = tf.image.resize(image, (height, width))
        return tf.ensure_shape(image, (height, width, channels)), label

    return resize


def padded_eval_pipeline(dataset, num_classes, image_size, batch_size, size, crop_fraction=0.875):
    """`eval_pipeline`'s batches, all whole, with a weight for each example.

    The split is padded with black images of weight 0 to a multiple of
    `batch_size`, so that every batch splits evenly between the processes of
    a multi-process job (Keras needs a known batch size to shard a dataset
    between JAX processes). Weighted, the padding changes no accuracy; a
    mean loss over the batches counts it as zero, so multiply the loss by
    `padded_size(size, batch_size) / size` (see `unpad_loss`).

    Args:
        dataset, num_classes, image_size, batch_size, crop_fraction: as
            `eval_pipeline`'s.
        size: int. Examples in `dataset`.

    Returns:
        A `tf.data.Dataset` of `(images, labels, weights)`, weights float32
        `(batch,)`, 1 for the split's examples and 0 for the padding.
    """
    import tensorflow as tf

    batch_size = check_positive_int("batch_size", batch_size)
    padding = padded_size(check_positive_int("size", size), batch_size) - size
    channels = image_channels(dataset)
    resize = _eval_resize(image_size, crop_fraction, channels)
    height, width = check_grid("image_size", image_size)
    real = dataset.map(resize, num_parallel_calls=tf.data.AUTOTUNE).map(lambda image, label: (image, label, 1.0))
    label_dtype = real.element_spec[1].dtype
    blank = tf.data.Dataset.from_tensors(
        (tf.zeros((height, width, channels)), tf.zeros((), label_dtype), tf.constant(0.0))
    ).repeat(padding)
    data = real.concatenate(blank).batch(batch_size, drop_remainder=True)
    hot = _one_hot(num_classes)
    return data.map(lambda images, labels, weights: (*hot(images, labels), weights)).prefetch(tf.data.AUTOTUNE)


def padded_size(size, batch_size):
    """`size` rounded up to a multiple of `batch_size`: the examples `padded_eval_pipeline` yields."""
    return -(-size // batch_size) * batch_size


def unpad_loss(loss, size, batch_size):
    """The mean loss over a split of `size` examples, from the one over `padded_eval_pipeline`'s batches."""
    return loss * padded_size(size, batch_size) / size


class BatchSizeError(ValueError):
    """A batch larger than the training split: `size` examples, `batch_size` asked for."""

    def __init__(self, batch_size, size):
        super().__init__(
            f"`batch_size` must not exceed the {size} training examples (the last, "
            f"partial batch is dropped, so no batch would be left). Received: batch_size={batch_size}"
        )
        self.batch_size = batch_size
        self.size = size


def _check_batch(batch_size, size):
    batch_size = check_positive_int("batch_size", batch_size)
    if size is not None and batch_size > size:
        raise BatchSizeError(batch_size, size)
    return batch_size


def _random_crop(image, area, seed):
    import tensorflow as tf

    begin, crop_size, _ = tf.image.sample_distorted_bounding_box(
        tf.shape(image),
        bounding_boxes=tf.constant([[[0.0, 0.0, 1.0, 1.0]]]),
        min_object_covered=0.0,
        aspect_ratio_range=(3 / 4, 4 / 3),
        area_range=area,
        max_attempts=10,
        use_image_if_no_bounding_boxes=True,
        seed=seed,
    )
    return tf.slice(image, begin, crop_size)


def _one_hot(num_classes):
    import tensorflow as tf

    def encode(images, labels):
        return images, tf.one_hot(tf.cast(labels, tf.int32), num_classes)

    return encode


def _randaugment(augmentation, seed):
    import keras

    randaugment = keras.layers.RandAugment(
        value_range=(0, 255),
        num_ops=augmentation.randaugment,
        factor=check_rate("randaugment_factor", min(augmentation.randaugment_factor, 0.999)),
        seed=seed,
    )
    return lambda images, labels: (randaugment(images), labels)


def _mix(augmentation, seed):
    """MixUp or CutMix of a batch; with both, a seeded coin picks one per batch."""
    import keras
    import tensorflow as tf

    mixers = []
    if augmentation.mixup:
        mixers.append(keras.layers.MixUp(alpha=augmentation.mixup, seed=seed))
    if augmentation.cutmix:
        mixers.append(keras.layers.CutMix(factor=augmentation.cutmix, seed=seed))
    if len(mixers) == 1:
        return lambda images, labels: _apply(mixers[0], images, labels)
    coin = tf.random.Generator.from_seed(seed)

    def mix_either(images, labels):
        first, second = (_apply(mixer, images, labels) for mixer in mixers)
        pick = coin.uniform(()) < 0.5
        return tf.where(pick, first[0], second[0]), tf.where(pick, first[1], second[1])

    return mix_either


def _apply(mixer, images, labels):
    mixed = mixer({"images": images, "labels": labels})
    return mixed["images"], mixed["labels"]
