"""How exactly keras-hub presets read and write: keras_vit against keras-hub, one backend per run.

Not a timing: for each case, the largest difference between keras_vit's output
and keras-hub's on the same inputs, relative to keras-hub's largest value, on
the tiny random models the test suite checks (every weight perturbed): presets
saved by keras-hub and read by `keras_vit.from_checkpoint`, and presets written
by `keras_vit.export.export_model` and loaded by keras-hub (the parity report's
own measurement, on 8 images). The suite asserts each is at most 1e-5.

    KERAS_BACKEND=jax python benchmarks/keras_hub_parity.py   # and tensorflow, torch

Needs keras-hub (`pip install --no-deps keras-hub`).
"""

import pathlib
import sys
import tempfile

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import keras  # noqa: E402
import keras_hub  # noqa: E402

import keras_vit  # noqa: E402
from keras_vit.export import export_model  # noqa: E402
from tests.export.models import MODELS  # noqa: E402
from tests.weights import test_keras_hub_presets as cases  # noqa: E402


def relative(actual, expected):
    actual, expected = (np.asarray(keras.ops.convert_to_numpy(x)) for x in (actual, expected))
    return float(np.abs(actual - expected).max() / np.abs(expected).max())


def sequence(model):
    return keras.Model(model.input, model.get_layer("encoder_norm").output)


def read_rows(folder):
    classifier = keras_hub.models.ViTImageClassifier(
        backbone=cases._backbone(layer_norm_epsilon=1e-5), num_classes=5, intermediate_dim=6,
        preprocessor=keras_hub.models.ViTImageClassifierPreprocessor(
            image_converter=keras_hub.layers.ViTImageConverter(image_size=cases.IMAGE, scale=1 / 127.5, offset=-1)),
    )
    cases._perturbed(classifier).save_to_preset(folder / "vit")
    pixels = cases._pixels()
    loaded = keras_vit.from_checkpoint(str(folder / "vit"))
    yield "read ViTImageClassifier", "logits", relative(loaded(pixels), classifier(classifier.preprocessor(pixels)))
    deit = cases._perturbed(keras_hub.models.DeiTBackbone(
        image_shape=(*cases.IMAGE, 3), patch_size=8, num_layers=2, num_heads=2, hidden_dim=8, intermediate_dim=12))
    deit.save_to_preset(folder / "deit")
    inputs = pixels / 127.5 - 1
    loaded = keras_vit.from_checkpoint(str(folder / "deit"), include_preprocessing=False)
    yield "read DeiTBackbone", "sequence", relative(sequence(loaded)(inputs), deit(inputs))
    for case, options in sorted(cases.DINOV2_CASES.items()):
        dinov2 = cases._perturbed(keras_hub.models.DINOV2Backbone(
            patch_size=4, num_layers=2, hidden_dim=8, num_heads=2, intermediate_dim=24, image_shape=(12, 12, 3),
            position_embedding_shape=(12, 12, 3), **options))
        dinov2.save_to_preset(folder / case)
        inputs = np.random.default_rng(0).normal(size=(2, 12, 12, 3)).astype("float32")
        loaded = keras_vit.from_checkpoint(str(folder / case), include_preprocessing=False)
        expected = keras_hub.models.Backbone.from_preset(str(folder / case))({"images": inputs})
        yield f"read DINOV2Backbone ({case})", "sequence", relative(sequence(loaded)(inputs), expected)
    inputs = np.random.default_rng(0).normal(size=(2, 8, 8, 3)).astype("float32")
    for kind in ("siglip", "clip"):
        model, path = cases._image_text(kind, folder)
        loaded = keras_vit.from_checkpoint(path, include_preprocessing=False, projection=kind == "clip")
        if kind == "siglip":
            expected = model.vision_encoder({"images": inputs})
            yield "read SigLIPBackbone", "pooled image", relative(loaded(inputs), expected)
            continue
        expected = model.vision_projection(model.vision_encoder({"images": inputs})[:, 0])
        yield "read CLIPBackbone", "image embedding", relative(loaded(inputs), expected)


def write_rows(folder):
    keras.utils.set_random_seed(0)
    report = export_model(MODELS["keras_hub_vit"](), str(folder / "written"), "keras_hub")
    yield "write ViTImageClassifier", "logits", report.parity.max_abs_diff / report.parity.scale
    model = cases._perturbed(keras_vit.ViT(image_size=16, patch_size=8, hidden_dim=8, num_layers=1, num_heads=2,
                                           mlp_dim=12, activation="gelu", include_top=False))
    report = export_model(model, str(folder / "backbone"), "keras_hub")
    yield "write ViTBackbone", "class token", report.parity.max_abs_diff / report.parity.scale


def main():
    print(f"KERAS_BACKEND={keras.backend.backend()}: max |keras_vit - keras-hub| / max |keras-hub|")
    print(f"| {'case':40s} | {'output':16s} | relative difference |")
    print(f"|{'-' * 42}|{'-' * 18}|---------------------|")
    worst = 0.0
    with tempfile.TemporaryDirectory() as folder:
        for case, output, error in (*read_rows(pathlib.Path(folder)), *write_rows(pathlib.Path(folder))):
            worst = max(worst, error)
            print(f"| {case:40s} | {output:16s} | {error:.1e} |")
    print(f"largest: {worst:.1e} (the test suite's bound: 1e-5)")


if __name__ == "__main__":
    main()
