import numpy as np
import pytest

import keras
from keras_vit import inspect
from keras_vit.layers import names
from tests.inspect.tiny import images, randomize, tiny_model


def _one_hot_rows_and_columns(rows, cols, dim):
    """Patch (r, c) gets one-hot(r) next to one-hot(c): cosine similarity = ([r = r'] + [c = c']) / 2."""
    embedding = np.zeros((rows * cols, dim), "float32")
    for index in range(rows * cols):
        embedding[index, index // cols] = 1.0
        embedding[index, rows + index % cols] = 1.0
    return embedding


def test_a_row_and_column_pattern_shows_its_structure():
    r, c, r2, c2 = np.indices((3, 4, 3, 4))
    for pooling, prefix_tokens in [("token", 1), ("gap", 0)]:
        model = tiny_model(image_size=(24, 32), pooling=pooling)   # a 3 x 4 grid
        prefix = np.full((prefix_tokens, 32), 5.0, "float32")
        patches = _one_hot_rows_and_columns(3, 4, 32)
        model.get_layer("pos_embedding").embedding.assign(np.concatenate([prefix, patches])[None])
        similarity = inspect.position_embedding_similarity(model)
        np.testing.assert_allclose(similarity, ((r == r2) * 1.0 + (c == c2)) / 2, atol=1e-6)


def test_a_sin_cos_pattern_is_most_similar_nearby():
    rows, cols = 5, 6
    frequencies = 1.0 / 4.0 ** np.arange(4)
    r, c = np.indices((rows, cols)).reshape(2, -1, 1)
    embedding = np.concatenate(
        [np.sin(r * frequencies), np.cos(r * frequencies), np.sin(c * frequencies), np.cos(c * frequencies)], axis=1
    )
    similarity = inspect.cosine_similarity_grid(embedding, (rows, cols))
    for row in range(rows):
        for col in range(cols):
            small_map = similarity[row, col]
            assert np.unravel_index(small_map.argmax(), small_map.shape) == (row, col)
            same_line = np.zeros((rows, cols), bool)
            same_line[row, :] = same_line[:, col] = True
            assert small_map[same_line].mean() > small_map[~same_line].mean()
    # The pattern depends only on the offset between two patches, and so does its similarity.
    np.testing.assert_allclose(similarity[0, 0, :-1, :-1], similarity[1, 1, 1:, 1:], atol=1e-6)


def test_models_without_a_learned_embedding_are_refused():
    for kind in ("none", "relative"):
        with pytest.raises(ValueError, match="no learned position embedding.*'none' or 'relative'.*learned_1d"):
            inspect.position_embedding_similarity(tiny_model(position_embedding=kind))
    mlp = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)], name="mlp")
    with pytest.raises(ValueError, match="must be built by keras_vit.*model.name='mlp'"):
        inspect.position_embedding_similarity(mlp)
    with pytest.raises(ValueError, match=r"\(12, dim\).*embedding.shape=\(11, 8\)"):
        inspect.cosine_similarity_grid(np.ones((11, 8)), (3, 4))


def test_the_2d_embedding_is_composed_before_it_is_compared():
    # One-hot rows in the row half and one-hot columns in the column half give
    # the same similarity as the 1D pattern above: (r = r') / 2 + (c = c') / 2.
    r, c, r2, c2 = np.indices((3, 4, 3, 4))
    for placement, name in [("stem", names.POSITION_EMBEDDING), ("every_layer", names.position_embedding(1))]:
        model = tiny_model(image_size=(24, 32), position_embedding="learned_2d", position_embedding_placement=placement)
        layer = model.get_layer(name)
        layer.row_embedding.assign(np.eye(3, 16, dtype="float32"))
        layer.column_embedding.assign(np.eye(4, 16, dtype="float32"))
        similarity = inspect.position_embedding_similarity(model, block=1)
        np.testing.assert_allclose(similarity, ((r == r2) * 1.0 + (c == c2)) / 2, atol=1e-6)


def test_relative_bias_is_averaged_per_offset():
    model = randomize(tiny_model(position_embedding="relative"))   # 1 + 4 x 4 tokens
    attention = model.get_layer(names.block(1)).attn
    table = np.zeros(attention.relative_embedding.shape, "float32")
    table[attention.relative_position_tokens - 1 + 2] = 1.0   # only offset +2 has an embedding
    attention.relative_embedding.assign(table)
    offsets, bias = inspect.relative_position_bias(model, images(model), block=1)
    assert offsets.tolist() == list(range(-16, 17)) and bias.shape == (2, 33)
    assert np.all(bias[:, offsets != 2] == 0)
    # Offset +2 pairs query i with key i - 2: its bias is q_i . 1 / sqrt(head_dim),
    # averaged over the images and the queries i = 2 ... 16.
    block = model.get_layer(names.block(1))
    inputs = keras.Model(model.input, block.input).predict(images(model), verbose=0)
    query = keras.ops.convert_to_numpy(attention.query(block.norm1(inputs)))
    expected = query[:, 2:].sum(axis=-1).mean(axis=(0, 1)) / np.sqrt(16)
    np.testing.assert_allclose(bias[:, offsets == 2][:, 0], expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r"`block` must be an int in \[0, 1\]. Received: block=2"):
        inspect.relative_position_bias(model, images(model), block=2)
    with pytest.raises(ValueError, match="no relative position embeddings"):
        inspect.relative_position_bias(tiny_model(), images(model))
