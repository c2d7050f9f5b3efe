"""Every builder returns a `VisionTransformer` that keeps its `ViTConfig` through `.keras`
files, and `.keras` files written before that still load, run and report their config."""

import pathlib

import keras
import numpy as np
import pytest

import keras_vit
from keras_vit.inspect import token_grid
from keras_vit.models import VisionTransformer, ViTConfig, config_of, feature_maps, intermediates
from tests.weights.original import original_arrays

LEGACY = pathlib.Path(__file__).parent / "legacy"
# The stored outputs were computed on another CPU: float32 sums in another order (SIMD
# width, FMA) move these outputs of about 1 by up to 2e-5 (AMX against AVX2).
STORED_ATOL = 1e-4
TINY = dict(image_size=32, patch_size=8, hidden_dim=16, num_layers=2, num_heads=2, mlp_dim=32, num_classes=3)


def _hybrid(**kwargs):
    return keras_vit.ViTHybrid(
        resnet_layers=(1,), resnet_width=0.5, patch_size=2, image_size=32, hidden_dim=16, num_layers=1,
        num_heads=2, mlp_dim=32, num_classes=4, **kwargs,
    )


def _checkpoint(tmp_path):
    path = tmp_path / "ViT-tiny.npz"
    np.savez(path, **original_arrays())
    return str(path)


@pytest.mark.parametrize(
    "build",
    [
        lambda tmp: keras_vit.ViT(**TINY),
        lambda tmp: keras_vit.ViT(**TINY, position_embedding="learned_2d", position_embedding_placement="every_layer"),
        lambda tmp: _hybrid(pooling="gap", dynamic_image_size=True),
        lambda tmp: keras_vit.ViTTi16(image_size=32, num_classes=2),
        lambda tmp: keras_vit.models.build_model("vittI16", image_size=32, num_classes=2),
        lambda tmp: keras_vit.from_checkpoint(_checkpoint(tmp)),
    ],
    ids=["vit", "vit-2d-every-layer", "hybrid-dynamic", "named", "by-name", "from-checkpoint"],
)
def test_every_builder_returns_a_vision_transformer_that_keeps_its_config(build, tmp_path):
    model = build(tmp_path)
    assert isinstance(model, VisionTransformer)
    config = model.vit_config
    assert isinstance(config, ViTConfig)
    assert (model.grid_size, model.patch_stride, model.num_prefix_tokens) == (
        config.grid_size, config.patch_stride, config.num_prefix_tokens,
    )
    assert model.dynamic_image_size == config.dynamic_image_size
    assert model.is_hybrid == (config.resnet_layers is not None)
    # The config describes the graph that was built, not only the arguments.
    assert model.get_layer("embedding").hidden_dim == config.hidden_dim
    assert len([layer for layer in model.layers if layer.name.startswith("encoderblock_")]) == config.num_layers
    assert model.count_params() == keras_vit.models.build_vit(config).count_params()


@pytest.mark.parametrize("dynamic", [False, True])
def test_vit_config_round_trips_through_a_keras_file(dynamic, tmp_path):
    model = keras_vit.ViT(**TINY, pooling="gap", representation_size=8, dynamic_image_size=dynamic)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(loaded, VisionTransformer)
    assert loaded.vit_config == model.vit_config
    images = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(loaded(images)), keras.ops.convert_to_numpy(model(images)), atol=1e-6
    )


def test_a_config_from_another_version_is_refused_by_field():
    config = ViTConfig().get_config()
    with pytest.raises(ValueError, match="no fields patch_count"):
        ViTConfig.from_config({**config, "patch_count": 3})
    with pytest.raises(TypeError, match="`vit_config` must be"):
        VisionTransformer(keras.Input((4,)), keras.layers.Dense(2)(keras.Input((4,))))


def test_config_of_refuses_a_model_keras_vit_did_not_build():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)], name="mlp")
    with pytest.raises(ValueError, match="must be built by keras_vit.*model.name='mlp'"):
        config_of(model)


LEGACY_CONFIGS = {
    "legacy_vit": ViTConfig(**TINY, representation_size=8),
    "legacy_hybrid": ViTConfig(
        resnet_layers=(1,), resnet_width=0.5, patch_size=2, image_size=32, hidden_dim=16, num_layers=1,
        num_heads=2, mlp_dim=32, num_classes=4, pooling="gap", position_embedding="learned_2d",
        dynamic_image_size=True,
    ),
}


@pytest.mark.parametrize("name", sorted(LEGACY_CONFIGS))
def test_keras_files_written_before_models_kept_their_config_load_and_run(name):
    """The files were saved by the JAX backend before `VisionTransformer` existed: a
    plain functional model, whose config keras_vit reads back from its layers."""
    expected = np.load(LEGACY / "outputs.npz")
    model = keras.saving.load_model(LEGACY / f"{name}.keras", safe_mode=True)
    assert not isinstance(model, VisionTransformer)
    config = config_of(model)
    assert config == LEGACY_CONFIGS[name]
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(expected["images"])), expected[name], atol=STORED_ATOL)
    if config.dynamic_image_size:
        wide = keras.ops.convert_to_numpy(model(expected["wide"]))
        np.testing.assert_allclose(wide, expected[f"{name}_wide"], atol=STORED_ATOL)
        assert token_grid(model, (32, 48)).grid_size == (4, 6)  # 8 pixels a token
    # What reads the config works on them as on a new model.
    encoded = intermediates(model)(expected["images"])["output"]
    np.testing.assert_allclose(keras.ops.convert_to_numpy(encoded), expected[name], atol=STORED_ATOL)
    (tokens,) = feature_maps(model)(expected["images"]).values()
    assert tuple(tokens.shape) == (2, *config.grid_size, config.hidden_dim)
    # keras_vit's own loader hands out the same layers as a VisionTransformer.
    wrapped = keras_vit.models.build_model(str(LEGACY / f"{name}.keras"))
    assert isinstance(wrapped, VisionTransformer) and wrapped.vit_config == config
    np.testing.assert_allclose(keras.ops.convert_to_numpy(wrapped(expected["images"])), expected[name], atol=STORED_ATOL)


def test_a_dynamic_file_whose_position_layers_read_the_images_loads_and_runs():
    """Saved by the JAX backend at 9315000 (`legacy/make_images_grid_file.py`): a
    `VisionTransformer` whose position layers, one before every block, read each
    call's grid off the input images rather than off the patch embedding."""
    stored = np.load(LEGACY / "images_grid_outputs.npz")
    model = keras.saving.load_model(LEGACY / "images_grid_vit.keras", safe_mode=True)
    assert isinstance(model, VisionTransformer)
    assert model.dynamic_image_size and model.position_embedding_placement == "every_layer"
    for images, outputs in (("images", "outputs"), ("wide", "wide_outputs")):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(model(stored[images])), stored[outputs], atol=STORED_ATOL)
        encoded = intermediates(model)(stored[images])["output"]
        np.testing.assert_allclose(keras.ops.convert_to_numpy(encoded), stored[outputs], atol=STORED_ATOL)
    maps = feature_maps(model, blocks=2)(stored["wide"])
    assert [tuple(m.shape) for m in maps.values()] == [(2, 4, 6, 16)] * 2
    with pytest.raises(ValueError, match=r"Image width 36 is not divisible by 8"):
        model(np.zeros((1, 32, 36, 3), "float32"))
