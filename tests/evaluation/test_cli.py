"""`keras-vit evaluate` through the installed script, and `keras-vit train --few-shot`."""

import keras
import numpy as np
import pytest

import keras_vit
from keras_vit import evaluation
from keras_vit.cli import evaluate, main
from keras_vit.data import load_digits, load_source
from tests.cli.console import keras_vit as console

TINY = dict(patch_size=8, hidden_dim=16, num_layers=1, num_heads=2, mlp_dim=32, num_classes=10)
TINY_TRAIN = ["train", "--model", "ViT", "--image-size", "16", "--patch-size", "8", "--hidden-dim", "16",
              "--num-layers", "1", "--num-heads", "2", "--mlp-dim", "32", "--epochs", "1", "--batch-size", "256",
              "--quiet"]


def test_the_command_s_defaults_are_the_library_s():
    assert evaluate.SHOTS == evaluation.DEFAULT_SHOTS
    assert evaluate.L2_REG == evaluation.DEFAULT_L2_REG
    assert evaluation.few_shot.__defaults__ == (evaluate.SHOTS, evaluate.SEEDS, evaluate.L2_REG, evaluate.BATCH_SIZE)


def test_evaluate_prints_the_table_of_the_library_s_result(tmp_path):
    model = keras_vit.ViT(image_size=16, **TINY)
    model.save(tmp_path / "tiny.keras")
    done = console("evaluate", "--model", tmp_path / "tiny.keras", "--data", "digits", "--few-shot", "1", "5",
                   "--seeds", "2")
    assert done.returncode == 0, done.stderr
    # Quiet: one line saying what runs, no framework chatter; the features' progress only past 10 s.
    said, *counted = done.stderr.splitlines()
    assert said == "keras-vit evaluate: vit on digits, 1 5 images per class of 1258 training images, tested on 360"
    assert all(line.startswith("features of the ") for line in counted), counted
    lines = done.stdout.splitlines()
    assert lines[:2] == ["few-shot linear accuracy (l2_reg 1024, seeds 0, 1)", "shots    mean     std  per seed"]
    rows = [line.split() for line in lines[2:]]
    assert [row[0] for row in rows] == ["1", "5"] and all(len(row) == 5 for row in rows)
    assert all(0.0 <= float(value) <= 1.0 for row in rows for value in row[1:])

    source = load_source("digits", image_size=16)
    train, test = (evaluation.split_batches(source, split, model, 128) for split in ("train", "test"))
    assert done.stdout == f"{evaluation.few_shot(model, train, test, shots=(1, 5), seeds=2)}\n"


def test_evaluate_names_a_class_with_too_few_examples(tmp_path, capsys):
    keras_vit.ViT(image_size=16, **TINY).save(tmp_path / "tiny.keras")
    counts = np.bincount(load_digits(image_size=16)["train"][1])
    assert main(["evaluate", "--model", str(tmp_path / "tiny.keras"), "--few-shot", "1", "200"]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"keras-vit evaluate: Class {counts.argmin()} has {counts.min()} training examples, fewer than shots=200: "
        "every class needs at least as many examples as the largest shot count."
    )


def test_train_reports_the_few_shot_table_of_the_trained_model(tmp_path, capsys):
    assert main(TINY_TRAIN + ["--out", str(tmp_path / "run"), "--few-shot", "5"]) == 0
    lines = capsys.readouterr().out.splitlines()
    # After the run's summary: its test accuracy and its class names.
    assert lines[-5].startswith("test accuracy ") and lines[-4].startswith("classes, in the order")
    assert lines[-3:-1] == ["few-shot linear accuracy (l2_reg 1024, seeds 0, 1, 2)", "shots    mean     std  per seed"]
    shots, *values = lines[-1].split()
    assert shots == "5" and len(values) == 5 and all(0.0 <= float(value) <= 1.0 for value in values)

    # The trained model's, on the run's data (seed 0) at its batch and crop.
    model = keras.saving.load_model(tmp_path / "run" / "model.keras")
    source = load_source("digits", image_size=16)
    train, test = (evaluation.split_batches(source, split, model, 256, 0.875) for split in ("train", "test"))
    assert "\n".join(lines[-3:]) == str(evaluation.few_shot(model, train, test, shots=5))


@pytest.mark.parametrize("flag", [["--few-shot", "0"], ["--few-shot", "5", "5"]])
def test_train_checks_the_shot_counts_before_it_trains(tmp_path, capsys, flag):
    assert main(TINY_TRAIN + ["--out", str(tmp_path / "run"), *flag]) == 1
    assert "keras-vit train: `shots` must be a positive integer or a sequence of distinct" in capsys.readouterr().err
    assert not (tmp_path / "run" / "model.keras").exists()


def test_a_failed_few_shot_evaluation_keeps_the_trained_model(tmp_path, capsys):
    counts = np.bincount(load_digits(image_size=16)["train"][1])
    assert main(TINY_TRAIN + ["--out", str(tmp_path / "run"), "--few-shot", "200"]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"keras-vit train: Class {counts.argmin()} has {counts.min()} training examples, fewer than shots=200: "
        "every class needs at least as many examples as the largest shot count. (few-shot evaluation; the "
        f"trained model is saved to {tmp_path / 'run' / 'model.keras'})"
    )
    assert keras.saving.load_model(tmp_path / "run" / "model.keras").output_shape == (None, 10)
