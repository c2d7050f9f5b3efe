"""The ViT family from transformers folders: every model type against transformers itself.

Each case is a tiny random model with every weight perturbed (so that a
LayerScale, register, bias or token loaded wrong shows), saved by
transformers' own `save_pretrained`, loaded by `keras_vit.from_checkpoint`
and compared on the same pixels with transformers' output, to 1e-4 of its scale.
"""

import json
import logging
import shutil

import keras
import numpy as np
import pytest
import torch
import transformers

import keras_vit

SMALL = dict(hidden_size=16, num_hidden_layers=2, num_attention_heads=2, image_size=12, patch_size=4)
# case: (config, model class, what the comparison reads, from_checkpoint arguments)
CASES = {
    "deit_distilled": (lambda: transformers.DeiTConfig(intermediate_size=32, num_labels=3, **SMALL),
                       transformers.DeiTForImageClassificationWithTeacher, "logits", {}),
    "dinov2": (lambda: transformers.Dinov2Config(mlp_ratio=2, **SMALL), transformers.Dinov2Model,
               "pooler_output", {}),
    "dinov2_swiglu": (lambda: transformers.Dinov2Config(mlp_ratio=2, use_swiglu_ffn=True, **SMALL),
                      transformers.Dinov2Model, "pooler_output", {}),
    "dinov2_with_registers": (
        lambda: transformers.Dinov2WithRegistersConfig(mlp_ratio=2, num_register_tokens=3, **SMALL),
        transformers.Dinov2WithRegistersModel, "pooler_output", {}),
    "siglip_vision_model": (lambda: transformers.SiglipVisionConfig(intermediate_size=32, **SMALL),
                            transformers.SiglipVisionModel, "pooler_output", {}),
    "clip_vision_model": (lambda: transformers.CLIPVisionConfig(intermediate_size=32, projection_dim=8, **SMALL),
                          transformers.CLIPVisionModelWithProjection, "image_embeds", {"projection": True}),
}


def _perturbed(model, seed=0):
    torch.manual_seed(seed)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.3)
    return model.eval()


def _pixels(size=(12, 12), batch=2, seed=0):
    return np.random.default_rng(seed).normal(size=(batch, *size, 3)).astype("float32")


def _original(model, pixels, output):
    with torch.no_grad():
        return getattr(model(pixel_values=torch.from_numpy(pixels.transpose(0, 3, 1, 2))), output).numpy()


def _assert_close(actual, expected):
    actual = keras.ops.convert_to_numpy(actual)
    assert actual.shape == expected.shape
    assert np.abs(actual - expected).max() <= 1e-4 * np.abs(expected).max()


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """Each case's transformers model and its folder, made once per file."""
    made = {}

    def make(case, **save):
        if case not in made:
            config, model_class, _, _ = CASES[case]
            model = _perturbed(model_class(config()))
            folder = tmp_path_factory.mktemp(case)
            model.save_pretrained(folder, **save)
            made[case] = model, str(folder)
        return made[case]

    return make


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_model_type_equals_transformers(case, saved):
    original, folder = saved(case)
    _, _, output, arguments = CASES[case]
    model = keras_vit.from_checkpoint(folder, include_preprocessing=False, **arguments)
    pixels = _pixels()
    _assert_close(model(pixels), _original(original, pixels, output))


@pytest.mark.parametrize("case, method", [("dinov2", "bicubic"), ("dinov2_with_registers", "bicubic_antialias")])
def test_dinov2_at_another_size_interpolates_as_transformers(case, method, saved):
    original, folder = saved(case)
    model = keras_vit.from_checkpoint(folder, include_preprocessing=False, dynamic_image_size=True)
    assert model.vit_config.resample_method == method
    for size in ((16, 20), (8, 8)):  # up and down from the 3x3 grid it was trained on
        pixels = _pixels(size)
        _assert_close(model(pixels), _original(original, pixels, "pooler_output"))
    fixed = keras_vit.from_checkpoint(folder, include_preprocessing=False, image_size=(16, 20))
    pixels = _pixels((16, 20))
    _assert_close(fixed(pixels), _original(original, pixels, "pooler_output"))


def test_the_family_preprocessing_takes_pixels_in_0_255(saved):
    original, folder = saved("clip_vision_model")
    model = keras_vit.from_checkpoint(folder, projection=True)
    config = model.vit_config
    assert config.pixel_mean == pytest.approx(keras_vit.preprocessing.CLIP_MEAN)
    pixels = np.random.default_rng(1).uniform(0, 255, (2, 12, 12, 3)).astype("float32")
    scaled = ((pixels / 255 - np.array(config.pixel_mean)) / np.array(config.pixel_std)).astype("float32")
    _assert_close(model(pixels), _original(original, scaled, "image_embeds"))


def test_a_preprocessor_config_beside_the_weights_gives_mean_and_std(saved, tmp_path):
    _, folder = saved("dinov2")
    local = tmp_path / "dinov2"
    shutil.copytree(folder, local)
    (local / "preprocessor_config.json").write_text(json.dumps({"image_mean": [0.1, 0.2, 0.3],
                                                                "image_std": [0.4, 0.5, 0.6]}))
    config = keras_vit.from_checkpoint(str(local)).vit_config
    assert (config.pixel_mean, config.pixel_std) == ((0.1, 0.2, 0.3), (0.4, 0.5, 0.6))
    assert keras_vit.from_checkpoint(folder).vit_config.pixel_mean == keras_vit.preprocessing.IMAGENET_MEAN


