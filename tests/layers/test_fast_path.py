"""The fused torch calls of `keras_vit.layers.fast_path` against the portable
Keras path they replace, on every backend (elsewhere they are the portable path)."""

import keras
import numpy as np
import pytest

from keras_vit import config
from keras_vit.layers import fast_path

ON_TORCH = keras.config.backend() == "torch"
# Float32: the same products summed in another order. bf16: one rounding of
# a result near 4 is 2**-6.
TOLERANCES = {"float32": 1e-5, "mixed_bfloat16": 4e-2}

PROJECTIONS = {
    "dense": (lambda: keras.layers.Dense(6), (2, 5, 8)),
    "query": (lambda: keras.layers.EinsumDense("btd,dhk->bthk", (None, 2, 3), bias_axes="hk"), (2, 5, 8)),
    "out": (lambda: keras.layers.EinsumDense("bthk,hkd->btd", (None, 8), bias_axes="d"), (2, 5, 2, 3)),
}


@pytest.fixture
def policy(request):
    # tests/conftest.py sets float32 again after every test.
    keras.config.set_dtype_policy(request.param)
    return request.param


def _built(make, input_shape, seed=0):
    layer = make()
    layer.build(input_shape)
    rng = np.random.default_rng(seed)
    for variable in layer.weights:
        variable.assign(rng.normal(size=variable.shape).astype("float32"))
    return layer


def _inputs(shape, seed=1):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def _numpy(tensor):
    return keras.ops.convert_to_numpy(keras.ops.cast(tensor, "float32"))


@pytest.mark.parametrize("policy", list(TOLERANCES), indirect=True)
@pytest.mark.parametrize("kind", list(PROJECTIONS))
def test_project_equals_the_layer_call(kind, policy):
    make, input_shape = PROJECTIONS[kind]
    layer = _built(make, input_shape)
    inputs = _inputs(input_shape)
    fused, portable = fast_path.project(layer, inputs), layer(inputs)
    assert tuple(fused.shape) == tuple(portable.shape)
    assert keras.backend.standardize_dtype(fused.dtype) == layer.compute_dtype
    np.testing.assert_allclose(_numpy(fused), _numpy(portable), atol=TOLERANCES[policy], rtol=0)


@pytest.mark.parametrize("kind", list(PROJECTIONS))
def test_project_takes_the_fused_call_on_torch_alone(kind):
    make, input_shape = PROJECTIONS[kind]
    layer = _built(make, input_shape)
    expected = {"dense": 1, "query": 1, "out": 2}[kind] if ON_TORCH else None
    assert fast_path._fused_axes(layer) == expected


@pytest.mark.parametrize(
    "change",
    ["int8", "lora", "no_bias", "activation", "other_equation"],
)
def test_project_calls_the_layer_it_cannot_fuse(change):
    if change == "no_bias":
        layer = _built(lambda: keras.layers.Dense(6, use_bias=False), (2, 5, 8))
    elif change == "activation":
        layer = _built(lambda: keras.layers.Dense(6, activation="relu"), (2, 5, 8))
    elif change == "other_equation":
        layer = _built(lambda: keras.layers.EinsumDense("btd,de->bte", (None, 6), bias_axes="e"), (2, 5, 8))
    else:
        layer = _built(lambda: keras.layers.Dense(6), (2, 5, 8))
        if change == "int8":
            layer.quantize("int8")
        else:
            layer.enable_lora(2, b_initializer="ones")
    assert fast_path._fused_axes(layer) is None
    inputs = _inputs((2, 5, 8))
    np.testing.assert_array_equal(_numpy(fast_path.project(layer, inputs)), _numpy(layer(inputs)))


