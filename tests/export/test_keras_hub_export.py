"""keras-hub presets written by `export_model(model, folder, "keras_hub")`, loaded by keras-hub.

The classifier's parity through the export harness is in test_export.py (the
`keras_hub_vit` case); here: a backbone preset, what keras-hub's own loaders
and keras_vit's read back from a preset, and the models keras-hub's ViT cannot
express, refused by name before anything is written.
"""

import json
import os

import keras
import keras_hub
import numpy as np
import pytest

import keras_vit
from keras_vit import export as kv_export
from keras_vit.export import requirements
from tests.export.models import pixels, reference

SMALL = dict(image_size=16, patch_size=8, hidden_dim=8, num_layers=1, num_heads=2, mlp_dim=12, activation="gelu")


def _randomized(model, seed=3, zero=()):
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        value = rng.normal(0.0, 0.3, variable.shape)
        variable.assign((0 * value if variable.path in zero else value).astype("float32"))
    return model


def test_classifier_preset_loads_in_keras_hub_and_keras_vit(exported):
    artifact = exported("keras_hub_vit", "keras_hub")  # the export harness's case, exported once
    assert sorted(os.listdir(artifact.path)) == ["config.json", "image_converter.json", "metadata.json",
                                                 "model.weights.h5", "preprocessor.json", "task.json",
                                                 "task.weights.h5"]
    assert artifact.report.format == "keras_hub" and artifact.report.parity.max_abs_diff <= 1e-5
    images, expected = artifact.images[3], artifact.expected[3]
    backbone = keras_hub.models.Backbone.from_preset(artifact.path)
    assert type(backbone).__name__ == "ViTBackbone" and tuple(backbone.image_shape) == (16, 24, 3)
    runner = kv_export.load(artifact.path)  # keras-hub's ImageClassifier, as the export's check ran it
    np.testing.assert_allclose(runner(images), expected, atol=1e-5, rtol=0)
    read_back = keras_vit.from_checkpoint(artifact.path)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(read_back(images)), expected, atol=1e-5, rtol=0)


def test_backbone_preset_gives_the_models_pooled_output(tmp_path):
    # No class token, so pooling is the mean of the tokens; no attention biases (keras-hub
    # then has no output-projection bias either: keras_vit's is zero); [-1, 1] fed directly.
    model = keras_vit.ViT(**SMALL, include_top=False, pooling="gap", class_token=False, qkv_bias=False,
                          patch_bias=False, include_preprocessing=False)
    _randomized(model, zero={"encoderblock_0/attn/out/bias"})
    path = str(tmp_path / "backbone")
    report = kv_export.export_model(model, path, "keras_hub")
    assert report.parity.max_abs_diff <= 1e-5
    assert sorted(os.listdir(path)) == ["config.json", "image_converter.json", "metadata.json", "model.weights.h5"]
    images = pixels(model, 2)
    converter = keras_hub.layers.ImageConverter.from_preset(path)
    sequence = keras_hub.models.Backbone.from_preset(path)(converter(images))
    expected = reference(model, images)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(keras.ops.mean(sequence, axis=1)), expected, atol=1e-5)


def test_a_mean_pooled_softmax_classifier_keeps_its_pooling_and_activation(tmp_path):
    model = _randomized(keras_vit.ViT(**SMALL, pooling="gap", num_classes=3, classifier_activation="softmax"))
    path = str(tmp_path / "gap")
    report = kv_export.export_model(model, path, "keras_hub")  # the check compares the probabilities
    assert report.parity.max_abs_diff <= 1e-5 and report.parity.scale <= 1.0
    with open(os.path.join(path, "task.json")) as file:
        task = json.load(file)["config"]
    use_class_token = task["backbone"]["config"]["use_class_token"]
    assert (task["pooling"], task["activation"], use_class_token) == ("gap", "softmax", False)


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(activation="gelu_tanh"), r"activation='gelu_tanh'.*need 'gelu'.*built with activation='gelu' computes"),
        (dict(num_registers=2), r"num_registers=2.*need 0: no register tokens"),
        (dict(position_embedding="learned_2d"), r"position_embedding='learned_2d'"),
        (dict(position_embedding="relative"), r"position_embedding='relative'"),
        (dict(distillation_token=True), r"distillation_token=True"),
        (dict(layer_scale_init=1e-5), r"layer_scale_init=1e-05"),
        (dict(pre_norm=True), r"pre_norm=True"),
        (dict(pooling="map", class_token=False), r"pooling='map'"),
        (dict(pooling="gap", class_token=True), r"class_token=True.*keras-hub's mean includes the class token"),
        (dict(projection_dim=4, include_top=False), r"projection_dim=4"),
        (dict(dynamic_image_size=True), r"dynamic_image_size=True"),
        (dict(include_top=False, representation_size=4), r"representation_size=4.*pre-logits layer belongs"),
        (dict(qkv_bias=False), r"qkv_bias=False with a non-zero encoderblock_0/attn/out/bias"),
        (dict(include_preprocessing=False, pixel_mean=(0.4, 0.4, 0.4)), r"include_preprocessing=False.*\[-1, 1\]"),
    ],
)
def test_what_keras_hubs_vit_cannot_express_is_refused_by_name(options, message, tmp_path):
    model = _randomized(keras_vit.ViT(**{**SMALL, **options}))
    with pytest.raises(ValueError, match=message):
        kv_export.export_model(model, str(tmp_path / "preset"), "keras_hub")
    assert os.listdir(tmp_path) == []


def test_a_mixed_precision_model_is_refused_by_name(tmp_path):
    keras.config.set_dtype_policy("mixed_bfloat16")  # the suite's fixture sets float32 back
    model = keras_vit.ViT(**SMALL)
    with pytest.raises(ValueError, match=r"float32 models; .* computes under the 'mixed_bfloat16' dtype policy"):
        kv_export.export_model(model, str(tmp_path / "preset"), "keras_hub")


def test_a_hybrid_is_refused_by_name(tmp_path):
    model = keras_vit.ViTHybrid(resnet_layers=(), resnet_width=0.5, **{**SMALL, "patch_size": 1, "image_size": 8})
    with pytest.raises(ValueError, match=r"resnet_layers=\(\).*need None: no hybrid ResNet stem"):
        kv_export.export_model(model, str(tmp_path / "preset"), "keras_hub")


@pytest.mark.backend_independent(reason="checks which modules are importable; builds no model")
def test_missing_keras_hub_is_named_with_its_install_command(monkeypatch):
    monkeypatch.setattr(requirements, "installed", lambda module: module != "keras_hub")
    with pytest.raises(ImportError, match=r"'keras_hub' is not installed; install it with pip install --no-deps "
                                          r"keras-hub && pip install absl-py packaging regex rich"):
        kv_export.check_request("keras_hub")
