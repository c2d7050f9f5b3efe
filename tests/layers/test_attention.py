import keras
import numpy as np
import pytest

from keras_vit.layers import MultiHeadSelfAttention
from tests.harness import run_layer_test


def test_layer_contract(tmp_path):
    run_layer_test(MultiHeadSelfAttention, {"num_heads": 2}, (2, 5, 8), (2, 5, 8), tmp_path)


def test_relative_layer_contract(tmp_path):
    run_layer_test(
        MultiHeadSelfAttention, {"num_heads": 2, "relative_position_tokens": 5}, (2, 5, 8), (2, 5, 8), tmp_path
    )


def _relative_reference(layer, tokens):
    """Relative attention from the paper's description (Appendix D.4), one
    query-key pair at a time: the offset q - k picks the embedding that serves
    as a second key for the scaled query; its logit joins the content logit."""
    def params(name):
        sub = getattr(layer, name)
        return [keras.ops.convert_to_numpy(w).astype("float64") for w in (sub.kernel, sub.bias)]

    table = keras.ops.convert_to_numpy(layer.relative_embedding).astype("float64")
    batch, length, _ = tokens.shape
    heads, size = table.shape[1:]
    q, k, v = (np.einsum("btd,dhk->bthk", tokens, w) + b for w, b in map(params, ("query", "key", "value")))
    q = q / np.sqrt(size)
    logits = np.zeros((batch, heads, length, length))
    for b in range(batch):
        for h in range(heads):
            for i in range(length):
                for j in range(length):
                    offset_embedding = table[i - j + length - 1, h]
                    logits[b, h, i, j] = q[b, i, h] @ k[b, j, h] + q[b, i, h] @ offset_embedding
    weights = np.exp(logits - logits.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    mixed = np.einsum("bhqt,bthk->bqhk", weights, v)
    out_kernel, out_bias = params("out")
    return np.einsum("bqhk,hkd->bqd", mixed, out_kernel) + out_bias, weights


@pytest.mark.parametrize("length", [6, 2, 1])
def test_relative_attention_matches_the_papers_description(length):
    layer = MultiHeadSelfAttention(num_heads=2, relative_position_tokens=length)
    layer.build((None, length, 8))
    rng = np.random.default_rng(1)
    assert tuple(layer.relative_embedding.shape) == (2 * length - 1, 2, 4)
    layer.relative_embedding.assign(rng.normal(size=(2 * length - 1, 2, 4)).astype("float32"))
    tokens = rng.normal(size=(3, length, 8)).astype("float32")
    expected, expected_weights = _relative_reference(layer, tokens)
    fused = keras.ops.convert_to_numpy(layer(tokens))
    explicit, weights = layer(tokens, return_attention_scores=True)
    np.testing.assert_allclose(fused, expected, atol=1e-5)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(explicit), expected, atol=1e-5)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(weights), expected_weights, atol=1e-5)
    if length > 1:  # one token attends to itself whatever its bias
        # Without its table the layer is plain attention: the offsets did something.
        assert np.abs(expected - _numpy_attention(layer, tokens)[0]).max() > 1e-2


def test_relative_table_resamples_with_the_centre_kept():
    layer = MultiHeadSelfAttention(num_heads=1, relative_position_tokens=5)
    layer.build((None, 5, 2))
    source = np.stack([np.arange(-2.0, 3.0)] * 2, axis=-1)[:, None, :]   # offsets -2..2 of a 3-token table
    resized = layer.resample_weight("relative_embedding", source)
    assert resized.shape == (9, 1, 2)
    np.testing.assert_allclose(resized[:, 0, 0], np.linspace(-2, 2, 9), atol=1e-6)
    with pytest.raises(ValueError, match="'query' of MultiHeadSelfAttention cannot be resampled"):
        layer.resample_weight("query", source)


def test_relative_tokens_must_match_the_input():
    with pytest.raises(ValueError, match=r"cover 4 tokens. Received: input_shape=\(None, 5, 8\)"):
        MultiHeadSelfAttention(num_heads=2, relative_position_tokens=4).build((None, 5, 8))
    with pytest.raises(ValueError, match="`relative_position_tokens` must be a positive"):
        MultiHeadSelfAttention(num_heads=2, relative_position_tokens=0)


def test_kernels_have_checkpoint_layout():
    layer = MultiHeadSelfAttention(num_heads=4)
    layer.build((None, 7, 16))
    for name in ("query", "key", "value"):
        assert tuple(getattr(layer, name).kernel.shape) == (16, 4, 4)
        assert tuple(getattr(layer, name).bias.shape) == (4, 4)
    assert tuple(layer.out.kernel.shape) == (4, 4, 16)


def test_fused_and_explicit_paths_agree_with_numpy():
    layer = MultiHeadSelfAttention(num_heads=2)
    tokens = np.random.default_rng(0).normal(size=(3, 5, 8)).astype("float32")
    fused = keras.ops.convert_to_numpy(layer(tokens))
    explicit, weights = layer(tokens, return_attention_scores=True)
    expected, expected_weights = _numpy_attention(layer, tokens)
    np.testing.assert_allclose(fused, expected, atol=1e-5)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(explicit), expected, atol=1e-5)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(weights), expected_weights, atol=1e-6)


def _numpy_attention(layer, tokens):
    def params(name):
        sub = getattr(layer, name)
        return [keras.ops.convert_to_numpy(w).astype("float64") for w in (sub.kernel, sub.bias)]

    q, k, v = (np.einsum("btd,dhk->bthk", tokens, w) + b for w, b in map(params, ("query", "key", "value")))
    logits = np.einsum("bqhk,bthk->bhqt", q, k) / np.sqrt(q.shape[-1])
    weights = np.exp(logits - logits.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    mixed = np.einsum("bhqt,bthk->bqhk", weights, v)
    out_kernel, out_bias = params("out")
    return np.einsum("bqhk,hkd->bqd", mixed, out_kernel) + out_bias, weights


def test_attention_dropout_only_in_training():
    layer = MultiHeadSelfAttention(num_heads=2, dropout_rate=0.5)
    tokens = np.random.default_rng(0).normal(size=(2, 5, 8)).astype("float32")
    inference = keras.ops.convert_to_numpy(layer(tokens, training=False))
    again = keras.ops.convert_to_numpy(layer(tokens, training=False))
    trained = keras.ops.convert_to_numpy(layer(tokens, training=True))
    np.testing.assert_array_equal(inference, again)
    assert not np.allclose(inference, trained)


def test_width_not_divisible_by_heads_is_rejected():
    with pytest.raises(ValueError, match=r"divisible by num_heads=3.*Received: hidden_dim=8"):
        MultiHeadSelfAttention(num_heads=3).build((None, 5, 8))


def test_negative_dropout_is_rejected():
    with pytest.raises(ValueError, match=r"`dropout_rate` must be a number in \[0, 1\). Received: dropout_rate=-0.1"):
        MultiHeadSelfAttention(num_heads=2, dropout_rate=-0.1)
