"""The named models of the paper's descendants: exact parameter counts, defaults, weights by name."""

import keras
import pytest

import keras_vit
from keras_vit.models import BUILDERS, FAMILY_VARIANTS
from keras_vit.weights import registry

# The originals' counts: transformers' models of the published configs (DeiT
# with its two heads, SigLIP's and CLIP's vision models), counted on the meta
# device; DINOv2's less its mask token (hidden_dim values, used only in
# masked-image pre-training, which keras_vit does not build). timm's counts
# (image towers, num_classes=0) are the same but for DINOv2 with registers:
# timm folds the class token's position embedding into the token, hidden_dim
# values fewer.
EXPECTED_PARAMETERS = {
    "DeiT-Ti/16": 5_910_800,
    "DeiT-S/16": 22_436_432,
    "DeiT-B/16": 87_338_192,
    "DINOv2-S/14": 22_056_576 - 384,
    "DINOv2-B/14": 86_580_480 - 768,
    "DINOv2-L/14": 304_368_640 - 1024,
    "DINOv2-g/14": 1_136_480_768 - 1536,
    "DINOv2-S/14-reg": 22_058_112 - 384,
    "DINOv2-B/14-reg": 86_583_552 - 768,
    "DINOv2-L/14-reg": 304_372_736 - 1024,
    "DINOv2-g/14-reg": 1_136_486_912 - 1536,
    "SigLIP-B/16": 92_884_224,
    "SigLIP-So400m/14": 427_680_704,
    "CLIP-B/32": 87_849_216 - 393_216,
    "CLIP-B/16": 86_192_640 - 393_216,
    "CLIP-L/14": 303_966_208 - 786_432,
}
# SigLIP at its other published resolutions; CLIP with its projection (transformers'
# CLIPVisionModelWithProjection).
OTHER_COUNTS = [
    ("SigLIP-B/16", {"image_size": 256}, 92_930_304),
    ("SigLIP-B/16", {"image_size": 384}, 93_176_064),
    ("SigLIP-So400m/14", {"image_size": 378}, 428_225_600),
    ("CLIP-B/32", {"projection_dim": 512}, 87_849_216),
    ("CLIP-B/16", {"projection_dim": 512}, 86_192_640),
    ("CLIP-L/14", {"projection_dim": 768}, 303_966_208),
]


def test_every_family_variant_has_an_expected_count():
    assert sorted(FAMILY_VARIANTS) == sorted(EXPECTED_PARAMETERS)


@pytest.mark.parametrize("variant", sorted(FAMILY_VARIANTS))
def test_parameter_count_equals_the_original(variant):
    # Variables stay uninitialised in this scope: the real model's shapes, no memory.
    with keras.StatelessScope(initialize_variables=False):
        model = BUILDERS[variant]()
    assert model.count_params() == EXPECTED_PARAMETERS[variant]
    assert model.name == variant.lower().replace("-", "_").replace("/", "")


@pytest.mark.parametrize("variant, arguments, count", OTHER_COUNTS)
def test_parameter_count_at_other_resolutions_and_with_the_projection(variant, arguments, count):
    with keras.StatelessScope(initialize_variables=False):
        assert BUILDERS[variant](**arguments).count_params() == count


def test_a_family_builder_sets_its_options_and_takes_changes():
    with keras.StatelessScope(initialize_variables=False):
        config = keras_vit.DINOv2S14Reg().vit_config
        assert (config.image_size, config.num_registers, config.layer_scale_init, config.include_top) == (
            (518, 518), 4, 1e-5, False)
        assert config.pixel_mean == keras_vit.preprocessing.IMAGENET_MEAN
        changed = keras_vit.DINOv2S14Reg(image_size=224, include_top=True, num_classes=10).vit_config
        assert (changed.image_size, changed.num_classes, changed.num_registers) == ((224, 224), 10, 4)
        assert keras_vit.DINOv2g14().vit_config.activation == "swiglu"
        deit = keras_vit.DeiTTi16().vit_config
        assert deit.distillation_token and deit.include_top and deit.num_classes == 1000
        siglip = keras_vit.SigLIPB16().vit_config
        assert (siglip.pooling, siglip.class_token, siglip.activation) == ("map", False, "gelu_tanh")
        clip = keras_vit.CLIPL14().vit_config
        assert (clip.pre_norm, clip.patch_bias, clip.activation, clip.layer_norm_epsilon) == (
            True, False, "quick_gelu", 1e-5)


def test_a_family_builder_fixes_its_size():
    with pytest.raises(ValueError, match="DINOv2-S/14 fixes num_layers; use `keras_vit.ViT`"):
        keras_vit.DINOv2S14(num_layers=6)


def test_published_weights_by_name_are_the_variants_own():
    with pytest.raises(ValueError, match=r"No weights named 'imagenet21k' for DeiT-B/16. Available: imagenet1k"):
        keras_vit.DeiTB16(weights="imagenet21k")
    assert registry.get("SigLIP-So400m/14", "webli-384").image_size == 378
    assert registry.names("CLIP-B/16") == ["openai"]


@pytest.mark.backend_independent(reason="compares constants of two modules")
def test_the_variant_table_holds_the_preprocessing_modules_pixel_statistics():
    # keras_vit.variants imports nothing but the standard library, so it spells
    # the families' statistics again; they must be the same numbers.
    statistics = {dict(variant.options)["pixel_mean"] + dict(variant.options)["pixel_std"]
                  for variant in FAMILY_VARIANTS.values()}
    preprocessing = keras_vit.preprocessing
    assert statistics == {
        preprocessing.IMAGENET_MEAN + preprocessing.IMAGENET_STD,
        preprocessing.CLIP_MEAN + preprocessing.CLIP_STD,
        preprocessing.PAPER_MEAN + preprocessing.PAPER_STD,
    }
