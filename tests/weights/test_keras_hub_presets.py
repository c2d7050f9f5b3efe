"""keras-hub ViT, DeiT, DINOv2, SigLIP and CLIP presets read by keras_vit, against keras-hub's own models.

Each preset is a tiny keras-hub model with every weight perturbed (so that a
weight loaded into the wrong place shows), saved by keras-hub's own
`save_to_preset`, loaded by `keras_vit.from_checkpoint` and compared on the
same pixels with keras-hub's output: the classifier's logits (keras-hub's
image converter in front of its task model, keras_vit's preprocessing layer
in front of its own), the backbones' sequences, and the image towers' outputs.
"""

import json
import os
import shutil

import keras
import keras_hub
import numpy as np
import pytest

import keras_vit
from keras_vit.weights import load_weights
from keras_vit.weights.formats import keras_hub as reader

IMAGE = (16, 24)
# ImageNet's mean and std as keras-hub's converter holds them: x * scale + offset on [0, 255].
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def _perturbed(model, seed=0):
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        if "int" in str(variable.dtype):
            continue  # SigLIP's and CLIP's position ids, indices rather than weights
        variable.assign(keras.ops.convert_to_numpy(variable) + rng.normal(0, 0.3, variable.shape).astype("float32"))
    return model


def _backbone(**options):
    return keras_hub.models.ViTBackbone(image_shape=(*IMAGE, 3), patch_size=8, num_layers=2, num_heads=2,
                                        hidden_dim=8, mlp_dim=12, **options)


def _pixels(seed=0):
    return np.random.default_rng(seed).uniform(0, 255, (2, *IMAGE, 3)).astype("float32")


@pytest.fixture(scope="module")
def classifier(tmp_path_factory):
    """A classifier with pre-logits, LayerNorm epsilon 1e-5 and ImageNet scaling, and its preset."""
    converter = keras_hub.layers.ViTImageConverter(
        image_size=IMAGE, scale=[1 / (255 * s) for s in STD], offset=[-m / s for m, s in zip(MEAN, STD)]
    )
    preprocessor = keras_hub.models.ViTImageClassifierPreprocessor(image_converter=converter)
    model = keras_hub.models.ViTImageClassifier(backbone=_backbone(layer_norm_epsilon=1e-5), num_classes=5,
                                                preprocessor=preprocessor, intermediate_dim=6)
    folder = str(tmp_path_factory.mktemp("keras_hub") / "classifier")
    _perturbed(model).save_to_preset(folder)
    return model, folder


@pytest.fixture(scope="module")
def backbone(tmp_path_factory):
    """A backbone without class token and biases in its attention and patch embedding."""
    model = _backbone(use_class_token=False, use_mha_bias=False, use_patch_bias=False)
    folder = str(tmp_path_factory.mktemp("keras_hub") / "backbone")
    _perturbed(model, seed=1).save_to_preset(folder)
    return model, folder


def _close(actual, expected):
    actual, expected = keras.ops.convert_to_numpy(actual), keras.ops.convert_to_numpy(expected)
    assert actual.shape == expected.shape
    assert np.abs(actual - expected).max() <= 1e-5 * max(1.0, np.abs(expected).max())


def test_classifier_preset_gives_keras_hubs_logits(classifier):
    model, folder = classifier
    loaded = keras_vit.from_checkpoint(folder)
    config = loaded.vit_config
    assert (config.activation, config.layer_norm_epsilon, config.representation_size) == ("gelu", 1e-5, 6)
    np.testing.assert_allclose(config.pixel_mean, MEAN, rtol=1e-6)
    np.testing.assert_allclose(config.pixel_std, STD, rtol=1e-6)
    pixels = _pixels()
    _close(loaded(pixels), model(model.preprocessor(pixels)))


def test_builders_and_load_weights_take_a_preset_folder(classifier):
    model, folder = classifier
    size = dict(image_size=IMAGE, patch_size=8, hidden_dim=8, num_layers=2, num_heads=2, mlp_dim=12)
    built = keras_vit.ViT(**size, weights=folder)
    assert (built.vit_config.num_classes, built.vit_config.activation) == (5, "gelu")
    # A model of the paper's defaults (tanh GELU, ...) with another head: the backbone loads, the head is new.
    other = keras_vit.ViT(**size, num_classes=3)
    report = load_weights(other, folder)
    assert any("new zero-initialised head for 3 classes" in note for note in report.notes)
    built_weights, other_weights = ({w.path: keras.ops.convert_to_numpy(w) for w in m.weights} for m in (built, other))
    for path in ("encoderblock_1/attn/out/kernel", "pos_embedding/embedding", "cls/token"):
        np.testing.assert_array_equal(built_weights[path], other_weights[path])


