import os

import keras
import numpy as np
import pytest

from keras_vit.training import EpochCheckpoint


def test_keep_must_be_a_positive_integer():
    for keep in (0, -1, 1.5):
        with pytest.raises(ValueError, match=f"`keep` must be a positive integer. Received: keep={keep!r}"):
            EpochCheckpoint("unused", keep=keep)


def test_keep_one_leaves_only_the_newest_checkpoint(tmp_path):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    data = np.zeros((4, 2), "float32"), np.zeros((4, 1), "float32")
    model.fit(*data, epochs=3, verbose=0, callbacks=[EpochCheckpoint(str(tmp_path), keep=1)])
    assert os.listdir(tmp_path) == ["epoch_003.keras"]
