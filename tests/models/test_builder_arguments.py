"""What builders do with the arguments that follow the weights, and what they document."""

import dataclasses
import inspect

import numpy as np
import pytest

import keras_vit
from keras_vit.models import ViTConfig
from keras_vit.models.pretrained import FOLLOW_WEIGHTS
from tests.weights.original import original_arrays

TINY = dict(image_size=None, patch_size=8, hidden_dim=16, num_layers=1, num_heads=2, mlp_dim=32)


def test_arguments_left_at_none_take_the_paper_defaults_without_weights():
    config = keras_vit.ViT(**TINY).vit_config
    assert {key: getattr(config, key) for key in FOLLOW_WEIGHTS} == {
        "image_size": (224, 224), "num_classes": 1000, "representation_size": None,
        "activation": "gelu_tanh", "layer_norm_epsilon": 1e-6, "resample_method": "zoom",
        "pixel_mean": None, "pixel_std": None,
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


@pytest.mark.parametrize("builder", ["ViT", "ViTHybrid"])
def test_the_generic_builders_take_every_config_field_by_name_and_document_it(builder):
    builder = getattr(keras_vit, builder)
    named = set(inspect.signature(builder).parameters) - {"weights", "name"}
    fields = {field.name for field in dataclasses.fields(ViTConfig)}
    expected = fields if builder is keras_vit.ViTHybrid else fields - {"resnet_layers", "resnet_width"}
    assert named == expected
    arguments = builder.__doc__.split("Args:")[1].split("Returns:")[0]
    for field in named | {"weights", "name"}:
        assert field in arguments, field


@pytest.mark.parametrize("builder, generic", [("ViTB16", "ViT"), ("ViTR50B16", "ViTHybrid")])
def test_a_named_builder_shows_the_generic_signature_less_its_size(builder, generic):
    named = inspect.signature(getattr(keras_vit, builder)).parameters
    size = {"hidden_dim", "num_layers", "num_heads", "mlp_dim", "resnet_layers", "resnet_width"}
    expected = [name for name in inspect.signature(getattr(keras_vit, generic)).parameters if name not in size]
    assert list(named) == ["weights", *(name for name in expected if name != "weights")]
    assert named["image_size"].default is None and named["pooling"].default == "token"
    # Another patch size resamples the weights' patch embedding (FlexiViT).
    assert named["patch_size"].default == (16 if builder == "ViTB16" else 1)


@pytest.mark.parametrize("builder, config_class", [("ViT", "ViTConfig"), ("ViTHybrid", "ViTConfig"),
                                                   ("ResNetV2", "ResNetV2Config")])
def test_every_builder_default_is_its_configs(builder, config_class):
    # A default the signature and the config both spell must agree; None leaves a field open.
    defaults = {field.name: field.default for field in dataclasses.fields(getattr(keras_vit.models, config_class))}
    if builder == "ViTHybrid":
        del defaults["patch_size"]  # a hybrid cuts 1x1 patches from the stem's map by default
    for name, parameter in inspect.signature(getattr(keras_vit, builder)).parameters.items():
        if name in defaults and parameter.default is not inspect.Parameter.empty and parameter.default is not None:
            expected = defaults[name]
            given = parameter.default
            if name == "image_size":
                given = (given, given)
            assert given == expected, (name, given, expected)
