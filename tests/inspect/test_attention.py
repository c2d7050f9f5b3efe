import numpy as np
import pytest
from PIL import Image

from keras_vit import inspect
from keras_vit.models import intermediates
from tests.inspect.tiny import images, make_attention_uniform, randomize, tiny_model


def _softmax_rows(logits):
    exp = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return exp / exp.sum(axis=-1, keepdims=True)


def _random_attention(layers=3, batch=2, heads=3, tokens=7, seed=0):
    rng = np.random.default_rng(seed)
    return [_softmax_rows(rng.normal(scale=2.0, size=(batch, heads, tokens, tokens))) for _ in range(layers)]


def _rollout_by_hand(attention):
    """Abnar & Zuidema's rollout written out: A_hat = 0.5 A + 0.5 I, joint = A_hat @ joint."""
    batch, heads, tokens, _ = attention[0].shape
    result = np.zeros((batch, tokens, tokens))
    for b in range(batch):
        joint = np.eye(tokens)
        for layer in attention:
            averaged = sum(layer[b, h] for h in range(heads)) / heads
            joint = (0.5 * averaged + 0.5 * np.eye(tokens)) @ joint
        result[b] = joint
    return result


def test_identity_attention_rolls_out_to_the_identity():
    attention = [np.broadcast_to(np.eye(5), (2, 3, 5, 5))] * 4
    np.testing.assert_allclose(inspect.rollout(attention), np.broadcast_to(np.eye(5), (2, 5, 5)), atol=1e-7)
    grid = inspect.TokenGrid(image_size=16, grid_size=2)
    np.testing.assert_array_equal(inspect.rollout_map(attention, grid), np.zeros((2, 2, 2)))


def test_rollout_matches_a_hand_computation():
    attention = _random_attention()
    np.testing.assert_allclose(inspect.rollout(attention), _rollout_by_hand(attention), atol=1e-6)
    grid = inspect.TokenGrid(image_size=(16, 24), grid_size=(2, 3))
    expected = _rollout_by_hand(attention)[:, 0, 1:].reshape(2, 2, 3)
    np.testing.assert_allclose(inspect.rollout_map(attention, grid), expected, atol=1e-6)
    gap = inspect.TokenGrid(image_size=(16, 32), grid_size=(1, 7), num_prefix_tokens=0)
    expected = _rollout_by_hand(attention).mean(axis=1).reshape(2, 1, 7)
    np.testing.assert_allclose(inspect.rollout_map(attention, gap), expected, atol=1e-6)


def test_maps_are_row_major_over_a_non_square_grid():
    attention = np.zeros((1, 2, 7, 7))
    attention[:, :, 0, 1 + 4] = 1.0  # the class token looks only at patch 4: row 1, column 1 of 2x3
    maps = inspect.last_layer_map([attention], inspect.TokenGrid((16, 24), (2, 3)))
    expected = np.zeros((1, 2, 2, 3))
    expected[:, :, 1, 1] = 1.0
    np.testing.assert_array_equal(maps, expected)


def test_uniform_attention_through_a_model():
    # L blocks of uniform attention U: rollout = U + (I - U) / 2^L. The class token's
    # row gives (1 - 1/2^L) / T to every patch; the mean of all rows gives 1 / T.
    for pooling, layers, tokens, rollout_value in [("token", 2, 17, 0.75 / 17), ("gap", 1, 16, 1 / 16)]:
        model = make_attention_uniform(randomize(tiny_model(pooling=pooling, num_layers=layers)))
        batch = images(model)
        rollout = inspect.attention_rollout(model, batch)
        assert rollout.shape == (2, 32, 32)
        np.testing.assert_allclose(rollout, rollout_value, rtol=1e-5)
        heads = inspect.last_layer_attention(model, batch, upsample=False)
        assert heads.shape == (2, 2, 4, 4)
        np.testing.assert_allclose(heads, 1 / tokens, rtol=1e-5)


def test_model_maps_match_intermediates_in_any_batch_size():
    model = randomize(tiny_model(image_size=(16, 24)))
    batch = images(model, batch=3)
    attention = [np.asarray(a) for a in intermediates(model).predict_on_batch(batch)["attention"]]
    by_hand = _rollout_by_hand(attention)[:, 0, 1:].reshape(3, 2, 3)
    for batch_size in (1, 8):
        grid_maps = inspect.attention_rollout(model, batch, batch_size=batch_size, upsample=False)
        np.testing.assert_allclose(grid_maps, by_hand, atol=1e-5)
    assert inspect.attention_rollout(model, batch).shape == (3, 16, 24)
    heads = inspect.last_layer_attention(model, batch, batch_size=1, upsample=False)
    np.testing.assert_allclose(heads, attention[-1][:, :, 0, 1:].reshape(3, 2, 2, 3), atol=1e-6)


def test_upsample_is_pil_bilinear():
    grid_map = np.random.default_rng(0).uniform(size=(3, 5)).astype("float32")
    for size in [(12, 20), (7, 11)]:
        expected = np.asarray(Image.fromarray(grid_map, mode="F").resize(size[::-1], Image.Resampling.BILINEAR))
        np.testing.assert_allclose(inspect.upsample(grid_map, size), expected, atol=1e-5)
        np.testing.assert_allclose(inspect.upsample(np.full((2, 3, 5), 0.25), size), 0.25, atol=1e-7)


def test_bad_input_is_named():
    model = tiny_model()
    with pytest.raises(ValueError, match=r"\(batch, 32, 32, 3\).*images.shape=\(32, 32, 3\)"):
        inspect.attention_rollout(model, np.zeros((32, 32, 3)))
    with pytest.raises(ValueError, match=r"images.shape=\(1, 24, 32, 3\)"):
        inspect.mean_attention_distance(model, np.zeros((1, 24, 32, 3)))
    with pytest.raises(ValueError, match="batch_size"):
        inspect.attention_weights(model, np.zeros((1, 32, 32, 3)), batch_size=0)
    with pytest.raises(ValueError, match="non-empty list"):
        inspect.rollout([])
    with pytest.raises(ValueError, match="one shape"):
        inspect.rollout([np.ones((1, 1, 3, 3)), np.ones((1, 1, 4, 4))])
    with pytest.raises(ValueError, match="has 5 tokens but `grid` holds 7"):
        inspect.rollout_map([np.ones((1, 1, 5, 5))], inspect.TokenGrid((16, 24), (2, 3)))
