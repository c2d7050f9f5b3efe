"""Tiny models and hand-set attention shared by the inspect tests."""

import numpy as np

import keras_vit

TINY = dict(patch_size=8, hidden_dim=32, num_heads=2, mlp_dim=32)


def tiny_model(image_size=32, num_layers=2, **kwargs):
    return keras_vit.ViT(image_size=image_size, num_layers=num_layers, **{**TINY, **kwargs})


def randomize(model, seed=0):
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        variable.assign(rng.normal(scale=0.3, size=variable.shape).astype("float32"))
    return model


def make_attention_uniform(model):
    """Zero query and key projections: every logit is 0, so every softmax row is uniform."""
    for variable in model.weights:
        if "/attn/query/" in variable.path or "/attn/key/" in variable.path:
            variable.assign(np.zeros(variable.shape, "float32"))
    return model


def images(model, batch=2, seed=1):
    shape = (batch, *model.input_shape[1:])
    return np.random.default_rng(seed).uniform(0, 255, size=shape).astype("float32")


def patch_centres(grid_size, image_size):
    """Pixel centres (y, x) of the patches, row-major, computed from the patch bounds."""
    rows, cols = grid_size
    height, width = image_size[0] / rows, image_size[1] / cols
    return [((r + 0.5) * height, (c + 0.5) * width) for r in range(rows) for c in range(cols)]
