"""The named models, as one table: the paper's sizes (Table 1) and its hybrids (Table 2).

Everything that lists models derives from `ALL_VARIANTS`: the builders
(`keras_vit.ViTB16`, `keras_vit.ViTR50B16`, ...), lookup by name
(`keras_vit.models.build_model`), the weights registry, the command line's
choices and the README's tables (a test compares them). The module imports
nothing but the standard library, so the models and the weights can both use it
and the command line can list models without loading Keras.
"""

import dataclasses


@dataclasses.dataclass(frozen=True)
class Variant:
    """The size of a Vision Transformer (paper Table 1)."""

    patch_size: int
    hidden_dim: int
    num_layers: int
    num_heads: int
    mlp_dim: int


@dataclasses.dataclass(frozen=True)
class HybridVariant:
    """The size of a hybrid: a ResNetV2 stem and a Transformer (paper Table 2)."""

    resnet_layers: tuple
    resnet_width: float
    patch_size: int
    hidden_dim: int
    num_layers: int
    num_heads: int
    mlp_dim: int


@dataclasses.dataclass(frozen=True)
class ResNetVariant:
    """The size of a BiT ResNetV2, the paper's ResNet baseline (Section 4.1)."""

    layers: tuple
    width: int


# The builder arguments that fix a model's size; a variant is one value of each.
SIZE_FIELDS = tuple(field.name for field in dataclasses.fields(Variant))
HYBRID_SIZE_FIELDS = tuple(field.name for field in dataclasses.fields(HybridVariant))

# Paper Table 1 for B, L and H; Ti and S as in the AugReg checkpoints (Steiner
# et al., "How to train your ViT?", 2021). The hybrids as vit_jax/configs/models.py
# defines them: the paper's R50+B/16 (stages (3, 4, 9), so the stem downsamples
# 16x) and the AugReg hybrids; "R+Ti/16" is the root alone (4x) under 8x8 patches.
ALL_VARIANTS = {
    "Ti/16": Variant(16, 192, 12, 3, 768),
    "S/16": Variant(16, 384, 12, 6, 1536),
    "S/32": Variant(32, 384, 12, 6, 1536),
    "B/16": Variant(16, 768, 12, 12, 3072),
    "B/32": Variant(32, 768, 12, 12, 3072),
    "L/16": Variant(16, 1024, 24, 16, 4096),
    "L/32": Variant(32, 1024, 24, 16, 4096),
    "H/14": Variant(14, 1280, 32, 16, 5120),
    "R+Ti/16": HybridVariant((), 1, 8, 192, 12, 3, 768),
    "R26+S/32": HybridVariant((2, 2, 2, 2), 1, 1, 384, 12, 6, 1536),
    "R26+B/32": HybridVariant((2, 2, 2, 2), 1, 1, 768, 12, 12, 3072),
    "R50+B/16": HybridVariant((3, 4, 9), 1, 1, 768, 12, 12, 3072),
    "R50+L/32": HybridVariant((3, 4, 6, 3), 1, 1, 1024, 24, 16, 4096),
}
# The paper's ResNet baselines: BiT's sizes (Kolesnikov et al., "Big Transfer (BiT)",
# 2020), ResNet-depth x width factor. Not Vision Transformers, so apart from
# ALL_VARIANTS: each has a builder `ResNetV2R50x1`, ..., and no weights registry.
RESNET_VARIANTS = {
    "R50x1": ResNetVariant((3, 4, 6, 3), 1),
    "R50x3": ResNetVariant((3, 4, 6, 3), 3),
    "R101x1": ResNetVariant((3, 4, 23, 3), 1),
    "R101x3": ResNetVariant((3, 4, 23, 3), 3),
    "R152x4": ResNetVariant((3, 8, 36, 3), 4),
}
VARIANTS = {name: size for name, size in ALL_VARIANTS.items() if isinstance(size, Variant)}
HYBRID_VARIANTS = {name: size for name, size in ALL_VARIANTS.items() if isinstance(size, HybridVariant)}


def is_hybrid(variant):
    """Whether `variant` (a key of `ALL_VARIANTS`) has a ResNet stem."""
    return "+" in variant


def builder_name(variant):
    """ "B/16" -> "ViTB16", "R50+B/16" -> "ViTR50B16": the builder's name."""
    return "ViT" + variant.replace("+", "").replace("/", "")


def resnet_builder_name(variant):
    """ "R50x1" -> "ResNetV2R50x1": the builder of a `RESNET_VARIANTS` size."""
    return "ResNetV2" + variant


def model_name(variant):
    """ "B/16" -> "vit_b16", "R50+B/16" -> "vit_r50_b16": the built model's name."""
    return "vit_" + variant.lower().replace("+", "_").replace("/", "")


def title(variant):
    """ "B/16" -> "ViT-B/16", "R50+B/16" -> "R50+ViT-B/16": the paper's name."""
    if is_hybrid(variant):
        stem, transformer = variant.split("+")
        return f"{stem}+ViT-{transformer}"
    return f"ViT-{variant}"


def size_fields(resnet_layers):
    """The size fields of a plain ViT (`resnet_layers` None) or of a hybrid."""
    return SIZE_FIELDS if resnet_layers is None else HYBRID_SIZE_FIELDS


def find(size):
    """The variant whose size is `size` (a dict of its size fields), or None."""
    for name, variant in ALL_VARIANTS.items():
        if vars(variant) == dict(size):
            return name
    return None


def lookup(name):
    """The variant a user's name stands for: "B/16", "ViTB16" or "vitb16"; None if none."""
    folded = str(name).lower()
    for variant in ALL_VARIANTS:
        if folded in (variant.lower(), builder_name(variant).lower()):
            return variant
    return None


def names():
    """Every name `lookup` accepts: the variants, then their builders' names."""
    return [*ALL_VARIANTS, *(builder_name(variant) for variant in ALL_VARIANTS)]


def stem_stride(resnet_layers):
    """How much a ResNet stem downsamples: 4 for the root (a stride-2 conv and a
    stride-2 max-pool), 2x more for every stage after the first; 1 for None."""
    if resnet_layers is None:
        return 1
    return 4 * 2 ** max(len(resnet_layers) - 1, 0)
