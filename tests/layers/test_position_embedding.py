import keras
import numpy as np
import pytest

from keras_vit.layers import (
    POSITION_EMBEDDINGS,
    AddPositionEmbedding,
    AddPositionEmbedding2D,
    NoPositionEmbedding,
)
from tests.harness import run_layer_test


def test_layer_contract(tmp_path):
    run_layer_test(AddPositionEmbedding, {"grid_size": (2, 3)}, (2, 7, 4), (2, 7, 4), tmp_path)


def test_2d_layer_contract(tmp_path):
    run_layer_test(AddPositionEmbedding2D, {"grid_size": (2, 3)}, (2, 7, 4), (2, 7, 4), tmp_path)
    run_layer_test(AddPositionEmbedding2D, {"grid_size": 2, "num_prefix_tokens": 0}, (2, 4, 6), (2, 4, 6), tmp_path)


def test_2d_embedding_of_a_patch_is_its_row_then_its_column_embedding():
    layer = AddPositionEmbedding2D(grid_size=(2, 3), num_prefix_tokens=1)
    out = keras.ops.convert_to_numpy(layer(np.zeros((2, 7, 8), "float32")))
    rows, columns, prefix = (
        keras.ops.convert_to_numpy(w) for w in (layer.row_embedding, layer.column_embedding, layer.prefix_embedding)
    )
    assert rows.shape == (2, 4) and columns.shape == (3, 4) and prefix.shape == (1, 8)
    np.testing.assert_array_equal(out[1, 0], prefix[0])
    for row in range(2):
        for col in range(3):
            np.testing.assert_array_equal(out[0, 1 + row * 3 + col], np.concatenate([rows[row], columns[col]]))
    np.testing.assert_array_equal(layer.table(), out[0])
    assert len(layer.weights) == 3
    without_prefix = AddPositionEmbedding2D(grid_size=2, num_prefix_tokens=0)
    without_prefix(np.zeros((1, 4, 4), "float32"))
    assert [w.name for w in without_prefix.weights] == ["row_embedding", "column_embedding"]


def test_2d_embedding_needs_an_even_width():
    with pytest.raises(ValueError, match="`hidden_dim` must be even. Received: hidden_dim=5"):
        AddPositionEmbedding2D(grid_size=2)(np.zeros((1, 5, 5), "float32"))


def test_2d_tables_resample_each_along_its_own_axis():
    layer = AddPositionEmbedding2D(grid_size=(4, 2))
    layer.build((None, 9, 4))
    ramp = np.stack([np.arange(2.0), np.arange(2.0)], axis=-1)   # (2, 2): a linear ramp
    np.testing.assert_allclose(layer.resample_weight("row_embedding", ramp)[:, 0], [0, 1 / 3, 2 / 3, 1], atol=1e-6)
    columns = np.arange(6.0).reshape(3, 2)
    np.testing.assert_allclose(layer.resample_weight("column_embedding", columns), [[0, 1], [4, 5]], atol=1e-6)
    with pytest.raises(ValueError, match="'prefix_embedding' of AddPositionEmbedding2D cannot be resampled"):
        layer.resample_weight("prefix_embedding", np.zeros((2, 4)))


def test_no_position_embedding_contract(tmp_path):
    run_layer_test(NoPositionEmbedding, {"grid_size": 2}, (2, 5, 4), (2, 5, 4), tmp_path)


def test_every_kind_takes_the_same_constructor():
    for kind in POSITION_EMBEDDINGS.values():
        layer = kind(grid_size=(2, 3), num_prefix_tokens=0)
        assert layer.get_config()["grid_size"] == [2, 3]


def test_embedding_shape_and_addition():
    layer = AddPositionEmbedding(grid_size=(2, 3), num_prefix_tokens=1)
    tokens = np.ones((2, 7, 4), "float32")
    out = keras.ops.convert_to_numpy(layer(tokens))
    assert tuple(layer.embedding.shape) == (1, 7, 4)
    np.testing.assert_allclose(out, tokens + keras.ops.convert_to_numpy(layer.embedding))


