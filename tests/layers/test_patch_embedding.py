import keras
import numpy as np
import pytest

from keras_vit.layers import PatchEmbedding
from tests.harness import run_layer_test


def test_layer_contract(tmp_path):
    run_layer_test(
        PatchEmbedding, {"patch_size": 4, "hidden_dim": 6}, (2, 8, 12, 3), (2, 6, 6), tmp_path
    )


def test_tokens_are_row_major_patch_projections():
    layer = PatchEmbedding(patch_size=2, hidden_dim=5)
    images = np.random.default_rng(0).normal(size=(1, 4, 6, 3)).astype("float32")
    tokens = keras.ops.convert_to_numpy(layer(images))
    kernel = keras.ops.convert_to_numpy(layer.kernel).reshape(2 * 2 * 3, 5)
    for row in range(2):
        for col in range(3):
            patch = images[0, 2 * row : 2 * row + 2, 2 * col : 2 * col + 2].reshape(-1)
            np.testing.assert_allclose(tokens[0, row * 3 + col], patch @ kernel, atol=1e-5)


def test_kernel_has_checkpoint_layout():
    layer = PatchEmbedding(patch_size=16, hidden_dim=32)
    layer.build((None, 32, 32, 3))
    assert tuple(layer.kernel.shape) == (16, 16, 3, 32)


def test_size_not_divisible_by_patch_is_rejected():
    with pytest.raises(ValueError, match=r"Image height 10 is not divisible by 4, the pixels per patch token "
                                         r"\(patch_size=4\). Received: images.shape=\(1, 10, 8, 3\)"):
        PatchEmbedding(4, 8)(np.zeros((1, 10, 8, 3), "float32"))


def test_the_unflattened_map_holds_the_same_tokens_on_their_grid():
    images = np.random.default_rng(0).normal(size=(2, 8, 12, 3)).astype("float32")
    flat = PatchEmbedding(4, 8, name="a")
    grid = PatchEmbedding(4, 8, flatten=False, name="b")
    flat(images), grid(images)
    grid.set_weights(flat.get_weights())
    on_grid = keras.ops.convert_to_numpy(grid(images))
    assert on_grid.shape == (2, 2, 3, 8) and grid.compute_output_shape((None, 8, 12, 3)) == (None, 2, 3, 8)
    np.testing.assert_array_equal(on_grid.reshape(2, 6, 8), keras.ops.convert_to_numpy(flat(images)))
    assert PatchEmbedding.from_config(grid.get_config()).flatten is False


def test_wrong_channel_count_is_rejected():
    layer = PatchEmbedding(4, 8)
    layer(np.zeros((1, 8, 8, 3), "float32"))
    with pytest.raises(ValueError, match=r"built for images with 3 channels.*\(1, 8, 8, 4\)"):
        layer(np.zeros((1, 8, 8, 4), "float32"))


@pytest.mark.parametrize("kwargs", [{"patch_size": 0, "hidden_dim": 8}, {"patch_size": 4, "hidden_dim": 2.5}])
def test_bad_arguments_are_named(kwargs):
    name = next(k for k, v in kwargs.items() if v in (0, 2.5))
    with pytest.raises(ValueError, match=f"`{name}` must be a positive integer. Received: {name}="):
        PatchEmbedding(**kwargs)