@pytest.mark.parametrize("full", ["siglip", "clip"])
def test_the_image_tower_of_a_full_checkpoint_loads_and_its_text_tower_is_reported(full, tmp_path, caplog):
    if full == "siglip":
        config = transformers.SiglipConfig(
            vision_config=dict(intermediate_size=32, **SMALL),
            text_config=dict(hidden_size=8, intermediate_size=16, num_hidden_layers=1, num_attention_heads=2,
                             vocab_size=20, max_position_embeddings=6),
        )
        original = _perturbed(transformers.SiglipModel(config))
    else:
        config = transformers.CLIPConfig(
            vision_config=dict(intermediate_size=32, **SMALL), projection_dim=8,
            text_config=dict(hidden_size=8, intermediate_size=16, num_hidden_layers=1, num_attention_heads=2,
                             vocab_size=20, max_position_embeddings=6),
        )
        original = _perturbed(transformers.CLIPModel(config))
    original.save_pretrained(tmp_path)
    with caplog.at_level(logging.INFO, logger="keras_vit"):
        model = keras_vit.from_checkpoint(str(tmp_path), include_preprocessing=False)
    assert "skipped the text tower: " in caplog.text and "text_model.*" in caplog.text
    pixels = _pixels()
    with torch.no_grad():
        vision = original.vision_model(pixel_values=torch.from_numpy(pixels.transpose(0, 3, 1, 2)))
    _assert_close(model(pixels), vision.pooler_output.numpy())
    if full == "clip":
        assert "projection" not in [layer.name for layer in model.layers]
        projected = keras_vit.from_checkpoint(str(tmp_path), include_preprocessing=False, projection=True)
        with torch.no_grad():
            expected = original.get_image_features(pixel_values=torch.from_numpy(pixels.transpose(0, 3, 1, 2)))
        expected = getattr(expected, "pooler_output", expected)
        _assert_close(projected(pixels), expected.numpy())


def test_sharded_weights_load(tmp_path):
    config, model_class, output, _ = CASES["dinov2"]
    original = _perturbed(model_class(config()))
    original.save_pretrained(tmp_path, max_shard_size="8KB")
    assert (tmp_path / "model.safetensors.index.json").exists()
    model = keras_vit.from_checkpoint(str(tmp_path), include_preprocessing=False)
    pixels = _pixels()
    _assert_close(model(pixels), _original(original, pixels, output))


@pytest.mark.backend_independent(reason="refused while reading the files, before any model is built")
def test_an_unsupported_model_type_names_the_supported_ones(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "swin"}))
    (tmp_path / "model.safetensors").write_bytes(b"")
    with pytest.raises(ValueError, match=r"describes a 'swin' model. keras_vit reads the transformers model types "
                                         r"'vit', 'deit', 'dinov2', 'dinov2_with_registers', 'siglip_vision_model', "
                                         r"'clip_vision_model', 'siglip', 'clip'"):
        keras_vit.weights.read_checkpoint(str(tmp_path))


@pytest.mark.backend_independent(reason="refused while reading the files, before any model is built")
def test_a_config_that_contradicts_its_weights_names_the_shape(saved, tmp_path):
    _, folder = saved("dinov2_with_registers")
    with open(f"{folder}/config.json") as file:
        config = json.load(file)
    (tmp_path / "config.json").write_text(json.dumps({**config, "num_register_tokens": 4}))
    shutil.copy(f"{folder}/model.safetensors", tmp_path)
    with pytest.raises(ValueError, match=r"config.json says num_registers=4, but the weights hold num_registers=3 "
                                         r"\(the register tokens' shape\)"):
        keras_vit.weights.read_checkpoint(str(tmp_path))


@pytest.mark.backend_independent(reason="refused while reading the files, before any model is built")
def test_a_classification_head_keras_vit_does_not_build_is_refused(tmp_path):
    config = transformers.Dinov2Config(mlp_ratio=2, num_labels=3, **SMALL)
    transformers.Dinov2ForImageClassification(config).save_pretrained(tmp_path)
    with pytest.raises(ValueError, match=r"ends in Dinov2ForImageClassification's linear head on the class token "
                                         r"and the mean patch token \('classifier.weight'\)"):
        keras_vit.weights.read_checkpoint(str(tmp_path))


@pytest.mark.backend_independent(reason="refused while reading the file, before any model is built")
def test_a_bare_family_state_dict_without_its_config_is_refused(saved, tmp_path):
    _, folder = saved("dinov2_with_registers")
    shutil.copy(f"{folder}/model.safetensors", tmp_path / "weights.safetensors")
    with pytest.raises(ValueError, match=r"holds register tokens \(DINOv2\), LayerScale \(DINOv2\): the weights of a "
                                         r"transformers DeiT, DINOv2, SigLIP or CLIP model, whose activation"):
        keras_vit.weights.read_checkpoint(str(tmp_path / "weights.safetensors"), num_heads=2)