def test_set_embedding_resamples_another_grid():
    layer = AddPositionEmbedding(grid_size=(4, 4))
    layer.build((None, 17, 2))
    rows, cols = np.meshgrid(np.arange(2.0), np.arange(2.0), indexing="ij")
    grid = np.stack([rows, cols], axis=-1).reshape(1, 4, 2)
    source = np.concatenate([np.full((1, 1, 2), 7.0), grid], axis=1)
    layer.set_embedding(source)
    result = keras.ops.convert_to_numpy(layer.embedding)
    np.testing.assert_array_equal(result[0, 0], [7.0, 7.0])
    # A linear ramp stays a linear ramp, corners on corners.
    np.testing.assert_allclose(result[0, 1:, 0].reshape(4, 4)[:, 0], [0, 1 / 3, 2 / 3, 1], atol=1e-6)
    np.testing.assert_allclose(result[0, 1:, 1].reshape(4, 4)[0], [0, 1 / 3, 2 / 3, 1], atol=1e-6)


def test_wrong_token_count_names_the_grid():
    layer = AddPositionEmbedding(grid_size=(2, 2))
    with pytest.raises(ValueError, match=r"expects 5 tokens here \(1 prefix \+ 2x2 patches\)"):
        layer(np.zeros((1, 10, 4), "float32"))


@pytest.mark.parametrize("grid_size", [0, (2,), (2, -1), "2x2"])
def test_bad_grid_is_rejected(grid_size):
    with pytest.raises(ValueError, match="`grid_size` must be a positive int or a pair"):
        AddPositionEmbedding(grid_size=grid_size)


@pytest.mark.parametrize("kind", sorted(POSITION_EMBEDDINGS))
def test_negative_prefix_is_rejected(kind):
    with pytest.raises(ValueError, match="`num_prefix_tokens` must be a non-negative integer. Received: num_prefix_tokens=-1"):
        POSITION_EMBEDDINGS[kind](grid_size=2, num_prefix_tokens=-1)


@pytest.mark.parametrize("method", ["zoom", "bicubic"])
def test_a_layer_given_a_grid_resamples_to_it(method):
    from keras_vit.utils.resample import resample_axis_table, resample_position_embedding

    layer = AddPositionEmbedding(grid_size=(2, 3), resample_method=method)
    layer2d = AddPositionEmbedding2D(grid_size=(2, 3), resample_method=method)
    grid = np.zeros((1, 5, 2, 8), "float32")  # a patch embedding's output on a 5x2 grid
    tokens = np.zeros((1, 11, 8), "float32")
    out = keras.ops.convert_to_numpy(layer(tokens, grid))
    table = keras.ops.convert_to_numpy(layer.embedding)
    expected = resample_position_embedding(table, (5, 2), source_grid=(2, 3), method=method)
    np.testing.assert_allclose(out, expected, atol=1e-6, rtol=0)
    out = keras.ops.convert_to_numpy(layer2d(tokens, grid))[0, 1:].reshape(5, 2, 8)
    rows = resample_axis_table(keras.ops.convert_to_numpy(layer2d.row_embedding), 5, method)
    columns = resample_axis_table(keras.ops.convert_to_numpy(layer2d.column_embedding), 2, method)
    np.testing.assert_allclose(out[:, 0, :4], rows, atol=1e-6, rtol=0)
    np.testing.assert_allclose(out[0, :, 4:], columns, atol=1e-6, rtol=0)


def test_a_layer_checks_the_tokens_against_the_grid_it_is_given():
    layer = NoPositionEmbedding(grid_size=2, resample_method="bicubic", name="pos")
    with pytest.raises(ValueError, match=r"expects 7 tokens here \(1 prefix \+ 2x3 patches\)"):
        layer(np.zeros((1, 5, 4), "float32"), np.zeros((1, 2, 3, 4), "float32"))
    config = layer.get_config()
    assert "patch_stride" not in config and config["resample_method"] == "bicubic"
    assert NoPositionEmbedding.from_config(config).get_config() == config
