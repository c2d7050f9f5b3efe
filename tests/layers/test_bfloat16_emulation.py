"""bfloat16 products computed in float32 where torch emulates bfloat16 (a CPU without
bfloat16 units): where keras_vit decides so, and that the values are those that
bfloat16 units compute (exact products summed in float32, rounded once)."""

import os
import subprocess
import sys

import keras
import ml_dtypes
import numpy as np
import pytest

import keras_vit
from keras_vit.layers import TransformerBlock, fast_path
from keras_vit.utils import cpu

ON_TORCH = keras.config.backend() == "torch"
on_torch_only = pytest.mark.skipif(not ON_TORCH, reason="torch alone emulates bfloat16 products in keras_vit")

# Flags as /proc/cpuinfo lists them, cut to the ones that tell the kinds apart.
AVX2 = "fpu sse2 avx avx2 fma"
AVX512 = AVX2 + " avx512f avx512dq avx512bw avx512vl avx512_vnni"
AVX512_BF16 = AVX512 + " avx512_bf16"

# One bfloat16 rounding, relative: 8 significant bits.
BFLOAT16_ULP = 2.0**-7


def _stub_flags(tmp_path, monkeypatch, flags):
    path = tmp_path / "cpuinfo"
    if flags is not None:
        path.write_text(f"processor\t: 0\nflags\t\t: {flags}\n")
    monkeypatch.setattr(cpu, "CPUINFO", str(path))


@pytest.mark.backend_independent(reason="flags and torch's answer are stubbed; no tensor is computed")
@pytest.mark.parametrize(
    "flags, onednn, emulated",
    [
        (AVX2, False, True),  # no bfloat16 units, and no bfloat16 kernel in torch's oneDNN
        (AVX512, True, True),  # oneDNN runs bfloat16 by converting it to float32
        (AVX512_BF16, True, False),
        (AVX512_BF16, False, True),  # ONEDNN_MAX_CPU_ISA caps oneDNN below the units
        (None, True, False),  # flags unknown: torch's answer decides
        (None, False, True),
    ],
)
def test_bfloat16_is_native_only_with_units_that_torchs_onednn_uses(flags, onednn, emulated, tmp_path, monkeypatch):
    _stub_flags(tmp_path, monkeypatch, flags)
    monkeypatch.setattr(fast_path, "_onednn_bfloat16", lambda: onednn)
    assert fast_path.bfloat16_emulated() is emulated


@pytest.mark.backend_independent(reason="runs torch in a process of its own")
def test_a_onednn_capped_to_avx2_is_found_emulating():
    code = "from keras_vit.layers import fast_path; print(fast_path._onednn_bfloat16(), fast_path.bfloat16_emulated())"
    environment = {**os.environ, "KERAS_BACKEND": "torch", "ONEDNN_MAX_CPU_ISA": "AVX2"}
    done = subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "True"]


@pytest.fixture
def emulated(monkeypatch):
    """bfloat16 taken as emulated on this CPU, whatever its units."""
    monkeypatch.setattr(fast_path, "bfloat16_emulated", lambda: True)


@pytest.fixture
def mixed_bfloat16():
    keras.config.set_dtype_policy("mixed_bfloat16")  # tests/conftest.py sets float32 again


def _bf16(array):
    """`array` rounded to bfloat16, as float64."""
    return np.asarray(array, dtype="float32").astype(ml_dtypes.bfloat16).astype("float64")


def _normal(shape, seed):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def _numpy(tensor):
    return keras.ops.convert_to_numpy(keras.ops.cast(tensor, "float32")).astype("float64")


def _close_to_one_rounding(actual, exact):
    """`actual` is `exact` (float64) rounded once to bfloat16, give or take one rounding."""
    np.testing.assert_allclose(actual, _bf16(exact), rtol=BFLOAT16_ULP, atol=1e-6)


def test_nothing_is_widened_off_torch_or_in_float32(emulated):
    values = keras.ops.convert_to_tensor(_normal((2, 3), 0))
    assert not fast_path._in_float32(values)
    assert fast_path._in_float32(keras.ops.cast(values, "bfloat16")) == ON_TORCH


@on_torch_only
@pytest.mark.parametrize("trace", ["is_exporting", "is_tracing"])
def test_a_traced_program_keeps_the_bfloat16_products(trace, emulated, monkeypatch):
    import torch

    monkeypatch.setattr(torch.compiler if trace == "is_exporting" else torch.jit, trace, lambda: True)
    assert not fast_path._in_float32(torch.ones(2, dtype=torch.bfloat16))


@on_torch_only
@pytest.mark.parametrize("equation, output_shape, bias_axes, input_shape", [
    ("btd,dhk->bthk", (None, 2, 3), "hk", (2, 5, 8)),
    ("bthk,hkd->btd", (None, 8), "d", (2, 5, 2, 3)),
])
def test_a_projection_multiplies_the_bfloat16_values_in_float32(equation, output_shape, bias_axes, input_shape,
                                                                 emulated, mixed_bfloat16, monkeypatch):
    import torch

    layer = keras.layers.EinsumDense(equation, output_shape, bias_axes=bias_axes)
    layer.build(input_shape)
    kernel, bias = _normal(layer.kernel.shape, 1), _normal(layer.bias.shape, 2)
    layer.kernel.assign(kernel)
    layer.bias.assign(bias)
    inputs = _normal(input_shape, 3)
    linear, dtypes = torch.nn.functional.linear, []
    monkeypatch.setattr(torch.nn.functional, "linear", lambda x, *rest: dtypes.append(x.dtype) or linear(x, *rest))
    outputs = fast_path.project(layer, inputs)
    assert dtypes == [torch.float32] and outputs.dtype == torch.bfloat16
    contracted = len(input_shape) - 2
    exact = np.tensordot(_bf16(inputs), _bf16(kernel), axes=contracted) + _bf16(bias)
    _close_to_one_rounding(_numpy(outputs), exact)


