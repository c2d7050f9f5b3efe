"""The models the data-size and scaling experiments compare: ViT, BiT ResNet and hybrid.

Each is a `ModelSpec`, a `TrainConfig.model` builder name and its
`model_kwargs`, derived from the ablation's ViT so that the three families see
the same token grid: the hybrid's ResNet stem divides the image by 4 and its
patches are the ViT's patch size over 4.
"""

import dataclasses

# BiT's smallest ResNetV2: one unit per stage at half width (GroupNorm's 32
# groups need at least 32 channels at the root).
SMALLEST_RESNET = dict(layers=(1, 1, 1, 1), width=0.5)
# The hybrid's stem: BiT's root and its first stage (no downsampling), half width.
HYBRID_STEM = dict(resnet_layers=(1,), resnet_width=0.5)
STEM_STRIDE = 4
# The scaling ladder's Transformer sizes: small, the demo's, wide.
VIT_SIZES = (
    dict(hidden_dim=32, num_layers=2, num_heads=2, mlp_dim=64),
    dict(hidden_dim=64, num_layers=4, num_heads=4, mlp_dim=128),
    dict(hidden_dim=128, num_layers=4, num_heads=4, mlp_dim=256),
)
RESNET_SIZES = (
    dict(layers=(1, 1, 1, 1), width=0.5),
    dict(layers=(2, 2, 2, 2), width=0.5),
    dict(layers=(1, 1, 1, 1), width=1),
)
HYBRID_STEMS = (
    dict(resnet_layers=(), resnet_width=0.5),
    HYBRID_STEM,
    HYBRID_STEM,
)
SIZE_KEYS = ("hidden_dim", "num_layers", "num_heads", "mlp_dim")


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """One model of a comparison.

    Attributes:
        family: str. `"ViT"`, `"ResNet"` or `"hybrid"`.
        label: str. Its name in tables and figures, e.g. `"ViT-64x4"`.
        builder: str. The `TrainConfig.model`: `"ViT"`, `"ResNetV2"` or `"ViTHybrid"`.
        kwargs: dict. The builder's `model_kwargs`.
    """

    family: str
    label: str
    builder: str
    kwargs: dict

    def apply(self, config):
        """`config` training this model; a ResNet gets no dropout, stochastic depth or remat."""
        config = dataclasses.replace(config, model=self.builder, model_kwargs=dict(self.kwargs))
        if self.family == "ResNet":
            config = dataclasses.replace(config, dropout_rate=0.0, stochastic_depth_rate=0.0, remat=False)
        return config


def vit(kwargs):
    """The ViT of `model_kwargs` `kwargs`."""
    return ModelSpec("ViT", f"ViT-{_transformer_label(kwargs)}", "ViT", dict(kwargs))


def resnet(layers, width):
    """BiT's ResNetV2 with `layers` units per stage and width factor `width`."""
    label = f"R{''.join(map(str, layers))}x{width:g}"
    return ModelSpec("ResNet", label, "ResNetV2", dict(layers=tuple(layers), width=width))


def hybrid(kwargs, resnet_layers, resnet_width):
    """The ViT of `kwargs` on a ResNet stem: same token grid, patches `patch_size / 4` of the stem's map."""
    patch_size = kwargs.get("patch_size", 16)
    if patch_size % STEM_STRIDE:
        raise ValueError(
            f"A hybrid on the ViT's token grid needs a patch size divisible by the stem's stride "
            f"{STEM_STRIDE}. Received: patch_size={patch_size}"
        )
    stages = "".join(map(str, resnet_layers)) or "root"
    label = f"R{stages}x{resnet_width:g}+{_transformer_label(kwargs)}"
    kwargs = dict(kwargs, patch_size=patch_size // STEM_STRIDE, resnet_layers=tuple(resnet_layers),
                  resnet_width=resnet_width)
    return ModelSpec("hybrid", label, "ViTHybrid", kwargs)


def data_size_models(config):
    """The data-size experiment's three: `config`'s ViT, BiT's smallest ResNet, and
    the same ViT on a one-stage ResNet stem."""
    kwargs = dict(config.model_kwargs)
    return (vit(kwargs), resnet(**SMALLEST_RESNET), hybrid(kwargs, **HYBRID_STEM))


def scaling_ladder(config):
    """The scaling experiment's ladder: three sizes of each family, the ViTs
    keeping `config`'s patch size and other non-size arguments."""
    base = {k: v for k, v in config.model_kwargs.items() if k not in SIZE_KEYS}
    vits = [vit({**base, **size}) for size in VIT_SIZES]
    resnets = [resnet(**size) for size in RESNET_SIZES]
    hybrids = [hybrid({**base, **size}, **stem) for size, stem in zip(VIT_SIZES, HYBRID_STEMS)]
    return (*vits, *resnets, *hybrids)


def _transformer_label(kwargs):
    return f"{kwargs.get('hidden_dim', 768)}x{kwargs.get('num_layers', 12)}"
