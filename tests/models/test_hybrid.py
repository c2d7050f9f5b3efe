"""The hybrid builders: the original implementation's parameter counts, arguments, resolutions."""

import keras
import pytest

import keras_vit
from keras_vit.models import BUILDERS, HYBRID_VARIANTS, ViTConfig, ViTHybrid, ViTR50B16, from_variant
from keras_vit.models.config import stem_macs

# google-research/vision_transformer, at 224 with 1000 classes and no pre-logits.
EXPECTED_PARAMETERS = {
    "R50+B/16": 98_659_112,
    "R26+S/32": 36_431_912,
    "R26+B/32": 101_383_976,
    "R50+L/32": 328_994_856,
    "R+Ti/16": 6_337_704,
}
# The sizes of tests/weights/test_hybrid_npz.py, so that JAX compiles each initializer once.
TINY = dict(resnet_layers=(1, 1), resnet_width=0.5, image_size=32, hidden_dim=16, num_layers=1, num_heads=4,
            mlp_dim=24, num_classes=7)


def test_every_hybrid_has_an_expected_count():
    assert sorted(HYBRID_VARIANTS) == sorted(EXPECTED_PARAMETERS)


def test_parameter_counts():
    counts = {}
    for variant in HYBRID_VARIANTS:
        builder = BUILDERS[variant]
        # Variables stay uninitialised in this scope: the real model's shapes, no memory.
        with keras.StatelessScope(initialize_variables=False):
            model = builder()
        counts[variant] = model.count_params()
        assert model.name == "vit_" + variant.lower().replace("+", "_").replace("/", "")
        keras.utils.clear_session()
    assert counts == EXPECTED_PARAMETERS


def test_r50_b16_layout_at_224_and_384():
    config = ViTConfig(**vars(HYBRID_VARIANTS["R50+B/16"]))
    assert (config.stem_stride, config.feature_size, config.feature_channels) == (16, (14, 14), 1024)
    assert config.replace(image_size=384).grid_size == (24, 24)
    tiny = ViTConfig(**vars(HYBRID_VARIANTS["R+Ti/16"]))
    assert (tiny.stem_stride, tiny.grid_size, tiny.feature_channels) == (4, (7, 7), 64)
    # SAME padding rounds up at every stride-2 step: 66 -> 33 -> 17 -> 9.
    assert ViTConfig(**{**TINY, "image_size": 66, "patch_size": 1}).grid_size == (9, 9)


def test_stem_macs_are_resnet50s():
    # ResNet-50 (stride in the 3x3 convolution) is quoted at 4.09 GMAC, 2M of them in its head.
    config = ViTConfig(**vars(HYBRID_VARIANTS["R50+L/32"]))
    assert round(stem_macs(config) / 1e9, 2) == 4.09
    assert stem_macs(ViTConfig()) == 0


def test_tiny_hybrid_layers_and_weight_paths():
    model = ViTHybrid(**TINY)
    assert model.get_layer("block2").output.shape == (None, 4, 4, 256)
    assert model.get_layer("pos_embedding").grid_size == (4, 4)
    assert {"conv_root/kernel", "gn_root/gamma", "block2/unit1/gn_proj/beta", "embedding/kernel"} <= {
        v.path for v in model.weights
    }
    assert model.get_layer("embedding").kernel.shape == (1, 1, 256, 16)


def test_builder_names_and_docs():
    builder = BUILDERS["R50+B/16"]
    assert builder is ViTR50B16 is keras_vit.ViTR50B16
    assert builder.__name__ == "ViTR50B16"
    assert "R50+ViT-B/16: a ResNetV2 stem (stages (3, 4, 9), root width 64)" in builder.__doc__
    assert '"imagenet21k"' in builder.__doc__
    assert "the root alone" in BUILDERS["R+Ti/16"].__doc__


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"resnet_layers": (3, 0)}, r"`resnet_layers` must be None or a tuple of positive ints.*Received: resnet_layers=\(3, 0\)"),
        ({"resnet_layers": 3}, r"`resnet_layers` must be None or a tuple of positive ints.*Received: resnet_layers=3"),
        ({"resnet_layers": None}, r"`resnet_layers` must be a tuple of positive ints such as \(3, 4, 9\) for a hybrid"),
        ({"resnet_width": 0.3}, r"`resnet_width` must be a positive multiple of 0.5.*Received: resnet_width=0.3"),
        ({"image_size": 40, "patch_size": 2}, r"`image_size` height must give a feature map divisible by patch_size=2: "
                                              r"the ResNet stem \(stride 8\) maps 40 to 5"),
        ({"pooling": "max"}, r"`pooling` must be one of 'token', 'gap', 'map'. Received: pooling='max'"),
        ({"weights": "imagenet21k"}, r"weights='imagenet21k' names published weights, but no published variant has this size"),
    ],
    ids=["zero_units", "not_a_tuple", "none", "width", "feature_map", "pooling", "unpublished_size"],
)
def test_bad_arguments_fail_before_building(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ViTHybrid(**{**TINY, **kwargs})


def test_unknown_keyword_is_named():
    with pytest.raises(TypeError, match=r"ViTHybrid\(\) got an unexpected keyword argument .resnet_depth."):
        ViTHybrid(**TINY, resnet_depth=(1, 1))


def test_named_hybrids_fix_their_size():
    with pytest.raises(ValueError, match=r"R50\+ViT-B/16 fixes resnet_layers; use `keras_vit.ViTHybrid`"):
        ViTR50B16(resnet_layers=(3, 4, 6), patch_size=2)
    with pytest.raises(ValueError, match=r"`variant` must be one of .*Received: variant='R101\+B/16'"):
        from_variant("R101+B/16")


def test_unknown_weights_name_lists_the_published_ones():
    with pytest.raises(ValueError, match=r"No weights named 'imagenet' for R50\+ViT-B/16. Available: imagenet21k, "):
        ViTR50B16(weights="imagenet")
