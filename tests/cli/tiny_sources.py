"""A tiny ViT written in each form a command takes, and the one-line failure the tests expect."""

import re

import numpy as np
from PIL import Image

import keras_vit
from tests.weights.original import original_arrays

TINY = dict(image_size=16, patch_size=8, hidden_dim=16, num_layers=1, num_heads=2, mlp_dim=16)
NPZ_SIZES = dict(patch=8, width=16, depth=1, heads=2, mlp=16, classes=5, image=16)


def write_sources(folder):
    """Writes into `folder` a tiny ViT with a random head as `vit.keras` and
    `vit.weights.h5`, an original `vit.npz` and `photo.png`; returns `folder`."""
    model = keras_vit.ViT(num_classes=5, **TINY)
    head = model.get_layer("head")  # a builder's zero head would make every comparison vacuous
    head.kernel.assign(np.random.default_rng(1).normal(0.0, 0.5, head.kernel.shape).astype("float32"))
    model.save(folder / "vit.keras")
    model.save_weights(folder / "vit.weights.h5")
    np.savez(folder / "vit.npz", **original_arrays(**NPZ_SIZES))
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(folder / "photo.png")
    return folder


def assert_one_line(done, command, pattern, path):
    """`done` failed with exit status 1 and the one stderr line `keras-vit COMMAND: <pattern>`."""
    assert done.returncode == 1, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert re.fullmatch(f"keras-vit {command}: " + pattern.replace("{path}", re.escape(str(path))), lines[0]), lines[0]
