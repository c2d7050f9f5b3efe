"""Every position-embedding kind and placement of the paper's Appendix D.4, in whole models."""

import pathlib
import re

import keras
import numpy as np
import pytest

import keras_vit
from keras_vit.layers import names
from keras_vit.utils.resample import (
    resample_axis_table,
    resample_position_embedding,
    resample_relative_embedding,
)

# The eight valid cells of the paper's table: none and relative only "stem".
CELLS = [
    ("none", "stem"),
    ("learned_1d", "stem"),
    ("learned_1d", "every_layer"),
    ("learned_1d", "every_layer_shared"),
    ("learned_2d", "stem"),
    ("learned_2d", "every_layer"),
    ("learned_2d", "every_layer_shared"),
    ("relative", "stem"),
]
TINY = dict(patch_size=8, hidden_dim=16, num_layers=3, num_heads=2, mlp_dim=24, num_classes=5)


def _tiny(kind, placement, image_size=(16, 24), **kwargs):
    return keras_vit.ViT(image_size=image_size, position_embedding=kind,
                         position_embedding_placement=placement, **{**TINY, **kwargs})


def _randomize(model, seed=0):
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        variable.assign(rng.normal(scale=0.3, size=variable.shape).astype("float32"))
    return model


def _images(model, batch=2, seed=1):
    shape = (batch, *model.input_shape[1:])
    return np.random.default_rng(seed).uniform(0, 255, size=shape).astype("float32")


# ViT-B/16 at 224 with 1000 classes and token pooling.
B16_COUNTS = dict(zip(CELLS, [86_416_360, 86_567_656, 88_231_912, 86_567_656,
                              86_427_880, 86_554_600, 86_427_880, 90_038_248]))


def test_vit_b16_parameter_counts_of_every_cell():
    for (kind, placement), count in B16_COUNTS.items():
        # Counted without drawing 86M random numbers a model: in a StatelessScope
        # Keras defers initializing variables to the scope's exit, and a session
        # cleared before it leaves none to initialize.
        with keras.StatelessScope():
            model = keras_vit.ViTB16(position_embedding=kind, position_embedding_placement=placement)
            assert model.count_params() == count, (kind, placement)
            keras.backend.clear_session(free_memory=False)


