"""Exports of dynamic-size models (open height and width) and refusals for quantized ones."""

import os
import re

import keras
import numpy as np
import pytest

import keras_vit
from keras_vit import export as kv_export
from keras_vit.export import FORMATS
from keras_vit.training import quantize
from tests.export.conftest import FILE_NAMES
from tests.export.models import backend

DYNAMIC_FORMATS = {
    "tensorflow": ("tf_saved_model", "onnx", "openvino"),
    "jax": ("tf_saved_model",),
    "torch": ("onnx", "openvino", "torch"),
}


def _dynamic_model(**kwargs):
    model = keras_vit.ViT(image_size=24, patch_size=8, hidden_dim=32, num_layers=2, num_heads=4, mlp_dim=64,
                          num_classes=10, dynamic_image_size=True, **kwargs)
    rng = np.random.default_rng(0)
    for variable in model.weights:
        variable.assign(rng.normal(scale=0.2, size=variable.shape).astype("float32"))
    return model


def _pixels(size, batch=2):
    return np.random.default_rng(3).integers(0, 256, (batch, *size, 3)).astype("float32")


@pytest.mark.parametrize("format", DYNAMIC_FORMATS[backend()])
def test_dynamic_model_keeps_open_height_and_width(format, tmp_path):
    model = _dynamic_model(position_embedding="relative")
    path = str(tmp_path / FILE_NAMES[format])
    report = kv_export.export_model(model, path, format)
    assert sorted(report.parity_by_size) == [(24, 24), (32, 40)]
    assert all(parity.max_abs_diff <= 1e-4 for parity in report.parity_by_size.values())
    runner = kv_export.load(path)
    assert runner.input_shape == (None, None, 3)
    images = _pixels((40, 16))  # a third size, neither of the checked ones
    expected = keras.ops.convert_to_numpy(model(images))
    np.testing.assert_allclose(runner(images), expected, atol=1e-4, rtol=0)


def test_dynamic_dinov2_with_registers_keeps_its_antialiased_resizing(tmp_path):
    # DINOv2's layout: registers after the class token, LayerScale, the table
    # resized at every call as transformers and timm resize it.
    format = DYNAMIC_FORMATS[backend()][0]
    model = _dynamic_model(num_registers=2, layer_scale_init=0.1, resample_method="bicubic_antialias")
    report = kv_export.export_model(model, str(tmp_path / FILE_NAMES[format]), format)
    assert all(parity.max_abs_diff <= 1e-4 for parity in report.parity_by_size.values())
    images = _pixels((16, 40))  # down in height, up in width from the 3x3 grid it was built for
    np.testing.assert_allclose(kv_export.load(report.path)(images), keras.ops.convert_to_numpy(model(images)),
                               atol=1e-4, rtol=0)


@pytest.mark.skipif(backend() not in FORMATS["litert"].BACKENDS,
                    reason="LiteRT is written from the TensorFlow backend only; test_unsupported_* checks the others")
def test_litert_of_a_dynamic_model_has_the_size_asked_for(tmp_path):
    model = _dynamic_model(position_embedding="learned_2d")
    report = kv_export.export_model(model, str(tmp_path / "model.tflite"), "litert", image_size=(32, 16))
    assert list(report.parity_by_size) == [(32, 16)] and report.parity.max_abs_diff <= 1e-4
    assert kv_export.load(report.path).input_shape == (32, 16, 3)
    with pytest.raises(ValueError, match=r"Image width 20 is not divisible by 8"):
        kv_export.export_model(model, str(tmp_path / "other.tflite"), "litert", image_size=(32, 20))


def test_image_size_is_refused_where_it_means_nothing(tmp_path):
    format = {"tensorflow": "onnx", "jax": "tf_saved_model", "torch": "onnx"}[backend()]
    with pytest.raises(ValueError, match=r"`image_size` is for LiteRT only\. Received: image_size=\(32, 32\)"):
        kv_export.export_model(_dynamic_model(), str(tmp_path / FILE_NAMES[format]), format, image_size=(32, 32))
    fixed = keras_vit.ViT(image_size=24, patch_size=8, hidden_dim=16, num_layers=1, num_heads=2, mlp_dim=16)
    with pytest.raises(ValueError, match=r"has a fixed size \(24, 24\)\. Received: image_size=32"):
        kv_export.export_model(fixed, str(tmp_path / FILE_NAMES[format]), format, image_size=32)
    assert not os.listdir(tmp_path)


@pytest.mark.skipif(backend() != "jax", reason="the refusal is JAX's; TensorFlow and torch export it above")
@pytest.mark.parametrize("format, name", [("onnx", "ONNX"), ("openvino", "OpenVINO")])
def test_dynamic_onnx_from_jax_names_the_backends_that_can(format, name, tmp_path):
    with pytest.raises(ValueError, match=rf"{name} export .* a dynamic-size model, from the JAX backend.*tensorflow or torch"):
        kv_export.export_model(_dynamic_model(), str(tmp_path / FILE_NAMES[format]), format)
    assert not os.listdir(tmp_path)


def test_quantized_models_a_converter_cannot_take_are_refused_in_our_words(tmp_path):
    cases = [
        (format, mode, reason)
        for format, module in FORMATS.items()
        for (name, mode), reason in module.KERAS_QUANTIZED_UNSUPPORTED.items()
        if name == backend()
    ]
    assert cases, "every backend has a format that refuses some quantized model"
    for format, mode, reason in cases:
        model = quantize(keras_vit.ViT(image_size=16, patch_size=8, hidden_dim=32, num_layers=1,
                                       num_heads=2, mlp_dim=32), mode)
        with pytest.raises(ValueError, match=rf"quantized to {mode} \(layer .*\) and {re.escape(reason)}"):
            kv_export.export_model(model, str(tmp_path / FILE_NAMES[format]), format)
    assert not os.listdir(tmp_path)


class _Shifted:
    """A runner that returns the model's outputs moved by `shift` of their scale."""

    input_dtypes = ("float32",)

    def __init__(self, model, shift):
        self.model, self.shift = model, shift

    def __call__(self, images):
        outputs = keras.ops.convert_to_numpy(self.model.predict(images, verbose=0))
        return outputs + self.shift * max(1.0, float(np.abs(outputs).max()))


def test_a_model_quantized_in_keras_is_held_to_its_own_tolerance():
    """Such a model quantizes its activations at every call, so another runtime may
    round one of them the other way: one int8 step, not float32 round-off."""
    model = keras_vit.ViT(image_size=16, patch_size=8, hidden_dim=16, num_layers=1, num_heads=2, mlp_dim=32,
                          num_classes=3)
    images = kv_export.sample_images((16, 16, 3), num_images=4)
    with pytest.raises(kv_export.ParityError, match=r"\(float32\) does not match"):
        kv_export.verify(model, _Shifted(model, 3e-3), images=images)
    quantized = quantize(model, "int8")
    report = kv_export.verify(quantized, _Shifted(quantized, 3e-3), images=images)
    assert report.min_top1 == kv_export.TOLERANCES[kv_export.KERAS_QUANTIZED].top1
    with pytest.raises(kv_export.ParityError, match=r"\(keras_quantized\) does not match"):
        kv_export.verify(quantized, _Shifted(quantized, 3e-2), images=images)
