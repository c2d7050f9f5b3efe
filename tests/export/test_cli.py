"""`keras-vit export` and `keras-vit predict` on image files the test writes."""

import argparse
import os

import keras
import numpy as np
import pytest
from PIL import Image

import keras_vit
from keras_vit.cli import main
from keras_vit.cli.model_source import keras_model
from keras_vit.export import FORMATS
from tests.export.conftest import QUICKEST
from tests.export.test_export import _copy
from tests.export.models import MODELS, backend

CLI_FORMATS = {"tf_saved_model": "saved_model", "litert": "tflite", "onnx": "onnx"}


@pytest.fixture
def image_files(tmp_path):
    """Images of sizes other than the models' 32 x 32, in three modes, and a fake."""
    rng = np.random.default_rng(0)
    files = {
        "rgb": tmp_path / "rgb.png",
        "gray": tmp_path / "gray.jpg",
        "rgba": tmp_path / "rgba.png",
    }
    Image.fromarray(rng.integers(0, 256, (48, 40, 3), dtype=np.uint8)).save(files["rgb"])
    Image.fromarray(rng.integers(0, 256, (20, 30), dtype=np.uint8), "L").save(files["gray"])
    Image.fromarray(rng.integers(0, 256, (50, 64, 4), dtype=np.uint8), "RGBA").save(files["rgba"])
    files["fake"] = tmp_path / "fake.png"
    files["fake"].write_text("not an image")
    return {key: str(path) for key, path in files.items()}


def _expected_top1(model, paths, size=(32, 32)):
    """Top-1 classes, the images read as the README says: RGB, bilinear resize, no crop."""
    images = [Image.open(path).convert("RGB").resize(size[::-1], Image.Resampling.BILINEAR) for path in paths]
    pixels = np.stack([np.asarray(image, dtype="float32") for image in images])
    return model.predict(pixels, verbose=0).argmax(axis=1).tolist()


def _printed_top1(out):
    """The first class printed under each file name."""
    lines = out.splitlines()
    return [lines[i + 1] for i, line in enumerate(lines) if not line.startswith(" ")]


def test_predict_keras_file_names_imagenet_classes(image_files, tmp_path, capsys):
    keras.utils.set_random_seed(0)
    model = keras_vit.ViT(image_size=32, patch_size=8, hidden_dim=16, num_layers=1, num_heads=2,
                          mlp_dim=16, num_classes=1000)
    head = model.get_layer("head")
    head.kernel.assign(np.random.default_rng(1).normal(0, 1, head.kernel.shape).astype("float32"))
    model.save(tmp_path / "m.keras")
    files = [image_files[key] for key in ("rgb", "gray", "rgba")]
    assert main(["predict", *files, "--model", str(tmp_path / "m.keras")]) == 0
    captured = capsys.readouterr()
    assert "gray.jpg: converted L to RGB" in captured.err and "rgba.png: converted RGBA to RGB" in captured.err
    lines = captured.out.splitlines()
    assert [line for line in lines if not line.startswith(" ")] == files and len(lines) == 3 * 6
    names = keras_vit.preprocessing.imagenet_classes(1000)
    for first, top1 in zip(_printed_top1(captured.out), _expected_top1(model, files)):
        synset, name = names[top1]
        assert first.endswith(f"{name} ({synset})")


def test_predict_names_a_file_that_is_not_an_image(image_files, tmp_path, capsys):
    assert main(["predict", image_files["rgb"], image_files["fake"], "--model", "Ti/16"]) == 1
    assert f"{image_files['fake']} is not an image" in capsys.readouterr().err
    # In a folder, a file that is not an image (a saved model beside the photos) is skipped.
    folder = os.path.dirname(image_files["fake"])
    assert main(["predict", folder, "--model", "Ti/16", "--image-size", "32", "--top", "1"]) == 0
    printed = capsys.readouterr()
    assert f"note: skipped {image_files['fake']}: cannot identify image file" in printed.err
    assert image_files["rgb"] in printed.out and image_files["fake"] not in printed.out
    assert main(["predict", image_files["rgb"], "--model", str(tmp_path / "none.onnx")]) == 1
    assert "No such model file" in capsys.readouterr().err


