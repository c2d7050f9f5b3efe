"""A first run through the installed `keras-vit` script: train on a small folder, predict, export.

One run trains a one-block ViT on 57 images in three class folders, the
size of a first try with one's own photos, and the tests reuse its model.
"""

import numpy as np
import pytest
from PIL import Image

from keras_vit.cli import main
from tests.cli.console import keras_vit
from tests.export.conftest import QUICKEST
from tests.export.models import backend

CLASSES = ("cat", "dog", "owl")
TINY = ("--model", "ViT", "--image-size", "16", "--patch-size", "8", "--hidden-dim", "16", "--num-layers", "1",
        "--num-heads", "2", "--mlp-dim", "16")
SUFFIXES = {"litert": ".tflite", "onnx": ".onnx", "tf_saved_model": "_saved_model"}
CLI_FORMATS = {"tf_saved_model": "saved_model", "litert": "tflite", "onnx": "onnx"}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("first_run")
    rng = np.random.default_rng(0)
    for index in range(57):
        (folder / "photos" / CLASSES[index % 3]).mkdir(parents=True, exist_ok=True)
        pixels = rng.integers(0, 256, (20, 20, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / "photos" / CLASSES[index % 3] / f"{index}.png")
    done = keras_vit("train", "--data", folder / "photos", *TINY, "--epochs", "2", "--remat", "--out", folder / "run")
    return folder, done


def test_a_small_folder_trains_with_a_batch_that_fits_in_plain_lines(run):
    folder, done = run
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == (
        f"keras-vit train: {folder / 'photos'} has 39 training examples, fewer than the default batch of 64: "
        "training with batch 32 (set it with --batch-size)"
    )
    # The header, once the data is open, says what runs: the batch that fits, every option given.
    assert lines[1] == (
        "keras-vit train: training ViT (patch_size=8, hidden_dim=16, num_layers=1, num_heads=2, mlp_dim=16) on "
        f"{folder / 'photos'} (39 training images) for 2 epochs, batch 32, --remat (blocks recomputed in the "
        f"backward pass), seed 0, {backend()} backend, into {folder / 'run'}/"
    )
    # Redirected output gets Keras' one line per epoch, without the progress bar's colour codes.
    assert "\x1b" not in done.stdout and "\r" not in done.stdout and "\b" not in done.stdout
    assert lines[2:6:2] == ["Epoch 1/2", "Epoch 2/2"] and lines[3].startswith("1/1 - ")
    assert lines[-1] == "classes, in the order of the model's outputs: 0 cat, 1 dog, 2 owl"


def test_predict_and_export_name_the_classes(run, capsys):
    folder, _ = run
    model = folder / "run" / "model.keras"
    photo = next((folder / "photos" / "owl").iterdir())
    assert main(["predict", str(photo), "--model", str(model)]) == 0
    predicted = capsys.readouterr().out
    assert {line.split()[-1] for line in predicted.splitlines()[1:]} == set(CLASSES)

    format = QUICKEST[backend()]
    artifact = folder / ("vit" + SUFFIXES[format])
    exported = keras_vit("export", model, "--format", CLI_FORMATS[format], "-o", artifact)
    assert exported.returncode == 0, exported.stderr
    # The converters' and runtimes' own log lines are held back; only the stages' progress lines follow.
    header, *stages = exported.stderr.splitlines()
    assert header == f"keras-vit export: vit to {format} at {artifact}"
    assert stages and all(line.startswith(("exporting to ", "loading the exported ", "checking it ")) for line in stages)
    names = artifact / "assets" / "classes.txt" if format == "tf_saved_model" else folder / f"{artifact.name}.classes.txt"
    assert names.read_text().split() == list(CLASSES)
    assert exported.stdout.splitlines()[-1] == f"3 class names, cat, dog, owl, in {names}"
    from_artifact = keras_vit("predict", photo, "--model", artifact)
    assert from_artifact.returncode == 0, from_artifact.stderr
    assert from_artifact.stdout == predicted
    assert from_artifact.stderr == f"keras-vit predict: 1 image(s) with {artifact}\n"
