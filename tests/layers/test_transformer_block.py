import keras
import numpy as np
import pytest

from keras_vit.layers import TransformerBlock
from tests.harness import run_layer_test
from tests.reference import gelu, layer_norm


def test_layer_contract(tmp_path):
    run_layer_test(TransformerBlock, {"num_heads": 2, "mlp_dim": 12}, (2, 5, 8), (2, 5, 8), tmp_path)


@pytest.mark.parametrize("approximate_gelu", [True, False])
def test_matches_pre_layernorm_equations(approximate_gelu):
    block = TransformerBlock(num_heads=2, mlp_dim=12, activation="gelu_tanh" if approximate_gelu else "gelu")
    tokens = np.random.default_rng(0).normal(size=(2, 5, 8)).astype("float32")
    block.build(tokens.shape)
    _randomize(block)
    out, weights = block(tokens, return_attention_scores=True)
    fused = block(tokens)
    w = {v.path.split("/", 1)[1]: keras.ops.convert_to_numpy(v).astype("float64") for v in block.weights}
    attended = _attention(layer_norm(tokens, w["norm1/gamma"], w["norm1/beta"], 1e-6), w)
    x = tokens + attended
    hidden = layer_norm(x, w["norm2/gamma"], w["norm2/beta"], 1e-6) @ w["mlp_fc1/kernel"] + w["mlp_fc1/bias"]
    x = x + gelu(hidden, approximate_gelu) @ w["mlp_fc2/kernel"] + w["mlp_fc2/bias"]
    np.testing.assert_allclose(keras.ops.convert_to_numpy(out), x, atol=1e-5)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(fused), x, atol=1e-5)
    assert tuple(weights.shape) == (2, 2, 5, 5)


def _randomize(block):
    rng = np.random.default_rng(1)
    for variable in block.weights:
        variable.assign(rng.normal(scale=0.3, size=variable.shape).astype("float32"))


def _attention(x, w):
    q, k, v = (np.einsum("btd,dhk->bthk", x, w[f"attn/{n}/kernel"]) + w[f"attn/{n}/bias"] for n in ("query", "key", "value"))
    logits = np.einsum("bqhk,bthk->bhqt", q, k) / np.sqrt(q.shape[-1])
    probs = np.exp(logits - logits.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    mixed = np.einsum("bhqt,bthk->bqhk", probs, v)
    return np.einsum("bqhk,hkd->bqd", mixed, w["attn/out/kernel"]) + w["attn/out/bias"]


def test_gelu_variants_differ():
    tokens = np.random.default_rng(0).normal(size=(1, 3, 8)).astype("float32") * 3
    approximate = TransformerBlock(2, 12, activation="gelu_tanh")
    exact = TransformerBlock(2, 12, activation="gelu")
    approximate.build(tokens.shape)
    exact.build(tokens.shape)
    _randomize(approximate)
    exact.set_weights(approximate.get_weights())
    difference = np.abs(keras.ops.convert_to_numpy(approximate(tokens) - exact(tokens))).max()
    assert difference > 1e-5


def test_width_not_divisible_by_heads_is_rejected():
    with pytest.raises(ValueError, match="`hidden_dim` must be divisible by num_heads=4.*Received: hidden_dim=10"):
        TransformerBlock(num_heads=4, mlp_dim=8).build((None, 3, 10))


@pytest.mark.parametrize("name", ["dropout_rate", "attention_dropout_rate"])
def test_negative_rates_are_rejected(name):
    with pytest.raises(ValueError, match=rf"`{name}` must be a number in \[0, 1\). Received: {name}=-0.5"):
        TransformerBlock(num_heads=2, mlp_dim=8, **{name: -0.5})
