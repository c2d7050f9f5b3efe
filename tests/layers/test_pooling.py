import numpy as np
import keras
import pytest

import keras_vit
from keras_vit.layers import POOLINGS, SequencePooling
from tests.harness import run_layer_test


@pytest.mark.parametrize("mode", ["token", "gap"])
def test_layer_contract(tmp_path, mode):
    run_layer_test(SequencePooling, {"mode": mode}, (2, 5, 6), (2, 6), tmp_path)


def test_modes():
    tokens = np.random.default_rng(0).normal(size=(2, 5, 3)).astype("float32")
    token = keras.ops.convert_to_numpy(SequencePooling("token")(tokens))
    gap = keras.ops.convert_to_numpy(SequencePooling("gap", num_prefix_tokens=1)(tokens))
    np.testing.assert_array_equal(token, tokens[:, 0])
    np.testing.assert_allclose(gap, tokens[:, 1:].mean(axis=1), atol=1e-6)


def test_unknown_mode_is_rejected():
    with pytest.raises(ValueError, match="`mode` must be one of 'token', 'gap'. Received: mode='max'"):
        SequencePooling("max")


def test_exported_with_the_modes_builders_take():
    assert POOLINGS == ("token", "gap", "map")
    assert keras_vit.layers.SequencePooling is SequencePooling
    with pytest.raises(ValueError, match=r"`pooling` must be one of 'token', 'gap', 'map'. Received: pooling='cls'"):
        keras_vit.ViT(image_size=16, patch_size=8, hidden_dim=8, num_layers=1, num_heads=2, mlp_dim=8, pooling="cls")
