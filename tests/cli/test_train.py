import os
import re

import numpy as np
import pytest
from PIL import Image

from keras_vit.cli import main


def _demo(out, capsys, seed=0):
    assert main(["demo", "--epochs", "1", "--num-layers", "1", "--quiet", "--out", str(out), "--seed", str(seed)]) == 0
    return capsys.readouterr()


def test_demo_runs_end_to_end_reproducibly_and_quietly(tmp_path, capsys):
    out = tmp_path / "demo"
    printed = _demo(out, capsys)
    lines = printed.out.splitlines()
    assert lines[0].startswith("keras-vit demo: training ViT (patch_size=4, hidden_dim=64, num_layers=1")
    assert "seed 0" in lines[0]
    assert "test accuracy" in printed.out and "model saved to" in printed.out
    assert "true -> predicted" in printed.out and "of 6 right" in printed.out
    assert printed.err == ""
    for name in ("model.keras", "log.csv", "checkpoints/epoch_001.keras", "classes.txt"):
        assert (out / name).exists(), name
    assert (out / "classes.txt").read_text().split() == [str(digit) for digit in range(10)]
    assert os.listdir(out / "tensorboard")
    again = _demo(tmp_path / "again", capsys)
    accuracy = [line for line in printed.out.splitlines() if line.startswith("test accuracy")]
    assert accuracy == [line.replace("again", "demo") for line in again.out.splitlines() if line.startswith("test accuracy")]

    image = tmp_path / "digit.png"
    Image.fromarray(np.full((16, 16, 3), 255, np.uint8)).save(image)
    assert main(["predict", str(image), "--model", str(out / "model.keras"), "--top", "3"]) == 0
    top = capsys.readouterr().out.splitlines()[1:]
    assert len(top) == 3 and all(re.fullmatch(r"\s+[\d.]+%  \d", line) for line in top), top


def _tiny(out):
    return ["train", "--model", "ViT", "--image-size", "16", "--patch-size", "8", "--hidden-dim", "16",
            "--num-layers", "1", "--num-heads", "2", "--mlp-dim", "32", "--epochs", "1", "--batch-size", "256", "--quiet",
            "--out", str(out)]


def test_train_refuses_to_overwrite_a_finished_run(tmp_path, capsys):
    assert main(_tiny(tmp_path)) == 0
    assert main(_tiny(tmp_path)) == 1
    assert "holds a finished run" in capsys.readouterr().err
    assert main(_tiny(tmp_path) + ["--overwrite"]) == 0


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--data", "tfds:no_such_set"], "Unknown tensorflow-datasets name 'no_such_set'"),
        (["--batch-size", "5000"], "--batch-size 5000 is more than the 1258 training examples of digits (the last, "
                                   "partial batch is dropped): pass --batch-size 1024 or less."),
        (["--data", "no/such/folder"], "an existing image folder. Received: source='no/such/folder'"),
        (["--model", "S/16"], "--mlp-dim apply to --model ViT only"),
        (["--train-fraction", "0"], "`train_fraction` must be a fraction of the training examples in (0, 1]. "
                                    "Received: train_fraction=0.0"),
    ],
)
def test_train_bad_input_gets_a_clear_message(tmp_path, capsys, flags, message):
    assert main(_tiny(tmp_path) + flags) == 1
    assert message in capsys.readouterr().err


def test_unknown_model_name_is_rejected(tmp_path, capsys):
    assert main(["train", "--model", "Q/99", "--out", str(tmp_path)]) == 1
    assert "`model` must be a `.keras` file or one of" in capsys.readouterr().err


def test_fine_tuning_at_a_higher_resolution_resamples_the_position_embeddings(tmp_path):
    import keras

    assert main(_tiny(tmp_path / "at16")) == 0
    at32 = _tiny(tmp_path / "at32") + ["--weights", str(tmp_path / "at16" / "model.keras")]
    at32[at32.index("--image-size") + 1] = "32"
    assert main(at32) == 0
    grid = keras.saving.load_model(tmp_path / "at32" / "model.keras").get_layer("pos_embedding")
    assert tuple(grid.grid_size) == (4, 4) and tuple(grid.embedding.shape) == (1, 17, 16)


def test_a_folder_with_one_class_is_refused_as_such(tmp_path, capsys):
    (tmp_path / "data" / "cat").mkdir(parents=True)
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "data" / "cat" / "a.png")
    assert main(_tiny(tmp_path / "run") + ["--data", str(tmp_path / "data")]) == 1
    assert "a classifier needs at least two classes. Class sub-folders found: only 'cat'" in capsys.readouterr().err


BACKEND = __import__("keras").backend.backend()


