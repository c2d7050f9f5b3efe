"""How exactly the ViT family loads: keras_vit against transformers and timm, one backend per run.

Not a timing: for each family, the largest difference between keras_vit's
output and the original's, relative to the original output's largest value,
on the tiny random models the test suite checks (every weight perturbed):
transformers models built and saved here, and timm's outputs stored by
`tests/data/timm/make_fixtures.py`. The suite asserts each is at most 1e-4.

    KERAS_BACKEND=jax python benchmarks/family_parity.py   # and tensorflow, torch

Needs the test extras (torch, transformers).
"""

import pathlib
import sys
import tempfile

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import keras  # noqa: E402

import keras_vit  # noqa: E402
from tests.weights import test_family_hf as hf_cases  # noqa: E402
from tests.weights.test_family_timm import ARCHITECTURES, DATA, DYNAMIC  # noqa: E402


def relative(actual, expected):
    actual = np.asarray(keras.ops.convert_to_numpy(actual))
    return float(np.abs(actual - expected).max() / np.abs(expected).max())


def transformers_rows():
    for case, (config, model_class, output, arguments) in sorted(hf_cases.CASES.items()):
        original = hf_cases._perturbed(model_class(config()))
        with tempfile.TemporaryDirectory() as folder:
            original.save_pretrained(folder)
            model = keras_vit.from_checkpoint(folder, include_preprocessing=False, **arguments)
            pixels = hf_cases._pixels()
            yield f"transformers {case}", output, relative(model(pixels), hf_cases._original(original, pixels, output))
            if case.startswith("dinov2"):
                dynamic = keras_vit.from_checkpoint(folder, include_preprocessing=False, dynamic_image_size=True)
                pixels = hf_cases._pixels((16, 20))
                expected = hf_cases._original(original, pixels, output)
                yield f"transformers {case}", f"{output} at 16x20", relative(dynamic(pixels), expected)


def timm_rows():
    for architecture in ARCHITECTURES:
        with np.load(DATA / architecture / "expected.npz") as arrays:
            expected = dict(arrays)
        folder = str(DATA / architecture)
        model = keras_vit.from_checkpoint(folder, include_preprocessing=False)
        yield f"timm {architecture}", "logits", relative(model(expected["images"]), expected["logits"])
        features = keras_vit.from_checkpoint(folder, include_preprocessing=False, include_top=False)
        yield f"timm {architecture}", "pre_logits", relative(features(expected["images"]), expected["pre_logits"])
        if architecture in DYNAMIC:
            dynamic = keras_vit.from_checkpoint(folder, include_preprocessing=False, dynamic_image_size=True)
            for suffix, size in (("_2", "8x10"), ("_3", "4x4")):
                error = relative(dynamic(expected["images" + suffix]), expected["logits" + suffix])
                yield f"timm {architecture}", f"logits at {size}", error


def main():
    print(f"KERAS_BACKEND={keras.backend.backend()}: max |keras_vit - original| / max |original|")
    print(f"| {'source':45s} | {'output':24s} | relative difference |")
    print(f"|{'-' * 47}|{'-' * 26}|---------------------|")
    worst = 0.0
    for source, output, error in (*transformers_rows(), *timm_rows()):
        worst = max(worst, error)
        print(f"| {source:45s} | {output:24s} | {error:.1e} |")
    print(f"largest: {worst:.1e} (the test suite's bound: 1e-4)")


if __name__ == "__main__":
    main()
