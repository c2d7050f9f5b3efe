import math

import numpy as np
import pytest

from keras_vit import inspect
from tests.inspect.tiny import images, make_attention_uniform, patch_centres, randomize, tiny_model


def _grid_mean_distance(grid_size, image_size):
    """Mean pixel distance over every (query, key) pair of patches: uniform attention's answer."""
    centres = patch_centres(grid_size, image_size)
    return sum(math.dist(q, k) for q in centres for k in centres) / len(centres) ** 2


def _mean_distance_by_hand(weights, grid_size, image_size, prefix):
    centres = patch_centres(grid_size, image_size)
    batch, heads = weights.shape[:2]
    result = np.zeros((batch, heads))
    for b in range(batch):
        for h in range(heads):
            per_query = []
            for q, centre in enumerate(centres):
                row = weights[b, h, prefix + q, prefix:]
                spread = sum(w * math.dist(centre, other) for w, other in zip(row, centres))
                per_query.append(spread / row.sum())
            result[b, h] = np.mean(per_query)
    return result


def test_attending_only_to_itself_is_distance_zero():
    for prefix in (1, 0):
        grid = inspect.TokenGrid(image_size=(16, 48), grid_size=(2, 3), num_prefix_tokens=prefix)
        itself = np.broadcast_to(np.eye(grid.num_tokens), (2, 4, grid.num_tokens, grid.num_tokens))
        np.testing.assert_array_equal(inspect.mean_distance(itself, grid), np.zeros((2, 4)))


def test_uniform_attention_is_the_grid_mean_distance():
    for image_size, grid_size in [((32, 32), (4, 4)), ((16, 48), (2, 3))]:
        grid = inspect.TokenGrid(image_size=image_size, grid_size=grid_size)
        uniform = np.full((1, 2, grid.num_tokens, grid.num_tokens), 1 / grid.num_tokens)
        expected = _grid_mean_distance(grid_size, image_size)
        np.testing.assert_allclose(inspect.mean_distance(uniform, grid), expected, rtol=1e-6)


def test_random_attention_matches_a_hand_computation():
    grid = inspect.TokenGrid(image_size=(16, 48), grid_size=(2, 3))
    rng = np.random.default_rng(0)
    weights = rng.uniform(size=(2, 3, 7, 7))
    weights /= weights.sum(axis=-1, keepdims=True)
    expected = _mean_distance_by_hand(weights, (2, 3), (16, 48), prefix=1)
    np.testing.assert_allclose(inspect.mean_distance(weights, grid), expected, rtol=1e-5)


def test_attention_to_the_class_token_is_left_out():
    grid = inspect.TokenGrid(image_size=16, grid_size=2)
    weights = np.zeros((1, 1, 5, 5))
    weights[..., :, 0] = 0.5                 # half of every query's attention on the class token
    weights[..., 1:, 1 + 3] = 0.5            # the other half on the bottom-right patch
    expected = np.mean([math.dist(c, (12, 12)) for c in patch_centres((2, 2), (16, 16))])
    np.testing.assert_allclose(inspect.mean_distance(weights, grid), [[expected]], rtol=1e-6)


def test_uniform_attention_through_a_model():
    for pooling in ("token", "gap"):
        model = make_attention_uniform(randomize(tiny_model(image_size=(16, 24), pooling=pooling)))
        distances = inspect.mean_attention_distance(model, images(model))
        assert distances.shape == (2, 2)
        np.testing.assert_allclose(distances, _grid_mean_distance((2, 3), (16, 24)), rtol=1e-5)


def test_model_distance_averages_the_images():
    model = randomize(tiny_model(image_size=(16, 24)))
    batch = images(model, batch=3)
    attention = inspect.attention_weights(model, batch)
    expected = [_mean_distance_by_hand(w, (2, 3), (16, 24), prefix=1).mean(axis=0) for w in attention]
    np.testing.assert_allclose(inspect.mean_attention_distance(model, batch, batch_size=2), expected, rtol=1e-4)


def test_weights_of_another_grid_are_refused():
    with pytest.raises(ValueError, match=r"\(batch, heads, 5, 5\).*weights.shape=\(1, 1, 7, 7\)"):
        inspect.mean_distance(np.ones((1, 1, 7, 7)), inspect.TokenGrid(16, 2))