def test_model_argument_builds_a_variant_with_a_weights_file(tmp_path):
    model = keras_vit.ViTTi16(image_size=32, num_classes=7)
    model.save_weights(tmp_path / "ti.weights.h5")
    args = argparse.Namespace(model="ViTTi16", weights=str(tmp_path / "ti.weights.h5"), image_size=[32], num_classes=7)
    built = keras_model(args)
    assert built.input_shape == (None, 32, 32, 3) and built.output_shape == (None, 7)
    for expected, loaded in zip(model.weights, built.weights):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(loaded), keras.ops.convert_to_numpy(expected))
    args = argparse.Namespace(model="ViT-Q/7", weights=None, image_size=[32], num_classes=None)
    with pytest.raises(ValueError, match="`model` must be a `.keras` file or one of"):
        keras_model(args)


# A keras-hub preset cannot hold this model's tanh GELU; test_keras_hub_export.py runs presets
# with keras_vit.export.load. (`keras-vit predict` takes a preset folder as a checkpoint.)
@pytest.mark.parametrize("format", sorted(set(FORMATS) - {"keras_hub"}))
def test_predict_with_an_artifact_agrees_with_the_keras_model(format, exported, image_files, capsys):
    artifact = exported("vit", format)
    files = [image_files[key] for key in ("rgb", "gray")]
    assert main(["predict", *files, "--model", artifact.path]) == 0
    printed = _printed_top1(capsys.readouterr().out)
    keras.utils.set_random_seed(0)
    model = MODELS["vit"]()  # The same weights: the export fixture seeds the same way.
    assert [int(line.split()[-1]) for line in printed] == _expected_top1(model, files)


def test_export_command_writes_checks_and_refuses_to_overwrite(exported, tmp_path, capsys, monkeypatch):
    # The writer copies an artifact exported before (the converters are tested
    # in test_export.py); the check against the model is real.
    format = QUICKEST[backend()]
    source = exported("vit", format).path
    monkeypatch.setattr(FORMATS[format], "write", lambda model, path, **kwargs: _copy(source, path))
    keras.utils.set_random_seed(0)
    MODELS["vit"]().save(tmp_path / "vit.keras")
    out = str(tmp_path / ("vit.tflite" if format == "litert" else "vit.onnx" if format == "onnx" else "vit_sm"))
    argv = ["export", str(tmp_path / "vit.keras"), "--format", CLI_FORMATS[format], "-o", out]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert printed.startswith(f"{out}: {format} (float32) from {backend()}") and "max |difference|" in printed
    assert main(argv) == 1
    assert "exists; pass --overwrite" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["export", str(tmp_path / "vit.keras"), "--format", "coreml"])
    assert "argument --format: invalid choice: 'coreml' (choose from 'keras_hub', 'litert', 'onnx', 'openvino', 'pt2', 'saved_model'" in capsys.readouterr().err
    assert main([*argv, "--quantize", "int8"]) == 1
    assert "keras-vit export: --quantize is now --precision (the file's own conversion). Received: --quantize int8" in capsys.readouterr().err
    assert sorted(os.listdir(tmp_path)) == sorted(["vit.keras", os.path.basename(out)])


def test_predict_with_a_dynamic_size_model_and_its_open_size_export(image_files, tmp_path, capsys):
    model = keras_vit.ViT(image_size=32, patch_size=8, hidden_dim=16, num_layers=1, num_heads=2, mlp_dim=16,
                          num_classes=10, dynamic_image_size=True)
    head = model.get_layer("head")
    head.kernel.assign(np.random.default_rng(1).normal(0, 1, head.kernel.shape).astype("float32"))
    model.save(tmp_path / "dynamic.keras")
    files = [image_files[key] for key in ("rgb", "gray")]
    assert main(["predict", *files, "--model", str(tmp_path / "dynamic.keras"), "--top", "1"]) == 0
    # A .keras file is fed at the size it was built for.
    assert [int(line.split()[-1]) for line in _printed_top1(capsys.readouterr().out)] == _expected_top1(model, files)
    format = {"tensorflow": "onnx", "jax": "tf_saved_model", "torch": "onnx"}[backend()]
    path = str(tmp_path / ("dynamic.onnx" if format == "onnx" else "dynamic_saved"))
    keras_vit.export.export_model(model, path, format)
    assert main(["predict", *files, "--model", path]) == 1
    assert "takes images of any size its patch stride divides: pass --image-size" in capsys.readouterr().err
    assert main(["predict", *files, "--model", path, "--image-size", "40", "48", "--top", "1"]) == 0
    printed = [int(line.split()[-1]) for line in _printed_top1(capsys.readouterr().out)]
    assert printed == _expected_top1(model, files, size=(40, 48))
