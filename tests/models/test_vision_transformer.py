"""Every builder returns a `VisionTransformer` that keeps its `ViTConfig` through `.keras`
files; keras_vit refuses a file without one, and models it did not build, in one line."""

import keras
import numpy as np
import pytest

import keras_vit
from keras_vit.models import VisionTransformer, ViTConfig, config_of, feature_maps, intermediates
from tests.weights.original import original_arrays

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


def _save_as_functional(model, path):
    """`model`'s graph saved as a plain functional model, as keras_vit saved before
    `VisionTransformer` kept the config."""
    keras.Model(model.input, model.output, name=model.name).save(path)


def test_a_file_without_a_vit_config_is_refused_in_one_line(tmp_path):
    _save_as_functional(keras_vit.ViT(**TINY), tmp_path / "old.keras")
    with pytest.raises(ValueError, match=r"old.keras was saved by a keras_vit from before models kept their "
                                         r"config, which this version no longer reads: rebuild the model"):
        keras_vit.models.build_model(str(tmp_path / "old.keras"))
    keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)], name="mlp").save(tmp_path / "mlp.keras")
    with pytest.raises(ValueError, match=r"mlp.keras holds a Sequential, not a keras_vit VisionTransformer"):
        keras_vit.models.build_model(str(tmp_path / "mlp.keras"))
    (tmp_path / "text.keras").write_text("not a zip")
    with pytest.raises(ValueError, match=r"text.keras is not a .keras file Keras wrote"):
        keras_vit.models.build_model(str(tmp_path / "text.keras"))


def test_the_views_of_the_graph_need_a_vision_transformer():
    functional = keras_vit.ViT(**TINY)
    functional = keras.Model(functional.input, functional.output, name="plain")
    for view in (intermediates, feature_maps):
        with pytest.raises(ValueError, match=r"must be built by keras_vit .*model.name='plain' of type Functional"):
            view(functional)
