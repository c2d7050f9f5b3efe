import keras
import numpy as np
import pytest

from keras_vit import ViT
from keras_vit.layers import StochasticDepth, TransformerBlock
from tests.harness import run_layer_test


def test_layer_contract(tmp_path):
    run_layer_test(StochasticDepth, {"rate": 0.3, "seed": 1}, (4, 5, 8), (4, 5, 8), tmp_path)


def test_drops_whole_examples_at_the_rate_and_keeps_the_mean():
    branch = np.ones((4000, 3, 2), "float32")
    out = keras.ops.convert_to_numpy(StochasticDepth(0.25, seed=0)(branch, training=True))
    per_example = out.reshape(len(out), -1)
    # Every example is either dropped whole or kept whole, scaled by 1 / (1 - rate).
    np.testing.assert_allclose(np.unique(per_example), [0.0, 1 / 0.75], rtol=1e-6)
    assert (per_example.min(1) == per_example.max(1)).all()
    dropped = (per_example[:, 0] == 0).mean()
    assert abs(dropped - 0.25) < 0.03
    assert abs(out.mean() - 1.0) < 0.04


def test_is_the_identity_at_inference():
    branch = np.random.default_rng(0).normal(size=(3, 4)).astype("float32")
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(StochasticDepth(0.9)(branch)), branch)


def test_block_with_every_branch_dropped_is_the_identity():
    tokens = np.random.default_rng(0).normal(size=(6, 5, 8)).astype("float32")
    block = TransformerBlock(2, 12, stochastic_depth_rate=0.999999)
    out = keras.ops.convert_to_numpy(block(tokens, training=True))
    np.testing.assert_allclose(out, tokens, atol=1e-6)
    assert np.abs(keras.ops.convert_to_numpy(block(tokens)) - tokens).max() > 1e-3


def test_rates_rise_linearly_over_the_blocks():
    model = ViT(32, 8, 16, 5, 2, 32, num_classes=3, stochastic_depth_rate=0.2)
    rates = [model.get_layer(f"encoderblock_{i}").stochastic_depth_rate for i in range(5)]
    np.testing.assert_allclose(rates, [0.0, 0.05, 0.1, 0.15, 0.2])


def test_rate_out_of_range_is_rejected():
    with pytest.raises(ValueError, match=r"`stochastic_depth_rate` must be a number in \[0, 1\). Received: stochastic_depth_rate=1.5"):
        ViT(32, 8, 16, 2, 2, 32, stochastic_depth_rate=1.5)