@pytest.mark.skipif(not ON_TORCH, reason="the fused call exists only on torch; elsewhere project is the layer's call")
def test_project_gradients_equal_the_layer_call_on_torch():
    import torch

    make, input_shape = PROJECTIONS["out"]
    layer = _built(make, input_shape)
    inputs = torch.tensor(_inputs(input_shape), requires_grad=True)
    gradients = []
    for call in (lambda x: fast_path.project(layer, x), layer):
        variables = [layer.kernel.value, layer.bias.value]
        loss = (call(inputs) ** 2).sum()
        gradients.append([g.numpy() for g in torch.autograd.grad(loss, [inputs, *variables])])
    for fused, portable in zip(*gradients):
        np.testing.assert_allclose(fused, portable, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("policy", list(TOLERANCES), indirect=True)
def test_normalize_equals_the_layer_call(policy):
    layer = keras.layers.LayerNormalization(epsilon=1e-6)
    layer.build((2, 5, 8))
    layer.gamma.assign(np.linspace(0.5, 1.5, 8).astype("float32"))
    layer.beta.assign(np.linspace(-1, 1, 8).astype("float32"))
    inputs = _inputs((2, 5, 8)) * 3 + 1
    fused, portable = fast_path.normalize(layer, inputs), layer(inputs)
    assert keras.backend.standardize_dtype(fused.dtype) == layer.compute_dtype
    np.testing.assert_allclose(_numpy(fused), _numpy(portable), atol=TOLERANCES[policy] / 2, rtol=0)


@pytest.mark.parametrize("settings", [{"scale": False}, {"center": False}, {"axis": [1, 2]}])
def test_normalize_calls_the_layer_it_cannot_fuse(settings):
    layer = keras.layers.LayerNormalization(**settings)
    layer.build((2, 5, 8))
    assert not fast_path._fused_norm(layer)
    inputs = _inputs((2, 5, 8))
    np.testing.assert_array_equal(_numpy(fast_path.normalize(layer, inputs)), _numpy(layer(inputs)))


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("with_bias", [False, True])
def test_attend_equals_dot_product_attention(dtype, with_bias):
    query, key, value = (keras.ops.cast(_inputs((2, 7, 3, 4), seed), dtype) for seed in (1, 2, 3))
    bias = keras.ops.cast(_inputs((2, 3, 7, 7), 4), dtype) if with_bias else None
    fused = fast_path.attend(query, key, value, bias, 0.5)
    portable = keras.ops.dot_product_attention(query, key, value, bias=bias, scale=0.5)
    assert tuple(fused.shape) == (2, 7, 3, 4)
    tolerance = 1e-5 if dtype == "float32" else 2e-2
    np.testing.assert_allclose(_numpy(fused), _numpy(portable), atol=tolerance, rtol=0)


@pytest.fixture
def fused_ops_off():
    config.set_fused_ops(False)
    yield
    config.set_fused_ops(True)


def test_the_switch_turns_every_fused_call_off(fused_ops_off):
    layer = _built(*PROJECTIONS["dense"])
    norm = keras.layers.LayerNormalization()
    norm.build((2, 5, 8))
    assert not config.fused_ops_enabled()
    assert fast_path._fused_axes(layer) is None and not fast_path._fused_norm(norm)
    inputs = _inputs((2, 5, 8))
    np.testing.assert_array_equal(_numpy(fast_path.project(layer, inputs)), _numpy(layer(inputs)))
    with pytest.raises(TypeError, match="`enabled` must be True or False. Received: enabled=1"):
        config.set_fused_ops(1)


def test_the_switchs_default_comes_from_the_environment():
    import os
    import subprocess
    import sys

    code = "import keras_vit; print(keras_vit.config.fused_ops_enabled())"
    for value, expected in (("0", "False"), ("1", "True"), (None, "True")):
        environment = {k: v for k, v in os.environ.items() if k != "KERAS_VIT_FUSED_OPS"}
        if value is not None:
            environment["KERAS_VIT_FUSED_OPS"] = value
        done = subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True)
        assert done.stdout.strip() == expected


@pytest.mark.parametrize("value, fused", [(None, True), (1, False)])
def test_a_constructor_argument_the_allow_list_does_not_know_must_hold_its_default(value, fused, monkeypatch):
    # What a layer feature Keras adds later looks like: one more constructor argument,
    # stored on the layer. At its default the layer is fused; set, it is called as it is.
    import inspect

    arguments = fast_path._arguments

    def with_new_feature(layer_class):
        extra = inspect.Parameter("new_feature", inspect.Parameter.KEYWORD_ONLY, default=None)
        return {**arguments(layer_class), "new_feature": extra}

    monkeypatch.setattr(fast_path, "_arguments", with_new_feature)
    layer = _built(*PROJECTIONS["query"])
    norm = keras.layers.LayerNormalization()
    norm.build((2, 5, 8))
    for each in (layer, norm):
        each.new_feature = value
    assert (fast_path._fused_axes(layer) is not None) == (fused and ON_TORCH)
    assert fast_path._fused_norm(norm) == (fused and ON_TORCH)
    inputs = _inputs((2, 5, 8))
    np.testing.assert_allclose(_numpy(fast_path.project(layer, inputs)), _numpy(layer(inputs)), atol=1e-5)


def test_deciding_imports_no_other_framework():
    # Layer.get_config serializes initializers, which makes Keras import TensorFlow.
    import subprocess
    import sys

    code = (
        "import sys, keras\n"
        "from keras_vit.layers import fast_path\n"
        "layer = keras.layers.Dense(4); layer.build((None, 3)); fast_path._fused_axes(layer)\n"
        "norm = keras.layers.LayerNormalization(); norm.build((None, 3)); fast_path._fused_norm(norm)\n"
        "print('tensorflow' in sys.modules)"
    )
    import os

    environment = {**os.environ, "KERAS_BACKEND": keras.backend.backend()}
    if keras.backend.backend() == "tensorflow":
        pytest.skip("the TensorFlow backend imports TensorFlow anyway")
    done = subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_a_subclass_of_a_keras_layer_is_called_as_it_is():
    class Doubled(keras.layers.Dense):
        def call(self, inputs):
            return 2 * super().call(inputs)

    layer = _built(lambda: Doubled(6), (2, 5, 8))
    assert fast_path._fused_axes(layer) is None
    inputs = _inputs((2, 5, 8))
    np.testing.assert_array_equal(_numpy(fast_path.project(layer, inputs)), _numpy(layer(inputs)))


@pytest.mark.parametrize("change", ["lora", "int8"])
def test_a_block_with_lora_or_quantized_projections_is_not_fused(change):
    from keras_vit.layers import TransformerBlock

    block = TransformerBlock(num_heads=2, mlp_dim=16, name="encoderblock_0")
    tokens = _inputs((2, 5, 8))
    block(tokens)
    projections = block.projections()
    before = {path: fast_path._fused_axes(layer) for path, layer in projections.items()}
    assert all(before.values()) == ON_TORCH  # decided, and kept on each layer
    for path, layer in projections.items():
        if change == "lora":
            layer.enable_lora(2, b_initializer="ones")
        else:
            layer.quantize("int8")
    assert all(fast_path._fused_axes(layer) is None for layer in projections.values())
    with_switch_off = []
    for enabled in (True, False):
        config.set_fused_ops(enabled)
        with_switch_off.append(_numpy(block(tokens)))
    config.set_fused_ops(True)
    np.testing.assert_array_equal(*with_switch_off)
