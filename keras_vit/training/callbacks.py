"""Callbacks for long runs: epoch checkpoints and a progress file that a crash cannot corrupt."""

import glob
import json
import os

import keras

from keras_vit.utils.validation import check_positive_int


class EpochCheckpoint(keras.callbacks.Callback):
    """Saves the whole model as `epoch_NNN.keras` at the end of every epoch.

    Each file is written under a temporary name and renamed when complete, so
    a run killed while saving leaves the previous checkpoints intact. Only the
    newest `keep` are kept.

    Args:
        directory: str. Where the checkpoints go; created if missing.
        keep: positive int. Number of newest checkpoints kept. Defaults to 2.
    """

    def __init__(self, directory, keep=2):
        super().__init__()
        self.directory = directory
        # `keep=0` would slice `[:-0]`, which deletes nothing: it is refused.
        self.keep = check_positive_int("keep", keep)

    def on_epoch_end(self, epoch, logs=None):
        os.makedirs(self.directory, exist_ok=True)
        path = os.path.join(self.directory, f"epoch_{epoch + 1:03d}.keras")
        save_atomically(self.model, path)
        for old in sorted(glob.glob(os.path.join(self.directory, "epoch_*.keras")))[: -self.keep]:
            os.remove(old)


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
