"""FlexiViT's patch-embedding resampling and the input-channel adaptation, against timm.

`tests/data/timm/kernels.npz` holds timm's own `resample_patch_embed` and
`adapt_input_conv` of seeded kernels, written by `make_kernel_fixtures.py` in an
environment of its own (timm pinned there), so the suite needs no timm.
"""

import pathlib
import re

import numpy as np
import pytest

from keras_vit.utils import adapt_input_channels, resample_patch_embedding
from keras_vit.utils.kernels import adapt_channel_values
from keras_vit.weights.input_kernel import PATCH_KERNEL, ROOT_KERNEL, fit_input_kernel

pytestmark = pytest.mark.backend_independent(reason="NumPy on stored arrays")

with np.load(pathlib.Path(__file__).parent.parent / "data" / "timm" / "kernels.npz") as _file:
    TIMM = dict(_file)


@pytest.mark.parametrize("case", ["up", "down", "to_rectangle", "from_rectangle"])
def test_resampling_is_timms_resample_patch_embed(case):
    kernel, expected = TIMM[f"resample/{case}/kernel"], TIMM[f"resample/{case}/expected"]
    resampled = resample_patch_embedding(kernel, expected.shape[:2])
    assert resampled.shape == expected.shape and resampled.dtype == np.float32
    np.testing.assert_allclose(resampled, expected, rtol=0, atol=1e-5)


@pytest.mark.parametrize("channels", [1, 2, 4])
def test_channel_adaptation_is_timms_adapt_input_conv(channels):
    adapted = adapt_input_channels(TIMM["adapt/kernel"], channels)
    np.testing.assert_allclose(adapted, TIMM[f"adapt/{channels}/expected"], rtol=0, atol=1e-6)


def test_the_same_shape_is_left_as_it_is():
    kernel = TIMM["adapt/kernel"]
    np.testing.assert_array_equal(resample_patch_embedding(kernel, 4), kernel.astype(np.float32))
    np.testing.assert_array_equal(adapt_input_channels(kernel, 3), kernel.astype(np.float32))


@pytest.mark.parametrize("size", [0, (4, 0), (4,), 2.5, True])
def test_a_patch_size_below_one_or_not_a_pair_is_refused(size):
    expected = rf"`new_patch_size` must be an int >= 1 .* Received: new_patch_size={re.escape(repr(size))}"
    with pytest.raises(ValueError, match=expected):
        resample_patch_embedding(TIMM["adapt/kernel"], size)


def test_a_kernel_that_is_not_4d_is_refused():
    with pytest.raises(ValueError, match=r"`kernel` must be 4-D, \(height, width, in_channels, out_channels\).*\(48, 5\)"):
        resample_patch_embedding(np.zeros((48, 5)), 2)
    with pytest.raises(ValueError, match=r"`kernel` must be 4-D"):
        adapt_input_channels(np.zeros((4, 4, 3)), 1)


def test_channels_below_one_and_kernels_not_rgb_are_refused():
    with pytest.raises(ValueError, match=r"`channels` must be an int >= 1.*Received: channels=0"):
        adapt_input_channels(TIMM["adapt/kernel"], 0)
    with pytest.raises(ValueError, match=r"RGB images \(3 input channels\).*\(4, 4, 1, 5\) for channels=3"):
        adapt_input_channels(TIMM["adapt/1/expected"], 3)


def test_pixel_statistics_follow_the_kernel():
    mean = (0.485, 0.456, 0.406)
    assert adapt_channel_values(mean, 1) == pytest.approx((np.mean(mean),))
    assert adapt_channel_values(mean, 4) == (0.485, 0.456, 0.406, 0.485)
    assert adapt_channel_values(mean, 3) == mean and adapt_channel_values(None, 1) is None


def test_only_the_kernel_that_takes_the_images_changes_its_channels():
    kernel = TIMM["adapt/kernel"]
    adapted, notes = fit_input_kernel(ROOT_KERNEL, kernel, (4, 4, 1, 5), has_root=True)
    np.testing.assert_allclose(adapted, TIMM["adapt/1/expected"], atol=1e-6)
    assert notes == ["conv_root/kernel adapted from 3 to 1 input channels (summed, as timm's adapt_input_conv)"]
    with pytest.raises(ValueError, match="only the patch size and the images' channels"):
        fit_input_kernel(PATCH_KERNEL, kernel, (4, 4, 1, 5), has_root=True)  # a hybrid's: the stem's channels
    with pytest.raises(ValueError, match="only the patch size"):
        fit_input_kernel(ROOT_KERNEL, kernel, (3, 3, 3, 5), has_root=True)
    resized, notes = fit_input_kernel(PATCH_KERNEL, kernel, (6, 6, 2, 5), has_root=False)
    assert resized.shape == (6, 6, 2, 5) and len(notes) == 2 and "4x4 to 6x6 patches" in notes[1]
