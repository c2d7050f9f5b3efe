"""`fit` learns on every backend: a tiny ViT separates coloured squares by colour."""

import keras
import numpy as np

from keras_vit import ViT, data, training


def _squares(n, seed):
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 3
    images = rng.integers(0, 80, size=(n, 16, 16, 3), dtype=np.uint8)
    for image, label in zip(images, labels):
        top, left = rng.integers(0, 8, size=2)
        image[top : top + 8, left : left + 8, label] = 255
    return images, labels


def test_fit_reduces_the_loss_and_learns_the_task():
    keras.utils.set_random_seed(0)
    source = data.from_arrays(*_squares(240, 0))
    train = data.train_pipeline(
        source.splits["train"], 3, 16, 24, data.Augmentation(crop_area=(0.5, 1.0)), size=source.sizes["train"]
    )
    test = data.eval_pipeline(source.splits["test"], 3, 16, 48, crop_fraction=1.0)
    model = ViT(16, 4, 32, 2, 2, 64, num_classes=3, stochastic_depth_rate=0.1)
    steps = 12 * (source.sizes["train"] // 24)
    model.compile(
        optimizer=training.pretrain_optimizer(steps, learning_rate=3e-3, weight_decay=0.01),
        loss=training.classification_loss(0.1),
        metrics=["accuracy"],
    )
    history = model.fit(train, epochs=12, verbose=0).history
    assert history["loss"][-1] < 0.6 * history["loss"][0]
    _, accuracy = model.evaluate(test, verbose=0)
    assert accuracy >= 0.95
