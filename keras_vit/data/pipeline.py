"""Batches for `model.fit`: training augmentation and evaluation resizing, in tf.data.

The pipelines run in `tf.data` on the CPU and feed `fit` on any Keras backend.
Images leave them as float32 RGB in `[0, 255]`, the range keras_vit models take
when they include their own preprocessing; labels leave them one-hot, so MixUp
and CutMix can mix them and label smoothing can apply.
"""

import dataclasses

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


def train_pipeline(dataset, num_classes, image_size, batch_size, augmentation=Augmentation(), size=None, seed=0):
    """Shuffled, augmented, one-hot batches for training.

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

    Returns:
        A `tf.data.Dataset` of `(images, labels)`: float32 `(batch, h, w, 3)`
        in `[0, 255]` and float32 `(batch, num_classes)`.
    """
    import tensorflow as tf

    height, width = check_grid("image_size", image_size)
    batch_size = _check_batch(batch_size, size)

    def crop(image, label):
        image = _random_crop(image, augmentation.crop_area, seed) if augmentation.crop_area else image
        image = tf.ensure_shape(tf.image.resize(tf.cast(image, tf.float32), (height, width)), (height, width, 3))
        if augmentation.flip:
            image = tf.image.random_flip_left_right(image, seed=seed)
        return image, label

    data = dataset.shuffle(min(size or 10_000, 10_000), seed=seed, reshuffle_each_iteration=True)
    data = data.map(crop, num_parallel_calls=tf.data.AUTOTUNE)
    data = data.batch(batch_size, drop_remainder=True)
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

    height, width = check_grid("image_size", image_size)
    batch_size = check_positive_int("batch_size", batch_size)
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
        return tf.ensure_shape(image, (height, width, 3)), label

    data = dataset.map(resize, num_parallel_calls=tf.data.AUTOTUNE).batch(batch_size)
    return data.map(_one_hot(num_classes)).prefetch(tf.data.AUTOTUNE)


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
