"""The named models, as one table: the paper's sizes (Table 1), its hybrids (Table 2)
and its descendants (DeiT, DINOv2, SigLIP, CLIP) as published.

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
class FamilyVariant:
    """A descendant of the paper's ViT as published: its size, its family, its
    default resolution and the `ViTConfig` options its family sets, as
    `(field, value)` pairs (defaults a builder's caller may change; the size
    is fixed)."""

    family: str
    patch_size: int
    hidden_dim: int
    num_layers: int
    num_heads: int
    mlp_dim: int
    image_size: int
    options: tuple = ()

    @property
    def size(self):
        """The size fields, as a plain variant's `vars()` holds them."""
        return {field: getattr(self, field) for field in SIZE_FIELDS}


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
# The pixel statistics the families were trained with (keras_vit.preprocessing
# holds the same numbers; this module imports nothing but the standard library).
_IMAGENET = (("pixel_mean", (0.485, 0.456, 0.406)), ("pixel_std", (0.229, 0.224, 0.225)))
_CLIP = (
    ("pixel_mean", (0.48145466, 0.4578275, 0.40821073)),
    ("pixel_std", (0.26862954, 0.26130258, 0.27577711)),
)
_HALF = (("pixel_mean", (0.5, 0.5, 0.5)), ("pixel_std", (0.5, 0.5, 0.5)))
_DEIT = (("distillation_token", True), ("activation", "gelu"), ("layer_norm_epsilon", 1e-6),
         ("resample_method", "bicubic_antialias"), *_IMAGENET)
# DINOv2 resizes its position table with bicubic interpolation, antialiased
# in the models with registers (facebookresearch/dinov2's hub models; as
# transformers resizes each).
_DINOV2 = (("layer_scale_init", 1e-5), ("activation", "gelu"), ("layer_norm_epsilon", 1e-6),
           ("resample_method", "bicubic"), ("include_top", False), *_IMAGENET)


def _with(options, **changes):
    """`options` with the values of `changes` in place of theirs, the new fields after."""
    return tuple((k, changes.pop(k, v)) for k, v in options) + tuple(changes.items())


_DINOV2_G = _with(_DINOV2, activation="swiglu")
_DINOV2_REG = _with(_DINOV2, resample_method="bicubic_antialias", num_registers=4)
_DINOV2_G_REG = _with(_DINOV2_G, resample_method="bicubic_antialias", num_registers=4)
_SIGLIP = (("class_token", False), ("pooling", "map"), ("activation", "gelu_tanh"), ("layer_norm_epsilon", 1e-6),
           ("resample_method", "bicubic"), ("include_top", False), *_HALF)
_CLIP_OPTIONS = (("pre_norm", True), ("patch_bias", False), ("activation", "quick_gelu"),
                 ("layer_norm_epsilon", 1e-5), ("resample_method", "bicubic"), ("include_top", False), *_CLIP)
# The paper's descendants, with their published sizes: DeiT (Touvron et al.,
# 2021; the distilled models), DINOv2 (Oquab et al., 2023; with registers:
# Darcet et al., 2024), SigLIP (Zhai et al., 2023) and CLIP (Radford et al.,
# 2021) image towers. DINOv2-g's MLP is SwiGLU, 4096 wide (2 x 4096 in its
# first layer); SigLIP So400m's is 4304.
FAMILY_VARIANTS = {
    "DeiT-Ti/16": FamilyVariant("DeiT", 16, 192, 12, 3, 768, 224, _DEIT),
    "DeiT-S/16": FamilyVariant("DeiT", 16, 384, 12, 6, 1536, 224, _DEIT),
    "DeiT-B/16": FamilyVariant("DeiT", 16, 768, 12, 12, 3072, 224, _DEIT),
    "DINOv2-S/14": FamilyVariant("DINOv2", 14, 384, 12, 6, 1536, 518, _DINOV2),
    "DINOv2-B/14": FamilyVariant("DINOv2", 14, 768, 12, 12, 3072, 518, _DINOV2),
    "DINOv2-L/14": FamilyVariant("DINOv2", 14, 1024, 24, 16, 4096, 518, _DINOV2),
    "DINOv2-g/14": FamilyVariant("DINOv2", 14, 1536, 40, 24, 4096, 518, _DINOV2_G),
    "DINOv2-S/14-reg": FamilyVariant("DINOv2", 14, 384, 12, 6, 1536, 518, _DINOV2_REG),
    "DINOv2-B/14-reg": FamilyVariant("DINOv2", 14, 768, 12, 12, 3072, 518, _DINOV2_REG),
    "DINOv2-L/14-reg": FamilyVariant("DINOv2", 14, 1024, 24, 16, 4096, 518, _DINOV2_REG),
    "DINOv2-g/14-reg": FamilyVariant("DINOv2", 14, 1536, 40, 24, 4096, 518, _DINOV2_G_REG),
    "SigLIP-B/16": FamilyVariant("SigLIP", 16, 768, 12, 12, 3072, 224, _SIGLIP),
    "SigLIP-So400m/14": FamilyVariant("SigLIP", 14, 1152, 27, 16, 4304, 224, _SIGLIP),
    "CLIP-B/32": FamilyVariant("CLIP", 32, 768, 12, 12, 3072, 224, _CLIP_OPTIONS),
    "CLIP-B/16": FamilyVariant("CLIP", 16, 768, 12, 12, 3072, 224, _CLIP_OPTIONS),
    "CLIP-L/14": FamilyVariant("CLIP", 14, 1024, 24, 16, 4096, 224, _CLIP_OPTIONS),
}
ALL_VARIANTS.update(FAMILY_VARIANTS)
VARIANTS = {name: size for name, size in ALL_VARIANTS.items() if isinstance(size, Variant)}
HYBRID_VARIANTS = {name: size for name, size in ALL_VARIANTS.items() if isinstance(size, HybridVariant)}


