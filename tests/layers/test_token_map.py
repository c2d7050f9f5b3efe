import keras
import numpy as np
import pytest

from keras_vit.layers import TokenMap
from tests.harness import run_layer_test


def test_layer_contract(tmp_path):
    run_layer_test(TokenMap, {"grid_size": (2, 3)}, (2, 7, 4), (2, 2, 3, 4), tmp_path)
    run_layer_test(TokenMap, {"grid_size": 2, "num_prefix_tokens": 0}, (2, 4, 4), (2, 2, 2, 4), tmp_path)


def test_patches_go_back_to_their_row_and_column():
    tokens = np.arange(2 * 7 * 3, dtype="float32").reshape(2, 7, 3)
    grid = keras.ops.convert_to_numpy(TokenMap((2, 3))(tokens))
    for row in range(2):
        for col in range(3):
            np.testing.assert_array_equal(grid[:, row, col], tokens[:, 1 + 3 * row + col])


def test_a_wrong_token_count_names_the_grid():
    with pytest.raises(ValueError, match=r"expects 7 tokens here \(1 prefix \+ 2x3 patches\)"):
        TokenMap((2, 3))(np.zeros((1, 6, 4), "float32"))


def test_a_map_given_a_grid_lays_the_tokens_out_on_it():
    tokens = np.arange(1 * 9 * 2, dtype="float32").reshape(1, 9, 2)
    grid = keras.ops.convert_to_numpy(TokenMap((3, 3))(tokens, np.zeros((1, 2, 4, 5), "float32")))
    np.testing.assert_array_equal(grid, tokens[:, 1:].reshape(1, 2, 4, 2))
    assert TokenMap((3, 3)).compute_output_shape((None, 9, 2), (None, 2, 4, 5)) == (None, 2, 4, 2)
