"""A small ViT trained on the bundled digits, shared by the quantization and LoRA tests.

Trained weights matter there: quantization error and LoRA's learning are only
meaningful on a model that has learned something. They are trained once, by
`make_digits_weights.py`, and kept beside this file (`digits_vit.npz`): every
test process used to train them again, about a minute of each backend's run.
"""

import functools
import pathlib

import keras
import numpy as np

from keras_vit import ViT
from keras_vit.data import load_digits

IMAGE_SIZE = 16
ARCHITECTURE = dict(image_size=IMAGE_SIZE, patch_size=4, hidden_dim=32, num_layers=2, num_heads=2, mlp_dim=64)


def build(num_classes=10, **kwargs):
    return ViT(**ARCHITECTURE, num_classes=num_classes, **kwargs)


@functools.cache
def digits():
    """`{split: (float32 images in [0, 255], int labels)}` at 16 x 16 pixels."""
    return {name: (images.astype("float32"), labels) for name, (images, labels) in load_digits(IMAGE_SIZE).items()}


def train(model, images, labels, epochs, learning_rate=3e-3):
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model.fit(images, labels, batch_size=64, epochs=epochs, verbose=0).history


WEIGHTS = pathlib.Path(__file__).with_name("digits_vit.npz")


@functools.cache
def pretrained_weights():
    """The weights of a 10-class digits ViT after 30 epochs of Adam from seed 0
    (about 94% test accuracy), in `model.get_weights()` order."""
    with np.load(WEIGHTS) as stored:
        return [stored[f"arr_{index}"] for index in range(len(stored.files))]


def pretrained():
    """A fresh model holding `pretrained_weights()`."""
    model = build()
    model.set_weights(pretrained_weights())
    return model


def predict(model, images):
    return keras.ops.convert_to_numpy(model.predict(images, batch_size=256, verbose=0))