def is_hybrid(variant):
    """Whether `variant` (a key of `ALL_VARIANTS`) has a ResNet stem."""
    return isinstance(ALL_VARIANTS.get(variant), HybridVariant)


def is_family(variant):
    """Whether `variant` (a key of `ALL_VARIANTS`) is one of the paper's descendants."""
    return variant in FAMILY_VARIANTS


def builder_name(variant):
    """ "B/16" -> "ViTB16", "R50+B/16" -> "ViTR50B16", "DINOv2-S/14-reg" ->
    "DINOv2S14Reg": the builder's name."""
    if is_family(variant):
        family, size = variant.split("-", 1)
        return family + size.replace("/", "").replace("-reg", "Reg")
    return "ViT" + variant.replace("+", "").replace("/", "")


def resnet_builder_name(variant):
    """ "R50x1" -> "ResNetV2R50x1": the builder of a `RESNET_VARIANTS` size."""
    return "ResNetV2" + variant


def model_name(variant):
    """ "B/16" -> "vit_b16", "R50+B/16" -> "vit_r50_b16", "DINOv2-S/14-reg" ->
    "dinov2_s14_reg": the built model's name."""
    if is_family(variant):
        return variant.lower().replace("-", "_").replace("/", "")
    return "vit_" + variant.lower().replace("+", "_").replace("/", "")


def build_arguments(variant):
    """The builder arguments a variant fixes (its size) and, for a family
    variant, those it sets by default (its resolution and family options)."""
    size = ALL_VARIANTS[variant]
    if not is_family(variant):
        return vars(size), {}
    return size.size, {"image_size": size.image_size, **dict(size.options)}


def title(variant):
    """ "B/16" -> "ViT-B/16", "R50+B/16" -> "R50+ViT-B/16", "DeiT-B/16" -> "DeiT-B/16":
    the paper's name, or the family's."""
    if is_family(variant):
        return variant
    if is_hybrid(variant):
        stem, transformer = variant.split("+")
        return f"{stem}+ViT-{transformer}"
    return f"ViT-{variant}"


def size_fields(resnet_layers):
    """The size fields of a plain ViT (`resnet_layers` None) or of a hybrid."""
    return SIZE_FIELDS if resnet_layers is None else HYBRID_SIZE_FIELDS


def find(size):
    """The paper's variant whose size is `size` (a dict of its size fields), or
    None (a family variant of the same size, such as DeiT-B/16, is no match:
    its options are not in `size`)."""
    for name, variant in ALL_VARIANTS.items():
        if not is_family(name) and vars(variant) == dict(size):
            return name
    return None


def heads_of(hidden_dim, num_layers):
    """The heads of the published sizes of this width and depth, or None."""
    for variant in ALL_VARIANTS.values():
        if not isinstance(variant, HybridVariant) and (variant.hidden_dim, variant.num_layers) == (
            hidden_dim,
            num_layers,
        ):
            return variant.num_heads
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
