"""examples/segmentation.py: a ViT's feature maps under a segmentation head learn the masks."""

import importlib.util
import pathlib

EXAMPLE = pathlib.Path(__file__).parent.parent / "examples" / "segmentation.py"


def test_the_segmentation_example_learns_the_masks():
    spec = importlib.util.spec_from_file_location("segmentation_example", EXAMPLE)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    before, after, background = example.main(["--tiny", "--epochs", "3"])
    # Better than calling every pixel background, which a head that learned nothing would at best do.
    assert after["accuracy"] > background + 0.03
    assert after["loss"] < before["loss"]
