"""Vision Transformer models: the generic builder, the variant table and its builders."""

from keras_vit.models.config import VARIANTS, ViTConfig, Variant, macs
from keras_vit.models.intermediates import intermediates
from keras_vit.models.variants import (
    BUILDERS,
    ViTB16,
    ViTB32,
    ViTH14,
    ViTL16,
    ViTL32,
    ViTS16,
    ViTS32,
    ViTTi16,
    from_variant,
)
from keras_vit.models.vit import ViT, build_vit
