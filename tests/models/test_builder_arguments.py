"""What builders do with the arguments that follow the weights, and what they document."""

import dataclasses
import inspect

import numpy as np

import keras_vit
from keras_vit.models import ViTConfig
from keras_vit.models.pretrained import FOLLOW_WEIGHTS
from tests.weights.original import original_arrays

TINY = dict(image_size=None, patch_size=8, hidden_dim=16, num_layers=1, num_heads=2, mlp_dim=32)


def test_arguments_left_at_none_take_the_paper_defaults_without_weights():
    config = keras_vit.ViT(**TINY).vit_config
    assert {key: getattr(config, key) for key in FOLLOW_WEIGHTS} == {
        "image_size": (224, 224), "num_classes": 1000, "representation_size": None,
        "approximate_gelu": True, "layer_norm_epsilon": 1e-6,
    }
    assert all(inspect.signature(keras_vit.ViT).parameters[key].default is None for key in FOLLOW_WEIGHTS)


def test_arguments_left_at_none_follow_the_weights_and_given_ones_win(tmp_path):
    path = tmp_path / "ViT-tiny.npz"
    np.savez(path, **original_arrays(representation=12))
    sizes = dict(patch_size=8, hidden_dim=16, num_layers=2, num_heads=4, mlp_dim=24)
    followed = keras_vit.ViT(**sizes, weights=str(path)).vit_config
    assert (followed.image_size, followed.num_classes, followed.representation_size) == ((32, 32), 7, 12)
    given = keras_vit.ViT(**sizes, weights=str(path), image_size=48, num_classes=3).vit_config
    assert (given.image_size, given.num_classes, given.representation_size) == ((48, 48), 3, 12)


def test_vit_hybrid_documents_every_config_field_it_takes_as_a_keyword():
    named = set(inspect.signature(keras_vit.ViTHybrid).parameters) - {"weights", "name", "kwargs"}
    fields = {field.name for field in dataclasses.fields(ViTConfig)}
    assert named < fields
    for field in fields - named:
        assert f"`{field}`" in keras_vit.ViTHybrid.__doc__, field
