"""Every variant in the table has the original implementation's exact parameter count."""

import keras
import pytest

from keras_vit.models import BUILDERS, VARIANTS, ViTB16, from_variant

# google-research/vision_transformer, at 224 with 1000 classes and no pre-logits.
EXPECTED_PARAMETERS = {
    "Ti/16": 5_717_416,
    "S/16": 22_050_664,
    "S/32": 22_878_952,
    "B/16": 86_567_656,
    "B/32": 88_224_232,
    "L/16": 304_326_632,
    "L/32": 306_535_400,
    "H/14": 632_045_800,
}


def test_every_variant_has_an_expected_count():
    assert sorted(VARIANTS) == sorted(EXPECTED_PARAMETERS)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_parameter_count(variant):
    # Variables stay uninitialised in this scope: the real model's shapes, no memory.
    with keras.StatelessScope(initialize_variables=False):
        model = BUILDERS[variant]()
    assert model.count_params() == EXPECTED_PARAMETERS[variant]
    assert model.name == "vit_" + variant.replace("/", "").lower()


def test_gap_pooling_drops_the_class_token():
    assert ViTB16(pooling="gap").count_params() == 86_566_120


def test_builder_names_and_docs():
    builder = BUILDERS["L/16"]
    assert builder.__name__ == "ViTL16"
    assert "24 layers, width 1024, MLP 4096, 16 heads, 16x16 patches" in builder.__doc__


def test_unknown_variant_is_rejected():
    with pytest.raises(ValueError, match=r"`variant` must be one of .*Received: variant='G/14'"):
        from_variant("G/14")


def test_size_arguments_of_a_variant_are_fixed():
    with pytest.raises(ValueError, match="ViT-B/16 fixes num_layers; use `keras_vit.ViT`"):
        ViTB16(num_layers=6)