def test_backbone_preset_gives_keras_hubs_sequence(backbone):
    model, folder = backbone
    loaded = keras_vit.from_checkpoint(folder, include_preprocessing=False)
    config = loaded.vit_config
    assert (config.class_token, config.pooling, config.qkv_bias, config.patch_bias) == (False, "gap", False, False)
    sequence = keras.Model(loaded.input, loaded.get_layer("encoder_norm").output)
    inputs = _pixels() / 127.5 - 1
    _close(sequence(inputs), model(inputs))
    _close(loaded(inputs), keras.ops.mean(model(inputs), axis=1))


@pytest.fixture(scope="module")
def deit(tmp_path_factory):
    """A DeiT backbone (class and distillation tokens), with ImageNet scaling beside it."""
    model = keras_hub.models.DeiTBackbone(image_shape=(*IMAGE, 3), patch_size=8, num_layers=2, num_heads=2,
                                          hidden_dim=8, intermediate_dim=12, layer_norm_epsilon=1e-5)
    folder = str(tmp_path_factory.mktemp("keras_hub") / "deit")
    _perturbed(model, seed=2).save_to_preset(folder)
    keras_hub.layers.DeiTImageConverter(image_size=IMAGE, scale=[1 / (255 * s) for s in STD],
                                        offset=[-m / s for m, s in zip(MEAN, STD)]).save_to_preset(folder)
    return model, folder


def test_deit_backbone_preset_gives_keras_hubs_sequence(deit):
    model, folder = deit
    loaded = keras_vit.from_checkpoint(folder)
    config = loaded.vit_config
    assert (config.distillation_token, config.layer_norm_epsilon, config.activation) == (True, 1e-5, "gelu")
    np.testing.assert_allclose(config.pixel_std, STD, rtol=1e-6)
    sequence = keras.Model(loaded.input, loaded.get_layer("encoder_norm").output)
    pixels = _pixels()
    converter = keras_hub.layers.ImageConverter.from_preset(folder)
    _close(sequence(pixels), model(converter(pixels)))


@pytest.mark.backend_independent(reason="reads JSON; keras-hub only wrote the files")
def test_deits_one_headed_classifier_is_refused(deit, tmp_path):
    folder = str(tmp_path / "deit_classifier")
    shutil.copytree(deit[1], folder)
    with open(os.path.join(folder, "task.json"), "w") as handle:
        json.dump({"registered_name": "keras_hub>DeiTImageClassifier", "config": {}}, handle)
    with pytest.raises(ValueError, match=r"one head on the class token; keras_vit's DeiT averages"):
        reader.read_folder(folder)


DINOV2_CASES = {
    # SwiGLU, registers and the mask token (which shifts where the embedding's variables are saved).
    "swiglu_registers": dict(use_swiglu_ffn=True, num_register_tokens=2, layer_scale_init_value=0.1),
    "gelu": dict(use_mask_token=False),
}


@pytest.mark.parametrize("case", sorted(DINOV2_CASES))
def test_dinov2_backbone_preset_gives_keras_hubs_sequence(case, tmp_path):
    # The position table at the image size: keras-hub copies it rather than resizing it.
    model = keras_hub.models.DINOV2Backbone(patch_size=4, num_layers=2, hidden_dim=8, num_heads=2,
                                            intermediate_dim=24, image_shape=(12, 12, 3),
                                            position_embedding_shape=(12, 12, 3), **DINOV2_CASES[case])
    folder = str(tmp_path / "dinov2")
    _perturbed(model, seed=4).save_to_preset(folder)
    loaded = keras_vit.from_checkpoint(folder, include_preprocessing=False)
    config = loaded.vit_config
    options = DINOV2_CASES[case]
    assert config.num_registers == options.get("num_register_tokens", 0)
    assert config.activation == ("swiglu" if options.get("use_swiglu_ffn") else "gelu")
    sequence = keras.Model(loaded.input, loaded.get_layer("encoder_norm").output)
    inputs = np.random.default_rng(0).normal(size=(2, 12, 12, 3)).astype("float32")
    _close(sequence(inputs), keras_hub.models.Backbone.from_preset(folder)({"images": inputs}))


def test_dinov2_preset_of_another_size_says_how_its_table_is_resized(tmp_path):
    model = keras_hub.models.DINOV2Backbone(patch_size=4, num_layers=1, hidden_dim=8, num_heads=2,
                                            intermediate_dim=16, image_shape=(8, 8, 3),
                                            position_embedding_shape=(12, 12, 3))
    folder = str(tmp_path / "dinov2")
    model.save_to_preset(folder)
    checkpoint = reader.read_folder(folder)
    assert checkpoint.architecture["image_size"] == (12, 12)
    assert checkpoint.arrays["pos_embedding/embedding"].shape == (1, 10, 8)
    assert any("keras-hub runs this DINOv2 preset at image_shape=[8, 8]" in note for note in checkpoint.notes)


