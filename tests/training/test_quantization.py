"""Keras' weight quantization on a trained keras_vit model: accuracy kept, `.keras`
round trip, export where Keras allows it, and clear errors for bad requests."""

import os

import keras
import numpy as np
import pytest

from keras_vit import training
from keras_vit.export import export_model
from keras_vit.models import intermediates
from tests.training import digits_vit

# Top-1 agreement with the float32 model on the 360 test digits, at least. README
# "Quantization and LoRA" gives the measured figures: int8 99.4-100% on one CPU,
# 98.9-99.4% on one with AMX, where 4 of 360 digits flip, all near-ties.
MIN_AGREEMENT = {"int8": 0.985, "float8": 0.95, "int4": 0.93}
# The float32 model's lead of its best class over the runner-up, in logits, below
# which an int8 flip counts as a near-tie (measured: flips at 0.002-0.25, against
# a median lead of 4.3-5.5).
INT8_NEAR_TIE = 0.5
# Which formats each backend exports an int8-quantized model to (Keras 3.15.1).
EXPORTS = {"tensorflow": ["tf_saved_model"], "jax": ["tf_saved_model"], "torch": ["onnx"]}
# ... and the ones that fail, leaving nothing behind.
FAILED_EXPORTS = {"tensorflow": ["litert"], "jax": ["onnx"], "torch": []}
FILE_NAMES = {"tf_saved_model": "model", "litert": "model.tflite", "onnx": "model.onnx"}


@pytest.fixture(scope="module")
def reference():
    images, labels = digits_vit.digits()["test"]
    logits = digits_vit.predict(digits_vit.pretrained(), images)
    assert (logits.argmax(-1) == labels).mean() > 0.85
    return images, logits


@pytest.fixture(scope="module")
def quantized():
    return {mode: training.quantize(digits_vit.pretrained(), mode) for mode in training.QUANTIZATION_MODES}


@pytest.mark.parametrize("mode", training.QUANTIZATION_MODES)
def test_quantized_model_agrees_with_float32(mode, reference, quantized):
    images, float_logits = reference
    logits = digits_vit.predict(quantized[mode], images)
    agreement = (logits.argmax(-1) == float_logits.argmax(-1)).mean()
    difference = np.abs(logits - float_logits).max()
    print(f"{keras.backend.backend()} {mode}: top-1 agreement {agreement:.4f}, max |logit difference| {difference:.3f}")
    assert agreement >= MIN_AGREEMENT[mode]
    assert difference > 0
    if mode == "int8":
        assert difference <= 0.2 * np.abs(float_logits).max()
        best_two = np.sort(float_logits, axis=-1)[:, -2:]
        flipped = logits.argmax(-1) != float_logits.argmax(-1)
        assert (best_two[flipped, 1] - best_two[flipped, 0] < INT8_NEAR_TIE).all()


def test_quantize_covers_the_dense_layers_only(quantized):
    layers = training.quantized_layers(quantized["int8"])
    projections = ("attn/query", "attn/key", "attn/value", "attn/out", "mlp_fc1", "mlp_fc2")
    expected = {f"encoderblock_{i}/{name}" for i in range(2) for name in projections} | {"head"}
    assert layers == dict.fromkeys(expected, "int8")


@pytest.mark.parametrize("mode", training.QUANTIZATION_MODES)
def test_quantized_model_saves_and_loads(mode, reference, quantized, tmp_path):
    images = reference[0][:64]
    path = str(tmp_path / f"{mode}.keras")
    quantized[mode].save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert training.quantized_layers(loaded) == training.quantized_layers(quantized[mode])
    np.testing.assert_array_equal(digits_vit.predict(loaded, images), digits_vit.predict(quantized[mode], images))
    # The second views rebuild nothing: the reloaded blocks (a DTypePolicyMap
    # for a policy) run quantized in them too.
    views = [intermediates(model)(images[:8]) for model in (loaded, quantized[mode])]
    for key in ("output", "encoded"):
        np.testing.assert_array_equal(*(keras.ops.convert_to_numpy(view[key]) for view in views))
    np.testing.assert_array_equal(*(keras.ops.convert_to_numpy(view["attention"][-1]) for view in views))
    expected = digits_vit.predict(loaded, images[:8])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(views[0]["output"]), expected, atol=1e-4, rtol=0)


def test_int8_model_exports_where_keras_allows(reference, quantized, tmp_path):
    backend = keras.backend.backend()
    images = reference[0][:16]
    for format in EXPORTS[backend]:
        path = tmp_path / FILE_NAMES[format]
        report = export_model(quantized["int8"], path, format, verify=images)
        assert report.parity.top1_agreement == 1.0, report
    for format in FAILED_EXPORTS[backend]:
        path = tmp_path / ("failed_" + FILE_NAMES[format])
        with pytest.raises(ValueError, match=r"quantized to int8 \(layer .*\) and"):
            export_model(quantized["int8"], path, format, verify=images)
        assert not os.path.exists(path)


@pytest.mark.parametrize(
    "mode, message",
    [
        ("int2", r"`mode` must be one of 'int8', 'float8', 'int4'\. Received: mode='int2'"),
        ("gptq", r"GPTQConfig.*Received: mode='gptq'"),
        (None, r"Received: mode=None"),
    ],
)
def test_unknown_mode_is_refused_before_anything_changes(mode, message):
    model = digits_vit.build()
    with pytest.raises(ValueError, match=message):
        training.quantize(model, mode)
    assert training.quantized_layers(model) == {}


def test_keras_own_quantize_names_an_unknown_mode():
    with pytest.raises(ValueError, match=r"Expected one of .*'int8'.*Received: mode=int2"):
        digits_vit.build().quantize("int2")


def test_quantizing_twice_is_refused():
    model = training.quantize(digits_vit.build(), "int8")
    message = r"already quantized \(13 layers, such as encoderblock_0/attn/key in int8\).*mode='int4'"
    with pytest.raises(ValueError, match=message):
        training.quantize(model, "int4")


def test_quantize_needs_a_model():
    with pytest.raises(ValueError, match="`model` must be a built keras.Model"):
        training.quantize(keras.layers.Dense(2), "int8")