def test_the_readme_table_shows_these_counts():
    readme = (pathlib.Path(keras_vit.__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    placements = ("stem", "every_layer", "every_layer_shared")
    shown = {}
    for line in readme.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        kind = re.fullmatch(r'`"(\w+)"`( \(default\))?', cells[0])
        if kind and len(cells) == 5:
            for placement, cell in zip(placements, cells[2:]):
                if cell != "N/A":
                    shown[kind.group(1), placement] = int(cell.replace(",", ""))
    assert shown == B16_COUNTS


def _position_parameters(kind, placement, grid, prefix, dim, layers):
    """The formula: 1D `T * D`, 2D `(rows + cols) * D / 2 + prefix * D`, relative
    `(2T - 1) * D` per block; `"every_layer"` has one table per block."""
    tokens = prefix + grid[0] * grid[1]
    one = {"none": 0, "learned_1d": tokens * dim, "learned_2d": (grid[0] + grid[1]) * dim // 2 + prefix * dim,
           "relative": layers * (2 * tokens - 1) * dim}[kind]
    return one * layers if placement == "every_layer" else one


@pytest.mark.parametrize("pooling, prefix", [("token", 1), ("gap", 0)])
def test_parameter_counts_follow_the_formula(pooling, prefix):
    base = _tiny("none", "stem", image_size=(24, 40), pooling=pooling).count_params()
    for kind, placement in CELLS:
        model = _tiny(kind, placement, image_size=(24, 40), pooling=pooling)
        extra = _position_parameters(kind, placement, (3, 5), prefix, 16, 3)
        assert model.count_params() == base + extra, (kind, placement)


def test_every_layer_shared_adds_one_variable_before_every_block():
    model = _randomize(_tiny("learned_1d", "every_layer_shared"))
    shared = model.get_layer(names.SHARED_POSITION_EMBEDDING)
    assert [v.path for v in model.weights if "pos_embedding" in v.path] == ["pos_embedding_shared/embedding"]
    # One layer, called before each of the three blocks.
    assert _inputs_of(model, names.SHARED_POSITION_EMBEDDING) == [
        ["pos_dropout", 0], ["encoderblock_0", 0], ["encoderblock_1", 0]
    ]
    for index in range(3):
        assert _inputs_of(model, names.block(index)) == [[names.SHARED_POSITION_EMBEDDING, index]]
    # Zeroing the one table changes what every block sees.
    images = _images(model)
    before = model.predict(images, verbose=0)
    shared.embedding.assign(np.zeros(shared.embedding.shape, "float32"))
    assert np.abs(model.predict(images, verbose=0) - before).max() > 1e-3


def _inputs_of(model, name):
    """`[layer, node]` of the input of each call of layer `name`, from the model's config."""
    layer = next(entry for entry in model.get_config()["layers"] if entry["name"] == name)
    return [list(node["args"][0]["config"]["keras_history"][:2]) for node in layer["inbound_nodes"]]


def test_every_layer_adds_a_separate_table_before_every_block():
    model = _tiny("learned_2d", "every_layer")
    layers = [model.get_layer(names.position_embedding(index)) for index in range(3)]
    assert len({id(layer.row_embedding) for layer in layers}) == 3
    for index in range(3):
        assert _inputs_of(model, names.block(index)) == [[names.position_embedding(index), 0]]
    # The layer after the stem only records the grid.
    assert model.get_layer(names.POSITION_EMBEDDING).weights == []


def test_relative_attention_has_one_table_per_block_and_nothing_at_the_stem():
    model = _tiny("relative", "stem")
    paths = [v.path for v in model.weights if "relative" in v.path or "pos_embedding" in v.path]
    assert paths == [f"encoderblock_{i}/attn/relative_embedding" for i in range(3)]
    assert tuple(model.get_layer(names.block(0)).attn.relative_embedding.shape) == (2 * 7 - 1, 2, 8)


@pytest.mark.parametrize("kind, placement", CELLS)
def test_every_cell_saves_and_loads_with_the_same_outputs(kind, placement, tmp_path):
    model = _randomize(_tiny(kind, placement))
    path = str(tmp_path / "model.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    images = _images(model)
    np.testing.assert_array_equal(loaded.predict(images, verbose=0), model.predict(images, verbose=0))
    assert [v.path for v in loaded.weights] == [v.path for v in model.weights]


@pytest.mark.parametrize("kind, placement", [("learned_2d", "every_layer"), ("relative", "stem")])
def test_mixed_precision_stays_close_to_float32(kind, placement):
    reference = _randomize(_tiny(kind, placement), seed=2)
    images = _images(reference)
    expected = reference.predict(images, verbose=0)
    for policy, tolerance in [("mixed_bfloat16", 0.15), ("mixed_float16", 0.02)]:
        keras.config.set_dtype_policy(policy)
        try:
            model = _tiny(kind, placement)
        finally:
            keras.config.set_dtype_policy("float32")
        model.set_weights(reference.get_weights())
        outputs = model.predict(images, verbose=0)
        assert outputs.dtype == np.float32
        np.testing.assert_allclose(outputs, expected, atol=tolerance * np.abs(expected).max())


def _weights(model, path):
    return keras.ops.convert_to_numpy(next(v for v in model.weights if v.path == path).value)


@pytest.mark.parametrize("kind, placement", [
    ("learned_1d", "every_layer"), ("learned_2d", "stem"), ("learned_2d", "every_layer_shared"), ("relative", "stem"),
])
def test_weights_of_another_resolution_are_resampled_on_load(kind, placement, tmp_path):
    # Trained at 16x16 (a 2x2 grid), loaded at 32x40 (4x5).
    source = _randomize(_tiny(kind, placement, image_size=16))
    path = str(tmp_path / "small.weights.h5")
    source.save_weights(path)
    model = _tiny(kind, placement, image_size=(32, 40), weights=path)
    for variable in model.weights:
        trained = _weights(source, variable.path)
        name = variable.path.rsplit("/", 1)[-1]
        if name == "embedding":
            expected = resample_position_embedding(trained, (4, 5))
        elif name in ("row_embedding", "column_embedding"):
            expected = resample_axis_table(trained, 4 if name == "row_embedding" else 5)
        elif name == "relative_embedding":
            expected = resample_relative_embedding(trained, 21)  # 1 + 2 x 2 tokens to 1 + 4 x 5
        else:
            expected = trained
        np.testing.assert_allclose(keras.ops.convert_to_numpy(variable.value), expected, atol=1e-6,
                                   err_msg=variable.path)
    assert np.isfinite(model.predict(_images(model), verbose=0)).all()


def test_a_table_that_cannot_be_resampled_names_the_file_and_why(tmp_path):
    # A 1D table of a 2x3 grid does not record its grid: 6 patch rows form no square.
    path = str(tmp_path / "wide.weights.h5")
    _tiny("learned_1d", "stem").save_weights(path)
    with pytest.raises(ValueError, match=r"'pos_embedding/embedding': .*wide.weights.h5 has \(1, 7, 16\), the model "
                                         r"expects \(1, 21, 16\), and it cannot be resampled: .*no square grid"):
        _tiny("learned_1d", "stem", image_size=(32, 40), weights=path)


def test_a_checkpoint_of_another_kind_is_refused_by_name(tmp_path):
    path = str(tmp_path / "one_d.weights.h5")
    _tiny("learned_1d", "stem").save_weights(path)
    with pytest.raises(ValueError, match="pos_embedding/row_embedding"):
        _tiny("learned_2d", "stem", weights=path)


@pytest.mark.parametrize("kind, placement", [("learned_2d", "every_layer"), ("relative", "stem")])
def test_hybrids_take_every_kind(kind, placement):
    model = keras_vit.ViTHybrid(resnet_layers=(1,), resnet_width=0.5, patch_size=1, image_size=16,
                                hidden_dim=16, num_layers=2, num_heads=2, mlp_dim=24, num_classes=3,
                                position_embedding=kind, position_embedding_placement=placement)
    grid = model.get_layer(names.POSITION_EMBEDDING).grid_size
    assert grid == (4, 4)
    assert model.predict(np.zeros((1, 16, 16, 3), "float32"), verbose=0).shape == (1, 3)
