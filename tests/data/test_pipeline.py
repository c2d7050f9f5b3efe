import keras
import numpy as np
import pytest

from keras_vit.data import Augmentation, NO_AUGMENTATION, eval_pipeline, from_arrays, train_pipeline


def _source(n=40, size=(12, 20)):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, size=(n, *size, 3), dtype=np.uint8)
    return from_arrays(images, np.arange(n) % 4)


def _first(dataset):
    images, labels = next(iter(dataset))
    return np.asarray(images), np.asarray(labels)


def test_train_batches_are_augmented_float_pixels_and_one_hot_labels():
    source = _source()
    data = train_pipeline(source.splits["train"], 4, 16, 8, Augmentation(), size=source.sizes["train"])
    images, labels = _first(data)
    assert images.shape == (8, 16, 16, 3) and images.dtype == np.float32
    assert 0 <= images.min() and images.max() <= 255
    assert labels.shape == (8, 4) and set(np.unique(labels)) == {0.0, 1.0}
    assert sum(1 for _ in data) == source.sizes["train"] // 8


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="tracing Keras 3.15's RandAugment into tf.data takes about 100 s under the JAX "
    "backend (4 s under TensorFlow); the pipeline code is the same on every backend",
)
def test_randaugment_changes_the_pixels_and_keeps_the_range():
    source = _source(size=(16, 16))
    plain, _ = _first(train_pipeline(source.splits["train"], 4, 16, 8, NO_AUGMENTATION, seed=2))
    augmented, _ = _first(
        train_pipeline(source.splits["train"], 4, 16, 8, Augmentation(crop_area=None, flip=False, randaugment=2), seed=2)
    )
    assert augmented.shape == plain.shape and 0 <= augmented.min() and augmented.max() <= 255
    assert np.abs(augmented - plain).max() > 1


def test_mixup_and_cutmix_mix_the_labels():
    source = _source()
    for augmentation in (Augmentation(mixup=0.8), Augmentation(cutmix=1.0), Augmentation(mixup=0.8, cutmix=1.0)):
        _, labels = _first(train_pipeline(source.splits["train"], 4, 16, 16, augmentation, seed=1))
        np.testing.assert_allclose(labels.sum(-1), 1.0, atol=1e-5)
        assert ((labels > 0) & (labels < 1)).any()


def test_mixing_with_both_mixers_is_fixed_by_the_seed():
    # Crops and flips off: this is about the mixers and the pick between them.
    source = _source(n=80, size=(8, 8))
    augmentation = Augmentation(crop_area=None, flip=False, mixup=0.8, cutmix=1.0)

    def batches(seed):
        data = train_pipeline(source.splits["train"], 4, 8, 4, augmentation, seed=seed)
        return [np.asarray(part) for _ in range(2) for batch in data for part in batch]  # two epochs

    first, again, other = batches(5), batches(5), batches(6)
    for left, right in zip(first, again):
        np.testing.assert_array_equal(left, right)
    assert any(not np.array_equal(left, right) for left, right in zip(first, other))


def test_eval_resizes_and_centre_crops_deterministically():
    images = np.zeros((2, 40, 40, 3), np.uint8)
    images[:, 15:25, 15:25] = 255  # a centred square, a quarter of the side
    source = from_arrays(images, np.array([0, 1]))
    dataset = source.splits["train"].concatenate(source.splits["test"])
    whole, _ = _first(eval_pipeline(dataset, 2, 20, 2, crop_fraction=1.0))
    cropped, _ = _first(eval_pipeline(dataset, 2, 20, 2, crop_fraction=0.5))
    # Resized whole, the square spans a quarter of the side (5 of 20 pixels of
    # ink); cropped to the central half, it spans half of it.
    np.testing.assert_allclose(whole[0, :, 10, 0].sum() / 255, 5, atol=1e-4)
    np.testing.assert_allclose(cropped[0, :, 10, 0].sum() / 255, 10, atol=1e-4)
    again, _ = _first(eval_pipeline(dataset, 2, 20, 2, crop_fraction=0.5))
    np.testing.assert_array_equal(cropped, again)


