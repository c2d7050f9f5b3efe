"""A training run killed with SIGKILL resumes from its last finished epoch."""

import csv
import glob
import os
import re
import signal
import subprocess
import sys
import time

import keras

import keras_vit  # noqa: F401  (registers its layers, so the checkpoints load here)
from keras_vit.training.callbacks import read_progress
from keras_vit.training.run_folder import trim_log

EPOCHS, BATCH = 4, 128
STEPS_PER_EPOCH = 1258 // BATCH  # the bundled digits' training split


def _command(out):
    return [
        sys.executable, "-m", "keras_vit.cli", "train", "--model", "ViT", "--image-size", "16",
        "--patch-size", "8", "--hidden-dim", "16", "--num-layers", "1", "--num-heads", "2",
        "--mlp-dim", "32", "--epochs", str(EPOCHS), "--batch-size", str(BATCH), "--no-crop",
        "--no-flip", "--quiet", "--out", str(out),
    ]


def _logged_epochs(out):
    path = os.path.join(out, "log.csv")
    if not os.path.exists(path):
        return []
    with open(path) as file:
        return [int(row["epoch"]) for row in csv.DictReader(file)]


def test_killed_run_resumes_and_ends_with_the_same_number_of_steps(tmp_path):
    out = tmp_path / "run"
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    process = subprocess.Popen(_command(out), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 300
    progress = out / "progress.json"
    while read_progress(str(progress)) < 2:
        assert process.poll() is None, process.stderr.read().decode()[-2000:]
        assert time.time() < deadline, "the first run never finished two epochs"
        time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (out / "model.keras").exists()
    finished_before = read_progress(str(progress))
    checkpoints = glob.glob(str(out / "checkpoints" / "*.keras"))  # a hidden partial file is no checkpoint
    assert checkpoints
    for checkpoint in checkpoints:
        keras.saving.load_model(checkpoint)  # no checkpoint is half-written

    finished = subprocess.run(_command(out), env=env, capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, finished.stderr[-2000:]
    resumed = re.search(r"resuming from the end of epoch (\d+)", finished.stderr)
    assert resumed, finished.stderr[-2000:]
    model = keras.saving.load_model(out / "model.keras")
    assert int(model.optimizer.iterations.numpy()) == EPOCHS * STEPS_PER_EPOCH
    # One row per epoch: none lost to the kill, none written twice.
    assert _logged_epochs(out) == list(range(EPOCHS))
    # The message names the epoch training went on from: the number of
    # epochs the first run finished and backed up.
    assert 2 <= int(resumed.group(1)) == finished_before < EPOCHS


def test_resume_drops_the_log_row_of_an_epoch_the_backup_does_not_hold(tmp_path):
    # A run killed between an epoch's log row and its backup leaves that row.
    log = tmp_path / "log.csv"
    log.write_text("epoch,loss\n0,2.3\n1,1.9\n2,1.7\n")
    trim_log(str(log), 2)
    assert log.read_text().splitlines() == ["epoch,loss", "0,2.3", "1,1.9"]
    trim_log(str(log), 2)  # nothing more to drop
    assert _logged_epochs(tmp_path) == [0, 1]