@on_torch_only
@pytest.mark.parametrize("with_bias", [False, True])
def test_attention_runs_in_float32_on_the_bfloat16_values(with_bias, emulated):
    query, key, value = (keras.ops.cast(_normal((2, 7, 3, 4), seed), "bfloat16") for seed in (1, 2, 3))
    bias = keras.ops.cast(_normal((2, 3, 7, 7), 4), "bfloat16") if with_bias else None
    outputs = fast_path.attend(query, key, value, bias, 0.5)
    assert keras.backend.standardize_dtype(outputs.dtype) == "bfloat16"
    q, k, v = (_numpy(tensor) for tensor in (query, key, value))
    logits = np.einsum("bqhd,bthd->bhqt", q, k) * 0.5 + (_numpy(bias) if with_bias else 0)
    weights = np.exp(logits - logits.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    _close_to_one_rounding(_numpy(outputs), np.einsum("bhqt,bthd->bqhd", weights, v))


@on_torch_only
def test_a_convolution_and_a_contraction_multiply_the_bfloat16_values_in_float32(emulated):
    images = keras.ops.cast(_normal((2, 8, 8, 3), 1), "bfloat16")
    kernel = _normal((4, 4, 3, 5), 2)  # a float32 kernel is rounded to the inputs' dtype first
    outputs = fast_path.convolve(images, kernel, 4)
    assert keras.backend.standardize_dtype(outputs.dtype) == "bfloat16"
    patches = _numpy(images).reshape(2, 2, 4, 2, 4, 3).transpose(0, 1, 3, 2, 4, 5).reshape(2, 2, 2, 48)
    _close_to_one_rounding(_numpy(outputs), patches @ _bf16(kernel).reshape(48, 5))
    first, second = (keras.ops.cast(_normal((2, 7, 3, 4), seed), "bfloat16") for seed in (3, 4))
    logits = fast_path.contract("bqhk,bthk->bhqt", first, second)
    assert keras.backend.standardize_dtype(logits.dtype) == "bfloat16"
    _close_to_one_rounding(_numpy(logits), np.einsum("bqhk,bthk->bhqt", _numpy(first), _numpy(second)))


def _tiny_vit():
    return keras_vit.ViT(image_size=32, patch_size=8, hidden_dim=32, num_layers=2, num_heads=4, mlp_dim=64,
                         num_classes=10)


@on_torch_only
def test_a_mixed_bfloat16_vit_computes_within_bfloat16_of_float32(monkeypatch):
    images = np.random.default_rng(0).uniform(0, 255, (4, 32, 32, 3)).astype("float32")
    reference = _tiny_vit()
    # The head starts at zero, as the paper's does: other weights make the logits differ.
    weights = [w if w.any() else _normal(w.shape, i) for i, w in enumerate(reference.get_weights())]
    reference.set_weights(weights)
    expected = _numpy(reference.predict_on_batch(images))
    keras.config.set_dtype_policy("mixed_bfloat16")
    model = _tiny_vit()
    model.set_weights(weights)
    native = _numpy(model.predict_on_batch(images))
    monkeypatch.setattr(fast_path, "bfloat16_emulated", lambda: True)
    widened = _numpy(model.predict_on_batch(images))
    scale = np.abs(expected).max()
    # Both about 1% of the logits' scale: bfloat16's roundings through two blocks.
    np.testing.assert_allclose(widened, expected, atol=0.03 * scale, rtol=0)
    np.testing.assert_allclose(widened, native, atol=0.03 * scale, rtol=0)
    assert np.abs(widened - native).max() > 0  # the products were computed another way


@on_torch_only
@pytest.mark.parametrize("relative", [None, 5])
def test_a_blocks_gradients_stay_within_bfloat16_of_float32(relative, monkeypatch):
    import torch

    tokens = _normal((2, 5, 16), 0)
    runs, widened = [], []
    in_float32 = fast_path._in_float32
    monkeypatch.setattr(fast_path, "_in_float32", lambda tensor: widened.append(in_float32(tensor)) or widened[-1])
    for policy, emulated in (("float32", False), ("mixed_bfloat16", True)):
        keras.config.set_dtype_policy(policy)
        block = TransformerBlock(num_heads=2, mlp_dim=32, relative_position_tokens=relative)
        block.build(tokens.shape)
        block.set_weights([_normal(w.shape, i) * 0.3 for i, w in enumerate(block.weights)])
        monkeypatch.setattr(fast_path, "bfloat16_emulated", lambda emulated=emulated: emulated)
        inputs = torch.tensor(tokens, requires_grad=True)
        outputs, weights = block(inputs, return_attention_scores=True)
        (outputs.float() ** 2).sum().backward()
        kernels = [_numpy(w.value.grad) for w in block.trainable_weights]
        runs.append([_numpy(outputs), _numpy(weights), inputs.grad.numpy().astype("float64"), *kernels])
    expected, emulated = runs
    assert any(widened), "no product was computed in float32"
    # Outputs, attention weights and the input's gradient: about 0.5% off.
    for want, got in zip(expected[:3], emulated[:3]):
        np.testing.assert_allclose(got, want, atol=0.02 * np.abs(want).max(), rtol=0)
    # Every weight's gradient, on the scale of the largest (the key bias' is zero in exact arithmetic).
    scale = max(np.abs(want).max() for want in expected[3:])
    for want, got in zip(expected[3:], emulated[3:]):
        np.testing.assert_allclose(got, want, atol=0.02 * scale, rtol=0)
