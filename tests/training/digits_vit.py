"""A small ViT trained on the bundled digits, shared by the quantization and LoRA tests.

Trained weights matter there: quantization error and LoRA's learning are only
meaningful on a model that has learned something.
"""

import functools

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


def pretrained_weights(epochs=30):
    """The weights of a 10-class digits ViT after `epochs` of Adam (about 94%
    test accuracy at 30), trained once per process and seed 0."""
    return _pretrained(epochs)


@functools.cache
def _pretrained(epochs):
    keras.utils.set_random_seed(0)
    model = build()
    train(model, *digits()["train"], epochs)
    return [np.array(weight) for weight in model.get_weights()]


def pretrained(epochs=30):
    """A fresh model holding `pretrained_weights(epochs)`."""
    model = build()
    model.set_weights(pretrained_weights(epochs))
    return model


def predict(model, images):
    return keras.ops.convert_to_numpy(model.predict(images, batch_size=256, verbose=0))