def test_no_augmentation_is_a_plain_resize():
    source = _source(size=(16, 16))
    images, _ = _first(train_pipeline(source.splits["train"], 4, 16, 28, NO_AUGMENTATION))
    originals = {image.numpy().tobytes() for image, _ in source.splits["train"]}
    assert all(image.astype(np.uint8).tobytes() in originals for image in images)


def test_bad_batch_and_augmentation_arguments_are_rejected():
    source = _source()
    with pytest.raises(ValueError, match="`batch_size` must not exceed the 28 training examples"):
        train_pipeline(source.splits["train"], 4, 16, 64, size=source.sizes["train"])
    with pytest.raises(ValueError, match="`crop_area` must be None or"):
        Augmentation(crop_area=(0.5, 1.5))
    with pytest.raises(ValueError, match="`crop_fraction` must lie in"):
        eval_pipeline(source.splits["test"], 4, 16, 8, crop_fraction=0)


def test_padded_evaluation_is_whole_batches_whose_weighted_metrics_are_the_splits():
    from keras_vit.data.pipeline import padded_eval_pipeline, padded_size, unpad_loss

    source = _source(n=40)
    split, size = source.splits["train"], source.sizes["train"]
    assert size % 8
    plain = [(np.asarray(x), np.asarray(y)) for x, y in eval_pipeline(split, 4, 16, 8)]
    padded = [tuple(map(np.asarray, batch)) for batch in padded_eval_pipeline(split, 4, 16, 8, size)]
    assert [len(x) for x, _, _ in padded] == [8] * (padded_size(size, 8) // 8) and padded_size(size, 8) > size
    weights = np.concatenate([w for _, _, w in padded])
    assert weights.tolist() == [1.0] * size + [0.0] * (padded_size(size, 8) - size)
    np.testing.assert_array_equal(np.concatenate([x for x, _, _ in padded])[:size], np.concatenate([x for x, _ in plain]))
    # A per-example loss, averaged over the padded batches and unpadded, is the split's mean.
    losses = np.concatenate([x.mean(axis=(1, 2, 3)) * w for x, _, w in padded])
    assert unpad_loss(losses.mean(), size, 8) == pytest.approx(np.concatenate([x for x, _ in plain]).mean(axis=(1, 2, 3)).mean())


@pytest.mark.parametrize("size, padded", [(1, 8), (7, 8), (8, 8), (9, 16), (16, 16), (17, 24)])
def test_padding_rounds_up_to_the_next_whole_batch_only(size, padded):
    from keras_vit.data.pipeline import padded_size, unpad_loss

    assert padded_size(size, 8) == padded
    assert unpad_loss(1.0, size, 8) == pytest.approx(padded / size)


def test_a_split_of_whole_batches_is_not_padded():
    from keras_vit.data.pipeline import padded_eval_pipeline

    source = _source(n=40)
    split, size = source.splits["train"], source.sizes["train"]
    batch_size = size // 2
    padded = [tuple(map(np.asarray, batch)) for batch in padded_eval_pipeline(split, 4, 16, batch_size, size)]
    assert len(padded) == 2 and np.concatenate([w for _, _, w in padded]).tolist() == [1.0] * size


def test_a_stream_of_epochs_resumed_at_an_epoch_yields_that_epochs_batches():
    source = _source(n=60)
    split, size = source.splits["train"], source.sizes["train"]
    whole = [np.asarray(x) for x, _ in train_pipeline(split, 4, 8, 8, NO_AUGMENTATION, size=size, seed=3, epochs=3)]
    resumed = [np.asarray(x) for x, _ in train_pipeline(split, 4, 8, 8, NO_AUGMENTATION, size=size, seed=3, epochs=3, first_epoch=2)]
    steps = size // 8
    assert len(whole) == 3 * steps and len(resumed) == steps
    np.testing.assert_array_equal(np.concatenate(whole[2 * steps:]), np.concatenate(resumed))
    assert not np.array_equal(np.concatenate(whole[:steps]), np.concatenate(resumed))  # epochs differ in order
    with pytest.raises(ValueError, match="`first_epoch` must be an int, 0 or more. Received: first_epoch=-1"):
        train_pipeline(source.splits["train"], 4, 8, 8, size=40, epochs=3, first_epoch=-1)
