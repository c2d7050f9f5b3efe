import os

import pytest

from keras_vit.cli import main


def test_demo_runs_end_to_end_with_a_reduced_budget(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--epochs", "1", "--num-layers", "1", "--quiet", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "test accuracy" in printed and "model saved to" in printed
    assert "true -> predicted" in printed and "of 6 right" in printed
    for name in ("model.keras", "log.csv", "checkpoints/epoch_001.keras"):
        assert (out / name).exists(), name
    assert os.listdir(out / "tensorboard")


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
        (["--batch-size", "5000"], "`batch_size` must not exceed the 1258 training examples"),
        (["--data", "no/such/folder"], "an existing image folder. Received: source='no/such/folder'"),
        (["--model", "S/16"], "--mlp-dim apply to --model ViT only"),
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
