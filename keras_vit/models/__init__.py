"""Vision Transformer models: the generic builder, the variant table and its builders."""

from keras_vit.models.config import (
    HYBRID_VARIANTS,
    VARIANTS,
    HybridVariant,
    ViTConfig,
    Variant,
    macs,
)
from keras_vit.models.hybrid import (
    HYBRID_BUILDERS,
    ViTHybrid,
    ViTR26B32,
    ViTR26S32,
    ViTR50B16,
    ViTR50L32,
    ViTRTi16,
    from_hybrid_variant,
)
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
