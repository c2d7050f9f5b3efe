import keras
import numpy as np

from keras_vit.layers import ClassToken
from tests.harness import run_layer_test


def test_layer_contract(tmp_path):
    run_layer_test(ClassToken, {}, (2, 4, 6), (2, 5, 6), tmp_path)


def test_token_is_prepended_and_shared_by_the_batch():
    layer = ClassToken()
    tokens = np.random.default_rng(0).normal(size=(3, 4, 6)).astype("float32")
    layer.build(tokens.shape)
    layer.token.assign(np.arange(6, dtype="float32").reshape(1, 1, 6))
    out = keras.ops.convert_to_numpy(layer(tokens))
    np.testing.assert_array_equal(out[:, 0], np.tile(np.arange(6.0), (3, 1)))
    np.testing.assert_array_equal(out[:, 1:], tokens)
    assert tuple(layer.token.shape) == (1, 1, 6)
