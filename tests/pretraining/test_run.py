"""`keras-vit pretrain` and `pretrain`: the paper's recipe, a run end to end, and fine-tuning from it."""

import csv

import keras
import numpy as np
import pytest

from keras_vit.cli import _parser, main
from keras_vit.pretraining import CLEAN, run
from keras_vit.training import RECIPES
from keras_vit.training.schedules import WarmupDecay

SIZES = ["--model", "ViT", "--image-size", "16", "--patch-size", "4", "--hidden-dim", "16", "--num-layers", "1",
         "--num-heads", "2", "--mlp-dim", "32"]


def _tiny(command, out):
    # Batches of 360 split the digits' test set (360) and validation set (179) into one batch
    # each: every distinct batch shape is a compilation on JAX.
    return [command, *SIZES, "--epochs", "1", "--batch-size", "360", "--no-crop", "--quiet", "--out", str(out)]


def test_the_masked_patch_recipe_is_the_papers():
    optimizer = RECIPES["masked_patch"].optimizer(steps=100_000, batch_size=512)
    assert isinstance(optimizer, keras.optimizers.AdamW) and optimizer.weight_decay == 0
    schedule = optimizer._learning_rate
    assert isinstance(schedule, WarmupDecay) and schedule.decay == "cosine"
    peak = 2e-4 * 512 / 4096  # 2e-4 at batch 4096, scaled linearly
    rates = [float(schedule(step)) for step in (5_000, 10_000, 55_000, 100_000)]
    assert rates == pytest.approx([peak / 2, peak, peak / 2, 0.0], abs=1e-9)


def test_pretrain_takes_the_train_flags_and_defaults_to_the_papers_recipe():
    args = _parser("pretrain").parse_args(["pretrain", *SIZES, "--data", "some/folder", "--target", "pixels"])
    assert (args.recipe, args.objective, args.target, args.mask_rate, args.data) == (
        "masked_patch", "masked-patch", "pixels", 0.5, "some/folder"
    )


class _Killed(Exception):
    pass


def test_pretrain_resumes_then_fine_tunes_from_its_encoder(tmp_path, capsys, monkeypatch):
    pre = tmp_path / "pre"
    command = _tiny("pretrain", pre) + ["--objective", "masked-patch", "--seed", "3", "--epochs", "2",
                                        "--target", "downsampled_color", "--mask-rate", "0.25"]

    class KilledAfterOneEpoch(run.ProgressFile):
        def on_epoch_end(self, epoch, logs=None):
            super().on_epoch_end(epoch, logs)
            raise _Killed

    monkeypatch.setattr(run, "ProgressFile", KilledAfterOneEpoch)
    with pytest.raises(_Killed):
        main(command)
    assert not (pre / "encoder.keras").exists()
    monkeypatch.undo()
    capsys.readouterr()

    results, pretrain = [], run.pretrain

    def recorded(config, **kwargs):
        results.append(pretrain(config, **kwargs))
        return results[-1]

    with monkeypatch.context() as patch:
        patch.setattr(run, "pretrain", recorded)
        assert main(command) == 0
    # The flags reach the model that trained: 4 of the 16 patches corrupted, each predicting 4x4 colours.
    [result] = results
    trained = result.model
    assert (trained.target, trained.mask_rate, trained.counts) == ("downsampled_color", 0.25, (3, 0, 1))
    out = trained(np.zeros((2, 16, 16, 3), "float32"))
    assert tuple(out["predictions"].shape) == (2, 16, 16, 512)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(out["corruption"] != CLEAN).sum(axis=1), [4, 4])
    printed = capsys.readouterr()
    lines = printed.out.splitlines()
    assert lines[0].startswith(
        "keras-vit pretrain: masked patch prediction (downsampled_color, 0.25 of the patches corrupted) of ViT "
        "(patch_size=4"
    )
    assert "seed 3" in lines[0] and f"into {pre}/" in lines[0]
    assert "resuming from the end of epoch 1" in printed.err
    assert lines[1].startswith("test loss ") and "test masked_patch_accuracy" in lines[1]
    assert lines[1].endswith(f"after 2 epochs; encoder saved to {pre / 'encoder.keras'}")
    with open(pre / "log.csv") as file:
        rows = list(csv.DictReader(file))
    assert [row["epoch"] for row in rows] == ["0", "1"]
    assert {"loss", "masked_patch_accuracy", "val_masked_patch_accuracy"} <= set(rows[0])
    encoder = keras.saving.load_model(pre / "encoder.keras", safe_mode=True)
    assert encoder.output_shape == (None, 10)

    # So small a rate leaves the weights as loaded: they must be the encoder's.
    tuned = tmp_path / "tuned"
    assert main(_tiny("train", tuned) + ["--weights", str(pre / "encoder.keras"), "--learning-rate", "1e-12"]) == 0
    model = keras.saving.load_model(tuned / "model.keras")
    pretrained = {w.path: keras.ops.convert_to_numpy(w) for w in encoder.weights}
    for weight in model.weights:
        if not weight.path.startswith("head/"):
            np.testing.assert_allclose(keras.ops.convert_to_numpy(weight), pretrained[weight.path], atol=1e-7,
                                       err_msg=weight.path)

    assert main(_tiny("pretrain", pre)) == 1
    assert "holds a finished run" in capsys.readouterr().err


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--mixup", "0.2"], "`mixup` acts on labels, which masked patch prediction does not use"),
        (["--label-smoothing", "0.1"], "Received: label_smoothing=0.1"),
        (["--mask-rate", "2"], "`mask_rate` must be a number in [0, 1]. Received: mask_rate=2.0"),
    ],
)
def test_pretrain_bad_input_gets_a_clear_message(tmp_path, capsys, flags, message):
    assert main(_tiny("pretrain", tmp_path) + flags) == 1
    assert message in capsys.readouterr().err
