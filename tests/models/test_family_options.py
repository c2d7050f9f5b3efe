"""The ViT family's options of `ViTConfig`: what they build, and everything keras_vit
does for the paper's models done on them (saving, FLOPs, features, dynamic size,
quantization, LoRA). Parity with transformers and timm: tests/weights/test_family_*.py."""

import keras
import numpy as np
import pytest

import keras_vit
from keras_vit import training
from keras_vit.models import ViTConfig, count_flops, feature_maps, macs

SMALL = dict(image_size=28, patch_size=14, hidden_dim=16, num_layers=2, num_heads=2, mlp_dim=32, num_classes=5)
FAMILY = {
    "dinov2_registers_swiglu": dict(SMALL, num_registers=3, layer_scale_init=0.5, activation="swiglu",
                                    pixel_mean=(0.485, 0.456, 0.406), pixel_std=(0.229, 0.224, 0.225)),
    "siglip": dict(SMALL, pooling="map", class_token=False),
    "deit_distilled": dict(SMALL, distillation_token=True, activation="gelu"),
    "clip": dict(SMALL, pre_norm=True, patch_bias=False, activation="quick_gelu", projection_dim=6,
                 layer_norm_epsilon=1e-5, include_top=False),
}


def _randomized(model, seed=0):
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        variable.assign(rng.normal(0.0, 0.3, variable.shape).astype("float32"))
    return model


@pytest.fixture(scope="module")
def models():
    return {name: _randomized(keras_vit.ViT(**arguments)) for name, arguments in FAMILY.items()}


def _pixels(size=(28, 28), batch=2):
    return np.random.default_rng(1).uniform(0, 255, (batch, *size, 3)).astype("float32")


def _numpy(tensor):
    return np.asarray(keras.ops.convert_to_numpy(tensor))


def test_the_token_layout(models):
    config = models["dinov2_registers_swiglu"].vit_config
    assert (config.num_prefix_tokens, config.num_position_prefix_tokens, config.num_tokens) == (4, 1, 8)
    assert models["dinov2_registers_swiglu"].get_layer("pos_embedding").embedding.shape == (1, 5, 16)
    assert models["dinov2_registers_swiglu"].get_layer("encoderblock_0").mlp_fc1.kernel.shape == (16, 64)
    assert models["siglip"].vit_config.num_prefix_tokens == 0
    assert models["deit_distilled"].get_layer("pos_embedding").embedding.shape == (1, 6, 16)
    assert models["clip"].output_shape == (None, 6)


def test_deit_averages_its_two_heads(models):
    model = models["deit_distilled"]
    tokens = keras.Model(model.input, model.get_layer("encoder_norm").output)(_pixels())
    head, dist = model.get_layer("head"), model.get_layer("head_dist")
    expected = (_numpy(head(tokens[:, 0])) + _numpy(dist(tokens[:, 1]))) / 2
    np.testing.assert_allclose(_numpy(model(_pixels())), expected, atol=1e-5)
    features = keras_vit.ViT(**{**FAMILY["deit_distilled"], "include_top": False})
    features.set_weights([w for w, v in zip(model.get_weights(), model.weights) if not v.path.startswith("head")])
    np.testing.assert_allclose(_numpy(features(_pixels())), (_numpy(tokens[:, 0]) + _numpy(tokens[:, 1])) / 2,
                               atol=1e-5)


@pytest.mark.parametrize("name", sorted(FAMILY))
def test_saved_and_loaded_as_keras_files(name, models, tmp_path):
    model = models[name]
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    assert loaded.vit_config == model.vit_config
    np.testing.assert_allclose(_numpy(loaded(_pixels())), _numpy(model(_pixels())), atol=1e-6)


@pytest.mark.parametrize("name", sorted(FAMILY))
def test_flops_follow_the_formula(name, models):
    assert count_flops(models[name]) == 2 * macs(models[name].vit_config)


@pytest.mark.parametrize("name", sorted(FAMILY))
def test_features_in_one_pass_leave_the_prefix_tokens_out(name, models):
    model = models[name]
    outputs = feature_maps(model, blocks=(0, 1), stop_early=False)(_pixels())
    assert tuple(outputs["encoderblock_1"].shape) == (2, 2, 2, 16)
    np.testing.assert_allclose(_numpy(outputs["output"]), _numpy(model(_pixels())), atol=1e-5)


