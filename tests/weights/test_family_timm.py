"""The ViT family from timm hub folders and bare state dicts, against timm's own outputs.

timm needs torchvision, which does not import beside the CPU torch wheel the
suite runs on, so `tests/data/timm/make_fixtures.py` (timm pinned in it) wrote
each folder with timm's `save_for_hf` and timm's outputs on fixed inputs into
`expected.npz`, once, in an environment of its own.
"""

import pathlib
import shutil

import keras
import numpy as np
import pytest

import keras_vit

DATA = pathlib.Path(__file__).parent.parent / "data" / "timm"
ARCHITECTURES = sorted(path.name for path in DATA.iterdir() if (path / "config.json").exists())
# The architectures whose expected outputs include other input sizes.
DYNAMIC = ("vit_small_patch14_dinov2", "vit_small_patch14_reg4_dinov2")


def _expected(architecture):
    with np.load(DATA / architecture / "expected.npz") as arrays:
        return dict(arrays)


def _assert_close(actual, expected):
    actual = keras.ops.convert_to_numpy(actual)
    assert actual.shape == expected.shape
    assert np.abs(actual - expected).max() <= 1e-4 * np.abs(expected).max()


def test_every_family_has_a_fixture():
    assert ARCHITECTURES == [
        "deit_tiny_distilled_patch16_224",
        "vit_base_patch16_clip_224",
        "vit_base_patch16_clip_quickgelu_224",
        "vit_base_patch16_siglip_224",
        "vit_giant_patch14_dinov2",
        "vit_small_patch14_dinov2",
        "vit_small_patch14_reg4_dinov2",
    ]


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_hub_folder_equals_timm(architecture):
    expected = _expected(architecture)
    model = keras_vit.from_checkpoint(str(DATA / architecture), include_preprocessing=False)
    _assert_close(model(expected["images"]), expected["logits"])
    features = keras_vit.from_checkpoint(str(DATA / architecture), include_preprocessing=False, include_top=False)
    _assert_close(features(expected["images"]), expected["pre_logits"])


@pytest.mark.parametrize("architecture", DYNAMIC)
def test_dinov2_at_other_sizes_equals_timm_dynamic_img_size(architecture):
    expected = _expected(architecture)
    model = keras_vit.from_checkpoint(str(DATA / architecture), include_preprocessing=False, dynamic_image_size=True)
    for suffix in ("_2", "_3"):  # a 4x5 grid (up, not square) and a 2x2 grid (down) from 3x3
        _assert_close(model(expected["images" + suffix]), expected["logits" + suffix])


def test_the_family_options_come_from_the_architecture_name():
    config = keras_vit.from_checkpoint(str(DATA / "vit_base_patch16_clip_quickgelu_224")).vit_config
    assert (config.activation, config.layer_norm_epsilon, config.pre_norm, config.patch_bias) == (
        "quick_gelu", 1e-5, True, False)
    assert config.pixel_mean == keras_vit.preprocessing.CLIP_MEAN
    config = keras_vit.from_checkpoint(str(DATA / "vit_small_patch14_reg4_dinov2")).vit_config
    assert (config.num_registers, config.layer_scale_init is not None, config.activation) == (4, True, "gelu")
    assert config.resample_method == "bicubic_antialias"
    assert keras_vit.from_checkpoint(str(DATA / "vit_giant_patch14_dinov2")).vit_config.activation == "swiglu"
    siglip = keras_vit.from_checkpoint(str(DATA / "vit_base_patch16_siglip_224")).vit_config
    assert (siglip.pooling, siglip.class_token) == ("map", False)


@pytest.mark.parametrize("architecture", ["vit_small_patch14_reg4_dinov2", "deit_tiny_distilled_patch16_224",
                                          "vit_base_patch16_siglip_224", "vit_giant_patch14_dinov2"])
def test_a_bare_state_dict_loads_where_its_keys_say_it_all(architecture, tmp_path):
    path = tmp_path / "weights.safetensors"
    shutil.copy(DATA / architecture / "model.safetensors", path)
    expected = _expected(architecture)
    model = keras_vit.from_checkpoint(str(path), num_heads=2, include_preprocessing=False)
    _assert_close(model(expected["images"]), expected["logits"])


@pytest.mark.backend_independent(reason="refused while reading the file, before any model is built")
def test_a_bare_clip_tower_is_refused_naming_what_is_missing(tmp_path):
    path = tmp_path / "weights.safetensors"
    shutil.copy(DATA / "vit_base_patch16_clip_quickgelu_224" / "model.safetensors", path)
    with pytest.raises(ValueError, match=r"is a CLIP image tower \('norm_pre'\), and a bare state dict does not say "
                                         r"whether its MLP uses OpenAI's QuickGELU or GELU, nor its LayerNorm epsilon"):
        keras_vit.weights.read_checkpoint(str(path), num_heads=2)


@pytest.mark.backend_independent(reason="refused while reading the file, before any model is built")
def test_an_unknown_timm_architecture_names_the_families(tmp_path):
    folder = tmp_path / "eva"
    shutil.copytree(DATA / "vit_small_patch14_dinov2", folder)
    text = (folder / "config.json").read_text().replace("vit_small_patch14_dinov2", "eva02_small_patch14_224")
    (folder / "config.json").write_text(text)
    with pytest.raises(ValueError, match=r"timm architecture 'eva02_small_patch14_224' is none of the families "
                                         r"keras_vit reads: .*vit_\*_reg4_dinov2, vit_\*_siglip_\*, vit_\*_clip_\*"):
        keras_vit.weights.read_checkpoint(str(folder))
