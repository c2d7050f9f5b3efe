"""Grayscale (and other channel counts) read as they are, and batched with their channels."""

import numpy as np
import pytest
from PIL import Image

from keras_vit.data import eval_pipeline, from_arrays, load_digits, load_source, train_pipeline
from keras_vit.data.pipeline import NO_AUGMENTATION, padded_eval_pipeline

pytestmark = pytest.mark.backend_independent(reason="tf.data pipelines, whatever Keras' backend")


def _gray_folder(root):
    rng = np.random.default_rng(0)
    for name in ("dark", "light"):
        (root / name).mkdir(parents=True)
        for index in range(5):
            pixels = rng.integers(0, 256, (10, 12), dtype=np.uint8)
            Image.fromarray(pixels, mode="L").save(root / name / f"{index}.png")
    return root


def test_a_grayscale_folder_is_read_with_its_one_channel_unchanged(tmp_path):
    folder = _gray_folder(tmp_path / "gray")
    source = load_source(str(folder), channels=1)
    image, label = next(iter(source.splits["train"]))
    assert image.shape == (10, 12, 1) and image.dtype.name == "uint8"
    stored = {np.asarray(Image.open(path)).tobytes() for path in sorted(folder.glob("*/*.png"))}
    assert image.numpy()[..., 0].tobytes() in stored
    rgb, _ = next(iter(load_source(str(folder)).splits["train"]))
    assert rgb.shape == (10, 12, 3)


def test_pipelines_keep_the_channels_of_their_data(tmp_path):
    splits = load_digits(image_size=8, channels=1)
    assert splits["test"][0].shape[1:] == (8, 8, 1)
    source = load_source("digits", image_size=8, channels=1)
    images, labels = next(iter(train_pipeline(source.splits["train"], 10, 16, 4, NO_AUGMENTATION)))
    assert images.shape == (4, 16, 16, 1) and labels.shape == (4, 10)
    assert next(iter(eval_pipeline(source.splits["test"], 10, 16, 4)))[0].shape == (4, 16, 16, 1)
    padded = padded_eval_pipeline(source.splits["validation"], 10, 16, 4, source.sizes["validation"])
    assert next(iter(padded))[0].shape == (4, 16, 16, 1)
    arrays = from_arrays(np.zeros((20, 8, 8, 5), "uint8"), np.arange(20) % 2, channels=5)
    assert arrays.splits["train"].element_spec[0].shape[-1] == 5


def test_channels_the_source_cannot_give_are_refused(tmp_path):
    with pytest.raises(ValueError, match=r"1 \(grayscale\), 3 \(RGB\) or 4 \(RGBA\) channels. Received: channels=2"):
        load_source(str(_gray_folder(tmp_path / "gray")), channels=2)
    with pytest.raises(ValueError, match=r"\(n, height, width, 5 or 1\) for channels=5. Received: images.shape=\(20, 8, 8, 3\)"):
        from_arrays(np.zeros((20, 8, 8, 3), "uint8"), np.arange(20) % 2, channels=5)
    with pytest.raises(ValueError, match=r"`channels` must be a positive integer. Received: channels=0"):
        load_digits(8, channels=0)
