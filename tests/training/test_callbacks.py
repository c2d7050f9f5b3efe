import os

import keras
import numpy as np
import pytest

from keras_vit.training import EpochCheckpoint
from keras_vit.training.callbacks import ProgressFile, read_progress, save_atomically


def test_keep_must_be_a_positive_integer():
    for keep in (0, -1, 1.5):
        with pytest.raises(ValueError, match=f"`keep` must be a positive integer. Received: keep={keep!r}"):
            EpochCheckpoint("unused", keep=keep)


def _fit(epochs, callback):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.zeros((4, 2), "float32"), np.zeros((4, 1), "float32"), epochs=epochs, verbose=0, callbacks=[callback])


def test_keep_one_leaves_only_the_newest_checkpoint(tmp_path):
    _fit(3, EpochCheckpoint(str(tmp_path), keep=1))
    assert os.listdir(tmp_path) == ["epoch_003.keras"]


def test_progress_file_counts_the_finished_epochs(tmp_path):
    path = str(tmp_path / "progress.json")
    assert read_progress(path) == 0
    _fit(3, ProgressFile(path))
    assert read_progress(path) == 3
    assert os.listdir(tmp_path) == ["progress.json"]  # no temporary file left


def test_save_atomically_writes_through_a_hidden_partial_file(tmp_path):
    seen = []

    class Model:
        def save(self, path):
            seen.append(os.path.basename(path))
            with open(path, "w") as file:
                file.write("half")
            raise OSError("killed while saving")

    with pytest.raises(OSError, match="killed while saving"):
        save_atomically(Model(), str(tmp_path / "epoch_001.keras"))
    assert seen == [".epoch_001.keras.partial.keras"]
    assert os.listdir(tmp_path) == []
