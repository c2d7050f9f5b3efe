"""Callbacks for long runs: epoch checkpoints and a progress file that a crash cannot corrupt.

In a job of several processes every process runs the same callbacks with the
run's `Placement`: process 0 writes, and the others join each save (on JAX a
save first gathers weights sharded between processes, which all must do).
"""

import glob
import json
import os

import keras

from keras_vit.training.placement import Placement
from keras_vit.utils.validation import check_positive_int

# A run of one process: it writes, and a save gathers nothing.
ALONE = Placement()


class EpochCheckpoint(keras.callbacks.Callback):
    """Saves the whole model as `epoch_NNN.keras` at the end of every epoch.

    Each file is written under a temporary name and renamed when complete, so
    a run killed while saving leaves the previous checkpoints intact. Only the
    newest `keep` are kept.

    Args:
        directory: str. Where the checkpoints go; created if missing.
        keep: positive int. Number of newest checkpoints kept. Defaults to 2.
        placement: `keras_vit.training.placement.Placement`. The run's place
            in its job; only its writing process saves. Defaults to one process.
    """

    def __init__(self, directory, keep=2, placement=ALONE):
        super().__init__()
        self.directory = directory
        # `keep=0` would slice `[:-0]`, which deletes nothing: it is refused.
        self.keep = check_positive_int("keep", keep)
        self.placement = placement

    def on_epoch_end(self, epoch, logs=None):
        with self.placement.saving(self.model) as writes:
            if writes:
                self._save(epoch)

    def _save(self, epoch):
        os.makedirs(self.directory, exist_ok=True)
        path = os.path.join(self.directory, f"epoch_{epoch + 1:03d}.keras")
        # A distiller's checkpoint is its student, which runs without the teacher.
        save_atomically(getattr(self.model, "student", self.model), path)
        for old in sorted(glob.glob(os.path.join(self.directory, "epoch_*.keras")))[: -self.keep]:
            os.remove(old)


class SharedBackup(keras.callbacks.BackupAndRestore):
    """`keras.callbacks.BackupAndRestore` (two copies kept) for a job of one or more processes.

    Every process restores from the same `backup_dir`; only the writing one
    saves to it and deletes it when training ends, the others join its saves.

    Args:
        backup_dir: str. The backup folder, on storage every process sees.
        placement: `keras_vit.training.placement.Placement`. Defaults to one process.
    """

    def __init__(self, backup_dir, placement=ALONE):
        super().__init__(backup_dir, double_checkpoint=True)
        self.placement = placement

    def _save_model(self):
        with self.placement.saving(self.model) as writes:
            if writes:
                super()._save_model()

    def on_train_end(self, logs=None):
        if self.placement.writes:
            super().on_train_end(logs)


class ProgressFile(keras.callbacks.Callback):
    """Writes the number of finished epochs, as `{"epoch": n}`, to a JSON file.

    The file is rewritten at the end of every epoch under a temporary name and
    renamed when complete, so a run killed at any point leaves a whole file.
    `read_progress` reads it back.

    Args:
        path: str. The JSON file.
    """

    def __init__(self, path):
        super().__init__()
        self.path = path

    def on_epoch_end(self, epoch, logs=None):
        partial = self.path + ".partial"
        with open(partial, "w") as file:
            json.dump({"epoch": epoch + 1}, file)
        os.replace(partial, self.path)


def read_progress(path):
    """The number of finished epochs a `ProgressFile` wrote to `path`; 0 if there is no file."""
    if not os.path.exists(path):
        return 0
    with open(path) as file:
        return int(json.load(file)["epoch"])


def save_atomically(model, path):
    """Saves `model` to `path` (`.keras`) through a temporary file and a rename.

    The temporary file is hidden (`.NAME.partial.keras`), so that one a killed
    process leaves behind is never taken for a checkpoint.
    """
    folder, name = os.path.split(path)
    partial = os.path.join(folder, f".{name}.partial.keras")
    try:
        model.save(partial)
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.remove(partial)
