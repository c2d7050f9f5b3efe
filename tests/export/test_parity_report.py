"""The export report says what the parity check compared, in counts of images."""

import pytest

from keras_vit.export.parity import TOLERANCES, ParityReport

pytestmark = pytest.mark.backend_independent(reason="the text of a dataclass")


def _report(precision, top1=1.0, decisive=1.0, num_decisive=8):
    return ParityReport(
        max_abs_diff=2e-6, scale=8.0, noise_floor=1e-6, tolerance=8e-4, top1_agreement=top1,
        decisive_agreement=decisive, num_decisive=num_decisive, min_top1=TOLERANCES[precision].top1,
        num_images=8, input_dtypes=("float32", "uint8"),
    )


def test_float32_says_the_top1_class_is_not_required():
    assert str(_report(None)) == (
        "max |difference| 2e-06 (tolerance 0.0008), same top-1 class on 8 of 8 images "
        "(not required: only the difference is checked), inputs float32/uint8"
    )


def test_a_check_without_a_clear_cut_image_says_so_rather_than_give_a_percentage_of_none():
    text = str(_report("int8", top1=0.625, decisive=1.0, num_decisive=0))
    assert text == (
        "max |difference| 2e-06 (tolerance 0.0008), same top-1 class on 5 of 8 images (not required: no "
        "image's best class leads its runner-up by more than the allowed difference), inputs float32/uint8"
    )


def test_the_clear_cut_images_are_counted_with_the_share_required():
    text = str(_report("int8", top1=0.625, decisive=0.75, num_decisive=4))
    assert "same top-1 class on 5 of 8 images, and on 3 of the 4 whose best class leads by more than the " \
           "allowed difference (at least 40% required)" in text
    assert "decisive" not in text and "at least 0%" not in text