def _image_text(kind, tmp_path, **vision_options):
    """A keras-hub SigLIP or CLIP backbone, its text tower wider than its image tower, saved."""
    hub = keras_hub.models
    if kind == "siglip":
        vision = hub.SigLIPVisionEncoder(patch_size=4, hidden_dim=8, num_layers=2, num_heads=2,
                                         intermediate_dim=12, image_shape=(8, 8, 3), **vision_options)
        text = hub.SigLIPTextEncoder(vocabulary_size=10, embedding_dim=16, hidden_dim=16, num_layers=1,
                                     num_heads=2, intermediate_dim=12, max_sequence_length=4)
        model = hub.SigLIPBackbone(vision, text)
    else:
        vision = hub.CLIPVisionEncoder(patch_size=4, hidden_dim=8, num_layers=2, num_heads=2,
                                       intermediate_dim=12, image_shape=(8, 8, 3), **vision_options)
        text = hub.CLIPTextEncoder(vocabulary_size=10, embedding_dim=16, hidden_dim=16, num_layers=1,
                                   num_heads=2, intermediate_dim=12, max_sequence_length=4)
        model = hub.CLIPBackbone(vision, text, projection_dim=6)
        # A fresh CLIP looks every token's position up in row 0; converted presets hold 0, 1, 2, ...
        ids = vision.get_layer("embedding").position_ids
        ids.assign(np.arange(ids.shape[1])[None].astype(ids.dtype))
    folder = str(tmp_path / kind)
    _perturbed(model, seed=5).save_to_preset(folder)
    return model, folder


@pytest.mark.parametrize("kind, options", [("siglip", {}), ("siglip", {"intermediate_activation": "gelu"}),
                                           ("clip", {})])
def test_image_tower_of_an_image_text_preset_gives_keras_hubs_outputs(kind, options, tmp_path):
    model, folder = _image_text(kind, tmp_path, **options)
    checkpoint = reader.read_folder(folder)
    assert any(note.startswith("skipped the text tower") for note in checkpoint.notes)
    inputs = np.random.default_rng(0).normal(size=(2, 8, 8, 3)).astype("float32")
    loaded = keras_vit.from_checkpoint(folder, include_preprocessing=False, projection=kind == "clip")
    if kind == "siglip":
        assert loaded.vit_config.activation == ("gelu" if options else "gelu_tanh")
        _close(loaded(inputs), model.vision_encoder({"images": inputs}))  # the attention-pooled vector
        return
    sequence = keras.Model(loaded.input, loaded.get_layer("encoder_norm").output)
    expected = model.vision_encoder({"images": inputs})
    _close(sequence(inputs), expected)
    _close(loaded(inputs), model.vision_projection(expected[:, 0]))  # CLIP's image_embeds


@pytest.mark.backend_independent(reason="Keras saves the same HDF5 layout on every backend; the reader is NumPy")
def test_a_sharded_preset_reads_as_one(tmp_path):
    model = _perturbed(_backbone(), seed=6)
    model.save_to_preset(str(tmp_path / "whole"))
    model.save_to_preset(str(tmp_path / "sharded"), max_shard_size=1e-5)  # about 10 KB a shard
    files = os.listdir(tmp_path / "sharded")
    assert "model.weights.h5" not in files and len([f for f in files if f.startswith("model_")]) > 1
    whole, sharded = (reader.read_folder(str(tmp_path / name)).arrays for name in ("whole", "sharded"))
    assert sorted(whole) == sorted(sharded)
    for path, array in whole.items():
        np.testing.assert_array_equal(sharded[path], array)


def _edited(folder, tmp_path, file, edit):
    copy = str(tmp_path / "edited")
    shutil.copytree(folder, copy)
    with open(os.path.join(copy, file)) as handle:
        config = json.load(handle)
    edit(config)
    with open(os.path.join(copy, file), "w") as handle:
        json.dump(config, handle)
    return copy


@pytest.mark.backend_independent(reason="reads JSON and HDF5 with NumPy; keras-hub only wrote the files")
@pytest.mark.parametrize(
    "file, edit, message",
    [
        ("config.json", lambda c: c.update(registered_name="keras_hub>ResNetBackbone"),
         r"preset of 'keras_hub>ResNetBackbone'; keras_vit reads the keras-hub presets of 'keras_hub>ViTBackbone'"),
        ("config.json", lambda c: c["config"].update(use_mlp_bias=False),
         r"use_mlp_bias=False; keras_vit's ViT builds only use_mlp_bias=True"),
        ("task.json", lambda c: c["config"].update(pooling="gap"),
         r"pooling='gap' with use_class_token=True"),
        ("task.json", lambda c: c.update(registered_name="keras_hub>ViTSegmenter"),
         r"is a 'keras_hub>ViTSegmenter' task; keras_vit reads 'keras_hub>ViTImageClassifier'"),
        ("config.json", lambda c: c["config"].update(num_layers=1),
         r"holds arrays keras-hub's ViT of this config has no place for: layers/vi_t_encoder/encoder_layers/"
         r"vi_t_encoder_block_1/"),
    ],
)
def test_what_keras_vit_cannot_build_is_refused_naming_it(classifier, tmp_path, file, edit, message):
    with pytest.raises(ValueError, match=message):
        reader.read_folder(_edited(classifier[1], tmp_path, file, edit))
