"""The targets of masked patch prediction against NumPy loops written from the paper's words."""

import re

import keras
import numpy as np
import pytest

from keras_vit.pretraining import (
    color_index,
    downsampled_color_targets,
    image_patches,
    mean_color_targets,
    pixel_targets,
)


def _bin(value):
    """A channel's 3-bit level: 32 values per level, 255 in the top one."""
    return min(7, int(np.floor(value / 32.0)))


def _index(color):
    red, green, blue = (_bin(value) for value in color)
    return 64 * red + 8 * green + blue


def _patches(image, patch):
    """Row-major patches of one image, as a list of (patch, patch, channels) arrays."""
    rows, cols = image.shape[0] // patch, image.shape[1] // patch
    return [image[r * patch:(r + 1) * patch, c * patch:(c + 1) * patch] for r in range(rows) for c in range(cols)]


def reference_mean_color(images, patch):
    return np.array([[_index(p.reshape(-1, 3).mean(0)) for p in _patches(image, patch)] for image in images])


def reference_downsampled(images, patch, cells=4):
    side = patch // cells
    return np.array([
        [[_index(cell.reshape(-1, 3).mean(0)) for cell in _patches(p, side)] for p in _patches(image, patch)]
        for image in images
    ])


def _numpy(tensor):
    return keras.ops.convert_to_numpy(tensor)


def _random_images(shape, seed=0):
    return np.random.default_rng(seed).uniform(0, 255, shape).astype("float32")


def test_mean_color_matches_numpy_on_random_images():
    images = _random_images((3, 16, 24, 3))
    # Random pixels average near 127.5; a brightness ramp per image spreads the means over the levels.
    images = images * np.linspace(0.1, 1.0, 3, dtype="float32")[:, None, None, None]
    targets = _numpy(mean_color_targets(images, 8))
    assert targets.shape == (3, 6) and targets.dtype == np.int32
    np.testing.assert_array_equal(targets, reference_mean_color(images, 8))
    assert len(np.unique(targets)) > 3


@pytest.mark.parametrize(
    "color, index",
    [
        ((0, 0, 0), 0),
        ((255, 255, 255), 511),  # 255 / 32 = 7.97: the top level, not an eighth
        ((255, 0, 0), 448),
        ((0, 255, 0), 56),
        ((0, 0, 255), 7),
        ((31, 32, 63), 9),  # level edges: 31 -> 0, 32 -> 1, 63 -> 1
        ((64, 224, 223), 2 * 64 + 7 * 8 + 6),
    ],
)
def test_index_formula_and_level_edges(color, index):
    images = np.zeros((1, 4, 8, 3), "float32")
    images[:, :, 4:] = color
    assert _numpy(mean_color_targets(images, 4)).tolist() == [[0, index]]
    assert _index(color) == index


def test_values_past_the_range_clip_to_the_end_levels():
    assert _numpy(color_index(np.array([[256.0, 300.0, -3.0]]))).tolist() == [7 * 64 + 7 * 8]


def test_downsampled_color_matches_numpy():
    images = _random_images((2, 16, 16, 3), seed=1) * np.array([0.2, 1.0], "float32")[:, None, None, None]
    targets = _numpy(downsampled_color_targets(images, 8))
    assert targets.shape == (2, 4, 16)
    np.testing.assert_array_equal(targets, reference_downsampled(images, 8))


def test_pixels_are_the_patches_in_minus_one_to_one():
    images = _random_images((2, 8, 12, 3), seed=2)
    targets = _numpy(pixel_targets(images, 4))
    expected = np.stack([[p.reshape(-1) / 127.5 - 1 for p in _patches(image, 4)] for image in images])
    assert targets.shape == (2, 6, 48)
    np.testing.assert_allclose(targets, expected, atol=1e-6)


def test_rectangular_patches_follow_the_token_order():
    images = _random_images((1, 8, 8, 1), seed=3)
    patches = _numpy(image_patches(images, (4, 2)))
    assert patches.shape == (1, 8, 4, 2, 1)
    np.testing.assert_array_equal(patches[0, 5], images[0, 4:8, 2:4])


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: mean_color_targets(np.zeros((1, 10, 8, 3)), 4), "divisible by patch_size=4"),
        (lambda: mean_color_targets(np.zeros((1, 8, 8, 4)), 4), "RGB images of shape (batch, height, width, 3)"),
        (lambda: mean_color_targets(np.zeros((8, 8, 3)), 4), "images.shape=(8, 8, 3)"),
        (lambda: downsampled_color_targets(np.zeros((1, 6, 6, 3)), 6), "divisible by cells=4"),
        (lambda: pixel_targets(np.zeros((1, 8, 8, 3)), 0), "`patch_size` must be a positive int"),
    ],
)
def test_bad_input_is_named(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()
