"""Quantized attention and blocks keep their quantization through `.keras` files.

Keras rebuilds a layer's sublayers from the layer's config, so the config of a
quantized block must say which of its projections are quantized and how.
"""

import keras
import numpy as np
import pytest

from keras_vit.layers import MultiHeadSelfAttention, TransformerBlock
from keras_vit.quantization import quantize

MODES = ("int8", "float8", "int4")
BLOCK_PROJECTIONS = ("attn/query", "attn/key", "attn/value", "attn/out", "mlp_fc1", "mlp_fc2")


def _model(layer, tokens=5, width=8):
    inputs = keras.Input((tokens, width))
    return keras.Model(inputs, layer(inputs))


def _quantize(model, mode):
    # Keras' model.quantize through keras_vit's, which collects garbage once, not per layer.
    quantize(model, mode)


def _reload(model, tmp_path):
    path = str(tmp_path / "quantized.keras")
    model.save(path)
    return keras.saving.load_model(path, safe_mode=True)


def _numpy(tensor):
    return keras.ops.convert_to_numpy(tensor)


def _randomize(model):
    # Random kernels of a realistic scale, so quantization changes the outputs.
    rng = np.random.default_rng(1)
    for variable in model.weights:
        variable.assign(rng.normal(scale=0.3, size=variable.shape).astype("float32"))


@pytest.mark.parametrize("mode", MODES)
def test_quantized_block_loads_quantized_with_the_same_outputs(mode, tmp_path):
    block = TransformerBlock(2, 16, relative_position_tokens=5, name="encoderblock_0")
    model = _model(block)
    _randomize(model)
    tokens = np.random.default_rng(0).normal(size=(3, 5, 8)).astype("float32")
    float_outputs = _numpy(model(tokens))
    paths = [variable.path for variable in model.weights]
    _quantize(model, mode)
    quantized_outputs = _numpy(model(tokens))
    assert not np.allclose(quantized_outputs, float_outputs, atol=1e-6)

    loaded = _reload(model, tmp_path)
    np.testing.assert_array_equal(_numpy(loaded(tokens)), quantized_outputs)
    loaded_block = loaded.get_layer("encoderblock_0")
    for path, layer in loaded_block.projections().items():
        assert layer.quantization_mode == mode, path
    # The relative position embedding and the LayerNorms stay float.
    assert loaded_block.attn.quantization_mode is None
    assert keras.backend.standardize_dtype(loaded_block.attn.relative_embedding.dtype) == "float32"
    assert loaded_block.norm1.quantization_mode is None
    # The float model's weight paths, which checkpoint loaders use, stay; the
    # quantized kernels keep the name `kernel` beside their new scales.
    assert set(paths) <= {variable.path for variable in loaded.weights}


def test_block_config_names_its_quantized_projections():
    block = TransformerBlock(2, 16, name="encoderblock_0")
    model = _model(block)
    assert block.get_config()["dtype"]["class_name"] == "DTypePolicy"
    _quantize(model, "int8")
    policy = block.get_config()["dtype"]
    assert policy["class_name"] == "DTypePolicyMap"
    assert policy["config"]["default_policy"] == "float32"
    assert sorted(policy["config"]["policy_map"]) == sorted(BLOCK_PROJECTIONS)
    revived = TransformerBlock.from_config(block.get_config())
    revived.build((None, 5, 8))
    assert {path: layer.quantization_mode for path, layer in revived.projections().items()} == dict.fromkeys(
        BLOCK_PROJECTIONS, "int8"
    )
    assert revived.norm1.dtype_policy.name == "float32"


def test_quantized_attention_alone_loads_quantized(tmp_path):
    model = _model(MultiHeadSelfAttention(num_heads=2, name="attn"))
    _randomize(model)
    _quantize(model, "int8")
    tokens = np.random.default_rng(0).normal(size=(2, 5, 8)).astype("float32")
    loaded = _reload(model, tmp_path)
    np.testing.assert_array_equal(_numpy(loaded(tokens)), _numpy(model(tokens)))
    assert loaded.get_layer("attn").key.quantization_mode == "int8"


def test_quantized_block_in_a_nested_model_loads(tmp_path):
    # The map's keys are relative to the block, so the block may sit at any depth.
    inner = _model(TransformerBlock(2, 16, name="encoderblock_0"))
    inputs = keras.Input((5, 8))
    outer = keras.Model(inputs, keras.layers.Dense(4, name="top")(inner(inputs)))
    _randomize(outer)
    _quantize(outer, "int4")
    tokens = np.random.default_rng(0).normal(size=(2, 5, 8)).astype("float32")
    loaded = _reload(outer, tmp_path)
    np.testing.assert_array_equal(_numpy(loaded(tokens)), _numpy(outer(tokens)))


def test_quantized_mixed_precision_block_keeps_its_policies(tmp_path):
    block = TransformerBlock(2, 16, name="encoderblock_0", dtype="mixed_bfloat16")
    model = _model(block)
    _quantize(model, "int8")
    loaded = _reload(model, tmp_path).get_layer("encoderblock_0")
    assert loaded.attn.query.dtype_policy.name == "int8_from_mixed_bfloat16"
    assert loaded.norm1.dtype_policy.name == "mixed_bfloat16"
    assert loaded.compute_dtype == "bfloat16"