@pytest.mark.parametrize("name", ["dinov2_registers_swiglu", "siglip", "deit_distilled"])
def test_at_any_size_the_table_resizes_as_on_load(name, models):
    model = models[name]
    config = {**FAMILY[name], "resample_method": "bicubic_antialias"}
    dynamic = keras_vit.ViT(**config, dynamic_image_size=True)
    dynamic.set_weights(model.get_weights())
    np.testing.assert_allclose(_numpy(dynamic(_pixels())), _numpy(model(_pixels())), atol=1e-5)
    for size in ((42, 56), (14, 14)):
        fixed = keras_vit.ViT(**{**config, "image_size": size})
        keras_vit.weights.assign_weights(
            fixed, {v.path: _numpy(v) for v in model.weights}, resample_method="bicubic_antialias")
        np.testing.assert_allclose(_numpy(dynamic(_pixels(size))), _numpy(fixed(_pixels(size))), atol=1e-5)


@pytest.mark.parametrize("name", ["dinov2_registers_swiglu", "siglip", "deit_distilled"])
def test_quantized_int8_stays_close_and_saves(name, tmp_path):
    model = _randomized(keras_vit.ViT(**FAMILY[name]), seed=3)
    expected = _numpy(model(_pixels()))
    training.quantize(model, "int8")
    quantized = keras_vit.training.quantized_layers(model)
    assert "pooling/query" in quantized if name == "siglip" else "head" in quantized
    outputs = _numpy(model(_pixels()))
    assert np.abs(outputs - expected).max() < 0.1 * np.abs(expected).max()
    model.save(tmp_path / "int8.keras")
    np.testing.assert_allclose(_numpy(keras.saving.load_model(tmp_path / "int8.keras")(_pixels())), outputs,
                               atol=1e-5)


@pytest.mark.parametrize("name", ["dinov2_registers_swiglu", "siglip", "deit_distilled"])
def test_lora_adapts_the_blocks_and_trains_the_heads(name):
    model = _randomized(keras_vit.ViT(**FAMILY[name]), seed=4)
    expected = _numpy(model(_pixels()))
    training.enable_lora(model, rank=2)
    np.testing.assert_allclose(_numpy(model(_pixels())), expected, atol=1e-6)
    trainable = {v.path for v in model.trainable_weights}
    assert {"encoderblock_0/attn/query/lora_kernel_a", "head/kernel"} <= trainable
    assert ("head_dist/kernel" in trainable) == (name == "deit_distilled")
    assert not any(path.startswith(("encoderblock_0/ls1", "registers", "pooling/probe")) for path in trainable)


def test_legacy_configs_with_approximate_gelu_still_load():
    config = ViTConfig().get_config()
    del config["activation"]
    config["approximate_gelu"] = False
    assert ViTConfig.from_config(config).activation == "gelu"


@pytest.mark.backend_independent(reason="the config is validated before any layer is built")
@pytest.mark.parametrize(
    "arguments, message",
    [
        (dict(distillation_token=True, pooling="map"),
         r"`distillation_token=True` \(DeiT\) pairs a second head .* `pooling` must be 'token'. Received: pooling='map'"),
        (dict(num_registers=-1), r"`num_registers` must be an int >= 0, .*Received: num_registers=-1"),
        (dict(class_token=False), r"pooling='token' reads the class token: `class_token` must be True"),
        (dict(layer_scale_init=0), r"`layer_scale_init` must be None \(no LayerScale\) or a positive number"),
        (dict(activation="relu"), r"`activation` must be one of 'gelu_tanh', 'gelu', 'quick_gelu', 'swiglu'"),
        (dict(projection_dim=8, representation_size=8), r"`projection_dim` .* and `representation_size`"),
        (dict(pixel_mean=(0.5, 0.5)), r"`pixel_mean` must be None or 3 numbers, one per input channel"),
        (dict(pixel_std=(0.5, 0.0, 0.5)), r"`pixel_std` must be positive on every channel"),
        (dict(num_registers=2, position_embedding_placement="every_layer"),
         r"`position_embedding_placement` must be 'stem' with `num_registers`"),
        (dict(image_size=30), r"`image_size` height must be divisible by patch_size=14. Received: image_size=\(30, 30\)"),
    ],
)
def test_family_options_a_layout_cannot_use_are_refused_before_building(arguments, message):
    with pytest.raises(ValueError, match=message):
        ViTConfig(**{**SMALL, **arguments})
