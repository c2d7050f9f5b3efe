"""Vision Transformer models: the generic builders, the named ones, and building by name or file;
and BiT's ResNetV2, the paper's ResNet baseline."""

from keras_vit.models.builders import (
    BUILDERS,
    FAMILY_BUILDERS,
    DeiTTi16,
    DeiTS16,
    DeiTB16,
    DINOv2S14,
    DINOv2B14,
    DINOv2L14,
    DINOv2g14,
    DINOv2S14Reg,
    DINOv2B14Reg,
    DINOv2L14Reg,
    DINOv2g14Reg,
    SigLIPB16,
    SigLIPSo400m14,
    CLIPB32,
    CLIPB16,
    CLIPL14,
    ViTB16,
    ViTB32,
    ViTH14,
    ViTL16,
    ViTL32,
    ViTR26B32,
    ViTR26S32,
    ViTR50B16,
    ViTR50L32,
    ViTRTi16,
    ViTS16,
    ViTS32,
    ViTTi16,
    build_model,
    from_checkpoint,
    from_variant,
)
from keras_vit.models.bit import ResNetV2Config, ResNetV2Model
from keras_vit.models.config import ViTConfig, macs
from keras_vit.models.flops import count_flops
from keras_vit.models.hybrid import ViTHybrid
from keras_vit.models.resnet_v2 import (
    RESNET_V2_BUILDERS,
    ResNetV2,
    ResNetV2R50x1,
    ResNetV2R50x3,
    ResNetV2R101x1,
    ResNetV2R101x3,
    ResNetV2R152x4,
)
from keras_vit.models.intermediates import feature_maps, intermediates
from keras_vit.models.vit_builder import ViT, build_vit
from keras_vit.variants import (
    ALL_VARIANTS,
    FAMILY_VARIANTS,
    HYBRID_VARIANTS,
    VARIANTS,
    FamilyVariant,
    HybridVariant,
    Variant,
)
from keras_vit.models.vision_transformer import VisionTransformer, config_of

__all__ = [
    "DeiTTi16", "DeiTS16", "DeiTB16", "DINOv2S14", "DINOv2B14", "DINOv2L14",
    "DINOv2g14", "DINOv2S14Reg", "DINOv2B14Reg", "DINOv2L14Reg", "DINOv2g14Reg", "SigLIPB16",
    "SigLIPSo400m14", "CLIPB32", "CLIPB16", "CLIPL14",
    "FAMILY_BUILDERS", "FAMILY_VARIANTS", "FamilyVariant",
    "ALL_VARIANTS", "BUILDERS", "HYBRID_VARIANTS", "RESNET_V2_BUILDERS", "VARIANTS",
    "HybridVariant", "ResNetV2", "ResNetV2Config", "ResNetV2Model", "ResNetV2R101x1", "ResNetV2R101x3",
    "ResNetV2R152x4", "ResNetV2R50x1", "ResNetV2R50x3", "Variant", "ViT", "ViTB16", "ViTB32", "ViTConfig",
    "ViTH14", "ViTHybrid", "ViTL16", "ViTL32", "ViTR26B32", "ViTR26S32", "ViTR50B16", "ViTR50L32",
    "ViTRTi16", "ViTS16", "ViTS32", "ViTTi16", "VisionTransformer", "build_model", "build_vit", "config_of",
    "count_flops", "feature_maps", "from_checkpoint", "from_variant", "intermediates", "macs",
]
