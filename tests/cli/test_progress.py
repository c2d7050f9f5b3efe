"""Long work says how far it got on stderr, in plain lines when stderr is not a terminal,
and stdout keeps the result: `keras-vit export` and `keras-vit evaluate`, run as a shell runs them.
(`keras-vit ablate`'s lines are tested with its smoke run, in tests/ablation/test_console.py.)"""

import re

import keras
import pytest

import keras_vit
from tests.cli.console import keras_vit as run_keras_vit
from tests.export.conftest import QUICKEST
from tests.export.models import backend

EVERY_UPDATE = ("tests.cli.progress_every_update",)
LABELS = {"tf_saved_model": "a SavedModel", "litert": "LiteRT", "onnx": "ONNX"}
SUFFIXES = {"litert": ".tflite", "onnx": ".onnx", "tf_saved_model": "_saved_model"}
CLI_FORMATS = {"tf_saved_model": "saved_model", "litert": "tflite", "onnx": "onnx"}
DONE = r" \.\.\. done in [\d.]+ s"


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    keras.utils.set_random_seed(0)
    model = keras_vit.ViT(image_size=16, patch_size=8, hidden_dim=16, num_layers=1, num_heads=2, mlp_dim=16,
                          num_classes=3)
    path = tmp_path_factory.mktemp("progress") / "tiny.keras"
    model.save(path)
    return path


def _plain(text):
    return "\r" not in text and "\x1b" not in text


def test_export_names_each_stage_with_its_time_and_reports_what_it_checked(model_file, tmp_path):
    format = QUICKEST[backend()]
    artifact = tmp_path / ("tiny" + SUFFIXES[format])
    done = run_keras_vit("export", model_file, "--format", CLI_FORMATS[format], "-o", artifact)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert lines[0] == f"keras-vit export: vit to {format} at {artifact}" and _plain(done.stderr)
    # The converters' own output is held back (fd 2), the progress lines are not.
    expected = [f"exporting to {LABELS[format]}", "loading the exported model with its runtime",
                "checking it against the Keras model on 8 images of 16x16"]
    assert len(lines) == 7, lines
    for stage, start, end in zip(expected, lines[1::2], lines[2::2]):
        assert start == stage + " ..." and re.fullmatch(re.escape(stage) + DONE, end), lines
    report = done.stdout.splitlines()[0]
    assert report.startswith(f"{artifact}: {format} (float32) from {backend()}")
    assert report.endswith("same top-1 class on 8 of 8 images (not required: only the difference is checked), "
                           f"inputs {'float32/uint8' if format == 'tf_saved_model' else 'float32'}")


def test_few_shot_evaluation_counts_the_batches_of_each_split(model_file):
    done = run_keras_vit("evaluate", "--model", model_file, "--few-shot", "1", "--seeds", "1", "--batch-size", "256",
                         imports=EVERY_UPDATE)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("few-shot linear accuracy") and _plain(done.stderr)
    lines = done.stderr.splitlines()
    # Digits: 1258 training and 360 test images, in batches of 256.
    assert re.fullmatch(r"features of the train images: 1 of 5 batches, [\d.]+ s, about [\d.]+ s left", lines[1])
    assert re.fullmatch(r"features of the train images: 5 batches in [\d.]+ s", lines[6]), lines
    assert re.fullmatch(r"features of the test images: 2 batches in [\d.]+ s", lines[-1]), lines