def test_train_flags_for_several_devices_reach_the_run(tmp_path, capsys):
    if BACKEND == "torch":
        assert main(_tiny(tmp_path) + ["--distribute", "data"]) == 1
        assert "no multi-device training for the 'torch' backend; use KERAS_BACKEND=jax" in capsys.readouterr().err
        return
    import keras

    try:
        # One process, all its devices (one CPU here): the run trains and writes as without the flag.
        assert main(_tiny(tmp_path) + ["--distribute", "data"]) == 0
    finally:
        if BACKEND == "jax":
            keras.distribution.set_distribution(None)
    assert (tmp_path / "model.keras").exists() and "test accuracy" in capsys.readouterr().out


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--multi-worker"], "`multi_worker=True` needs a kind of distribution: pass distribute='data' or 'model'"),
        (["--distribute", "pipeline"], "argument --distribute: invalid choice: 'pipeline'"),
    ],
)
def test_train_distribution_flags_are_checked(tmp_path, capsys, flags, message):
    code = None
    try:
        code = main(_tiny(tmp_path) + flags)
    except SystemExit as exit:  # argparse refuses a bad choice itself
        code = exit.code
    assert code in (1, 2)
    assert message in capsys.readouterr().err


def test_a_checkpoint_fine_tunes_on_grayscale_at_another_patch_size(tmp_path, capsys):
    import keras

    from tests.weights.original import original_arrays

    np.savez(tmp_path / "rgb.npz", **original_arrays(image=16, depth=1))
    rng = np.random.default_rng(0)
    for name in ("dark", "light"):
        (tmp_path / "gray" / name).mkdir(parents=True)
        for index in range(10):
            pixels = rng.integers(0, 128, (16, 16)) + (128 if name == "light" else 0)
            Image.fromarray(pixels.astype(np.uint8), mode="L").save(tmp_path / "gray" / name / f"{index}.png")
    flags = ["train", "--model", "ViT", "--image-size", "16", "--patch-size", "4", "--hidden-dim", "16",
             "--num-layers", "1", "--num-heads", "4", "--mlp-dim", "24", "--weights", str(tmp_path / "rgb.npz"),
             "--input-channels", "1", "--data", str(tmp_path / "gray"), "--epochs", "1", "--batch-size", "7",
             "--quiet", "--out", str(tmp_path / "run")]
    assert main(flags) == 0
    err = capsys.readouterr().err
    assert "note: embedding/kernel adapted from 3 to 1 input channels (summed" in err
    assert "note: embedding/kernel resampled from 8x8 to 4x4 patches" in err
    model = keras.saving.load_model(tmp_path / "run" / "model.keras")
    assert model.input_shape == (None, 16, 16, 1) and model.vit_config.patch_size == 4
    assert main(["predict", str(tmp_path / "gray" / "dark" / "0.png"), "--model", str(tmp_path / "run" / "model.keras"),
                 "--top", "1"]) == 0
    assert re.fullmatch(r"\s+[\d.]+%  (dark|light)", capsys.readouterr().out.splitlines()[1])
    assert main(flags[:-1] + [str(tmp_path / "bad"), "--input-channels", "0"]) == 1
    assert "`input_channels` must be a positive integer. Received: input_channels=0" in capsys.readouterr().err


def test_a_student_learns_from_a_teacher_file_and_is_saved_alone(tmp_path, capsys):
    import keras

    def teacher(classes):
        model = keras.Sequential([keras.Input((16, 16, 3)), keras.layers.Flatten(), keras.layers.Dense(classes)])
        model.save(tmp_path / f"teacher{classes}.keras")
        return str(tmp_path / f"teacher{classes}.keras")

    flags = _tiny(tmp_path / "student") + ["--teacher", teacher(10), "--distillation", "soft", "--distillation-token"]
    assert main(flags) == 0
    assert f"taught by {flags[flags.index('--teacher') + 1]} (soft distillation)" in capsys.readouterr().out
    student = keras.saving.load_model(tmp_path / "student" / "model.keras")
    assert student.vit_config.distillation_token and not any(w.path.startswith("dense") for w in student.weights)
    assert "distillation_loss" in (tmp_path / "student" / "log.csv").read_text().splitlines()[0]
    assert main(_tiny(tmp_path / "no_teacher") + ["--distillation", "hard"]) == 1
    assert "distillation='hard' needs a teacher to learn from" in capsys.readouterr().err
    assert main(_tiny(tmp_path / "three") + ["--teacher", teacher(3)]) == 1
    assert "teacher3.keras has 3 outputs and the data 10 classes" in capsys.readouterr().err
