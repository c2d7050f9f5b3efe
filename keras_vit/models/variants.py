"""One builder per row of the variant table, e.g. `ViTB16` for "B/16"."""

from keras_vit.models.config import VARIANTS
from keras_vit.models.vit import ViT
from keras_vit.weights import registry

_DOC = """Builds ViT-{variant}: {num_layers} layers, width {hidden_dim}, MLP {mlp_dim}, {num_heads} heads, {patch_size}x{patch_size} patches.

    Args:
        weights: None, the name of published weights ({names}), or the path
            of a checkpoint in any format `keras_vit.weights.load_weights`
            reads. Resolution, classes and pre-logits follow the weights unless
            given. Defaults to None.
        **kwargs: Any keyword argument of `keras_vit.ViT` but the five that fix
            the size (`patch_size`, `hidden_dim`, `num_layers`, `num_heads`,
            `mlp_dim`): `image_size`, `include_top`, `num_classes`, `pooling`,
            `representation_size`, `classifier_activation`,
            `include_preprocessing`, `dropout_rate`, `attention_dropout_rate`,
            `name`, ...

    Returns:
        A functional `keras.Model`.
    """


def from_variant(variant, weights=None, **kwargs):
    """Builds the variant named `variant` (a key of `VARIANTS`, such as "B/16")."""
    if variant not in VARIANTS:
        raise ValueError(
            f"`variant` must be one of {sorted(VARIANTS)}. Received: variant={variant!r}"
        )
    kwargs.setdefault("name", "vit_" + variant.replace("/", "").lower())
    return build_sized(ViT, vars(VARIANTS[variant]), f"ViT-{variant}", weights, kwargs)


def build_sized(builder, size, title, weights, kwargs):
    """`builder(**size, **kwargs)` for the named size `title`, refusing size
    arguments in `kwargs` and applying named weights' defaults (resolution,
    classes, pre-logits) where `kwargs` leaves them open."""
    fixed = sorted(set(kwargs) & set(size))
    if fixed:
        raise ValueError(
            f"{title} fixes {', '.join(fixed)}; use `keras_vit.{builder.__name__}` for "
            f"another size. Received: {', '.join(f'{k}={kwargs[k]!r}' for k in fixed)}"
        )
    if weights is not None:
        from keras_vit.weights.sources import builder_defaults

        weights, implied = builder_defaults(size, weights, kwargs)
        kwargs = {**implied, **kwargs}
    return builder(**size, weights=weights, **kwargs)


def _builder(variant):
    def build(weights=None, **kwargs):
        return from_variant(variant, weights=weights, **kwargs)

    build.__name__ = build.__qualname__ = "ViT" + variant.replace("/", "")
    published = ", ".join(f'"{name}"' for name in registry.names(variant)) or "none yet"
    build.__doc__ = _DOC.format(variant=variant, names=published, **vars(VARIANTS[variant]))
    return build


ViTTi16 = _builder("Ti/16")
ViTS16 = _builder("S/16")
ViTS32 = _builder("S/32")
ViTB16 = _builder("B/16")
ViTB32 = _builder("B/32")
ViTL16 = _builder("L/16")
ViTL32 = _builder("L/32")
ViTH14 = _builder("H/14")

BUILDERS = {variant: globals()["ViT" + variant.replace("/", "")] for variant in VARIANTS}
