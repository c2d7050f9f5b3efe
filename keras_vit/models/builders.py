"""Models by name: one builder per row of `keras_vit.variants.ALL_VARIANTS`,
lookup by variant or builder name, saved `.keras` files, and checkpoint files.

Command lines, configs and notebooks build every model through `build_model`,
so a name means the same model everywhere.
"""

import dataclasses
import inspect
import os

from keras_vit import variants
from keras_vit.models.config import ViTConfig
from keras_vit.models.hybrid import ViTHybrid
from keras_vit.models.pretrained import IMPLIED_BY_CHECKPOINTS, names_a_file
from keras_vit.models.resnet_v2 import ResNetV2
from keras_vit.models.vit_builder import ViT, build_vit
from keras_vit.utils.kernels import adapt_channel_values
from keras_vit.weights import hub, registry
from keras_vit.weights.formats import keras_file
from keras_vit.weights.reader import read_checkpoint
from keras_vit.weights.load import load_weights

_DOC = """Builds {title}: {description}.

    Args:
        weights: None, the name of published weights ({names}), or the path
            of a checkpoint in any format `keras_vit.weights.load_weights`
            reads. Resolution, classes and pre-logits follow the weights unless
            given. Defaults to None.
        patch_size: int. Another patch size than the variant's {patch_size}:
            the weights' patch embedding and position embedding are
            resampled to it (FlexiViT). Defaults to {patch_size}.
        **kwargs: Any keyword argument of `keras_vit.{generic}` but those that
            fix the size ({fixed}): `image_size`, `input_channels`,
            `include_top`, `num_classes`, `pooling`, `representation_size`,
            `classifier_activation`, `include_preprocessing`, `dropout_rate`,
            `attention_dropout_rate`, `name`, ...

    Returns:
        A `keras_vit.models.VisionTransformer`.
    """


def from_variant(variant, weights=None, **kwargs):
    """Builds the model named `variant` (a key of `keras_vit.variants.ALL_VARIANTS`,
    such as "B/16", "R50+B/16" or "DINOv2-S/14-reg")."""
    if variant not in variants.ALL_VARIANTS:
        raise ValueError(
            f"`variant` must be one of {sorted(variants.ALL_VARIANTS)}. Received: variant={variant!r}"
        )
    size, defaults = variants.build_arguments(variant)
    fixed = sorted(set(kwargs) & set(size) - {"patch_size"})
    if fixed:
        raise ValueError(
            f"{variants.title(variant)} fixes {', '.join(fixed)}; use `keras_vit.{_generic(variant).__name__}` "
            f"for another size. Received: {', '.join(f'{k}={kwargs[k]!r}' for k in fixed)}"
        )
    kwargs.setdefault("name", variants.model_name(variant))
    weights = _variant_weights(variant, weights)
    if variants.is_family(variant):
        if weights is not None:
            defaults.pop("image_size")  # the weights' resolution, unless given
        kwargs = {**defaults, **kwargs}
    return _generic(variant)(**{**size, **kwargs}, weights=weights)


def _variant_weights(variant, weights):
    """The variant's published weights by name; paths and entries as they are. (The
    generic builder looks names up by size, which DeiT-B/16 shares with ViT-B/16,
    and which another `patch_size` changes.)"""
    if not isinstance(weights, str) or names_a_file(weights):
        return weights
    return registry.get(variant, weights)


def _generic(variant):
    return ViTHybrid if variants.is_hybrid(variant) else ViT


def _description(variant):
    size = variants.ALL_VARIANTS[variant]
    transformer = (
        f"{size.num_layers} layers, width {size.hidden_dim}, MLP {size.mlp_dim}, {size.num_heads} heads, "
        f"{size.patch_size}x{size.patch_size} patches"
    )
    if variants.is_family(variant):
        options = ", ".join(f"{field}={value!r}" for field, value in size.options)
        return f"a {size.family} image model: {transformer}, at {size.image_size} px by default; {options}"
    if not variants.is_hybrid(variant):
        return transformer
    stages = f"stages {size.resnet_layers}" if size.resnet_layers else "the root alone"
    return (
        f"a ResNetV2 stem ({stages}, root width {int(64 * size.resnet_width)}), then {transformer} "
        "on the feature map"
    )


def _signature(variant):
    """The generic builder's keyword arguments less the size the variant fixes, all
    keyword-only, `weights` first, a family's own defaults shown: what `help()`
    and editors show for a named builder."""
    fixed, defaults = variants.build_arguments(variant)
    generic = inspect.signature(_generic(variant)).parameters.values()
    defaults.pop("image_size", None)  # stays None: the weights' resolution, else the variant's
    defaults["patch_size"] = fixed["patch_size"]  # another resamples the weights' (FlexiViT)
    rest = [
        p.replace(kind=inspect.Parameter.KEYWORD_ONLY, default=defaults.get(p.name, p.default))
        for p in generic
        if p.name not in set(fixed) - {"patch_size"} | {"weights"}
    ]
    weights = inspect.Parameter("weights", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None)
    return inspect.Signature([weights, *rest])


def _builder(variant):
    def build(weights=None, **kwargs):
        return from_variant(variant, weights=weights, **kwargs)

    build.__name__ = build.__qualname__ = variants.builder_name(variant)
    build.__signature__ = _signature(variant)
    published = ", ".join(f'"{name}"' for name in registry.names(variant)) or "none yet"
    build.__doc__ = _DOC.format(
        title=variants.title(variant),
        description=_description(variant),
        names=published,
        generic=_generic(variant).__name__,
        patch_size=variants.build_arguments(variant)[0]["patch_size"],
        fixed=", ".join(f"`{field}`" for field in variants.build_arguments(variant)[0] if field != "patch_size"),
    )
    return build


# Every named model's builder, by variant ("B/16", "R50+B/16").
BUILDERS = {variant: _builder(variant) for variant in variants.ALL_VARIANTS}

ViTTi16 = BUILDERS["Ti/16"]
ViTS16 = BUILDERS["S/16"]
ViTS32 = BUILDERS["S/32"]
ViTB16 = BUILDERS["B/16"]
ViTB32 = BUILDERS["B/32"]
ViTL16 = BUILDERS["L/16"]
ViTL32 = BUILDERS["L/32"]
ViTH14 = BUILDERS["H/14"]
ViTRTi16 = BUILDERS["R+Ti/16"]
ViTR26S32 = BUILDERS["R26+S/32"]
ViTR26B32 = BUILDERS["R26+B/32"]
ViTR50B16 = BUILDERS["R50+B/16"]
ViTR50L32 = BUILDERS["R50+L/32"]
DeiTTi16 = BUILDERS["DeiT-Ti/16"]
DeiTS16 = BUILDERS["DeiT-S/16"]
DeiTB16 = BUILDERS["DeiT-B/16"]
DINOv2S14 = BUILDERS["DINOv2-S/14"]
DINOv2B14 = BUILDERS["DINOv2-B/14"]
DINOv2L14 = BUILDERS["DINOv2-L/14"]
DINOv2g14 = BUILDERS["DINOv2-g/14"]
DINOv2S14Reg = BUILDERS["DINOv2-S/14-reg"]
DINOv2B14Reg = BUILDERS["DINOv2-B/14-reg"]
DINOv2L14Reg = BUILDERS["DINOv2-L/14-reg"]
DINOv2g14Reg = BUILDERS["DINOv2-g/14-reg"]
SigLIPB16 = BUILDERS["SigLIP-B/16"]
SigLIPSo400m14 = BUILDERS["SigLIP-So400m/14"]
CLIPB32 = BUILDERS["CLIP-B/32"]
CLIPB16 = BUILDERS["CLIP-B/16"]
CLIPL14 = BUILDERS["CLIP-L/14"]
# The family builders' names, in the table's order.
FAMILY_BUILDERS = tuple(variants.builder_name(variant) for variant in variants.FAMILY_VARIANTS)


def build_model(name, weights=None, **kwargs):
    """Builds a model from a variant or builder name, or loads a `.keras` file.

    Args:
        name: str. A variant (`"B/16"`, `"R50+B/16"`), a builder's name
            (`"ViTB16"`, any case), the path of a `.keras` file, or a hub
            handle (`"hf://ORG/NAME"`, `"kaggle://..."`): the repository's
            `.keras` model, or the model its checkpoint describes (as
            `from_checkpoint` builds it, with `kwargs` as its overrides).
        weights: None, a registry name or a checkpoint path, as every builder
            takes; for a `.keras` file, a checkpoint loaded into it with
            `keras_vit.weights.load_weights`. Defaults to None.
        **kwargs: Builder arguments (`image_size`, `num_classes`, ...); a
            `.keras` file fixes its own, so none go with it.

    Returns:
        A `keras_vit.models.VisionTransformer`, uncompiled as a built one is:
        a `.keras` file is checked whole first (a damaged one is refused in one
        line that names it) and loads without the compile config it was saved
        with, which `keras.saving.load_model` restores where that is wanted.

    Example:

    >>> model = build_model("Ti/16", image_size=32, num_classes=3)
    >>> model.name, model.output_shape
    ('vit_ti16', (None, 3))
    """
    if hub.is_handle(name):
        return _from_hub(name, weights, kwargs)
    if isinstance(name, str) and name.endswith(".keras"):
        return _load_model_file(name, weights, kwargs)
    variant = variants.lookup(name)
    if variant is None:
        raise ValueError(
            f"`model` must be a `.keras` file or one of {', '.join(variants.names())}. "
            f"Received: model={name!r}"
        )
    return BUILDERS[variant](weights=weights, **kwargs)


def _from_hub(handle, weights, kwargs):
    """The model a hub repository holds: its `.keras` model, or the model its checkpoint describes."""
    path = hub.local_path(handle)
    if path.endswith(".keras"):
        return _load_model_file(path, weights, kwargs)
    if weights is not None:
        raise ValueError(
            f"{handle} holds a checkpoint, which fixes the weights: pass it as weights= of a builder, or "
            f"build it alone. Received: weights={weights!r}"
        )
    return from_checkpoint(path, **kwargs)


def _load_model_file(path, weights, kwargs):
    if kwargs:
        raise ValueError(
            f"A saved model ({path}) fixes its own architecture; builder arguments apply to "
            f"names only. Received: {', '.join(f'{k}={v!r}' for k, v in sorted(kwargs.items()))}"
        )
    model = keras_file.load(path)
    if weights is not None:
        load_weights(model, weights)
    return model


def from_checkpoint(path, resample_method=None, projection=False, **overrides):
    """Builds the model a checkpoint file describes and loads it.

    The architecture (patch size, width, depth, heads, MLP width, pre-logits,
    classes, pooling, activation and LayerNorm epsilon of the source, and the
    ViT family's parts: distillation token, registers, LayerScale, CLIP's
    LayerNorm before the encoder, attention pooling, pixel mean and std) comes
    from the file alone. transformers folders of the model types `vit`,
    `deit`, `dinov2`, `dinov2_with_registers`, `siglip_vision_model` and
    `clip_vision_model` (and the image tower of a full `siglip` or `clip`
    checkpoint, whose text tower is skipped and reported) and timm hub
    folders of the same families load, and so do keras-hub preset folders of
    its ViT (backbone or image classifier), DeiT, DINOv2, SigLIP and CLIP
    (read without keras-hub); with `include_top=False` the model
    returns what the original returns as `pooler_output`. timm files fuse
    query, key and value, which hides the number of heads: it is read from
    timm's `config.json` beside the file or from the variant table for the
    published sizes, and any other size is refused unless `num_heads` is
    passed. Keys keras_vit has no place for (qk-norm, a LayerNorm
    after pooling, ...) are refused too: the model would compute something else. `overrides`
    change any builder argument, e.g. `image_size=384` (the position
    embeddings are resampled), `num_classes=37` (a fresh
    zero-initialised head), `patch_size=8` (the patch embedding is
    resampled as FlexiViT does, the position embeddings with it) or
    `input_channels=1` (the RGB kernel that takes the images is summed, as
    timm's `adapt_input_conv` does). An original hybrid `.npz` (a ResNet stem under
    `conv_root` and `block{s}/unit{u}/...`) builds a `keras_vit.ViTHybrid` with
    the file's stage depths and width; a BiT checkpoint (HF `BitModel` folder or
    timm `resnetv2_*_bit` file) builds a `keras_vit.ResNetV2`. A keras_vit
    `.keras` file is rebuilt from its saved config with `overrides` applied
    and its weights loaded the same way. A `.weights.h5` file holds no
    architecture: load it into a model with `weights=`.

    Args:
        path: str. An original `.npz`, a timm `.safetensors`/`.pth`/`.bin`, a
            HF model folder, a keras-hub preset folder, a keras_vit `.keras`
            file, or a hub handle (`hf://ORG/NAME[@REVISION]`,
            `kaggle://OWNER/MODEL/FRAMEWORK/VARIATION[/VERSION]`) of any of them.
        resample_method: str or None. `"zoom"`, `"bicubic"` or
            `"bicubic_antialias"`, for the position embeddings on load and,
            with `dynamic_image_size=True`, at every call. Defaults to None:
            the family's own for the ViT family's files (`keras_vit.ViT`'s
            `resample_method`), a `.keras` file's own, else `"zoom"`.
        projection: bool. For a CLIP image tower with its projection
            (`visual_projection`): end in it, so that the model returns
            CLIP's `image_embeds`. False ends at the pooled, normalised class
            token (`pooler_output`) and leaves the projection out, saying so.
            Defaults to False.
        **overrides: keyword arguments of `keras_vit.ViT` (or
            `keras_vit.ViTHybrid` for a hybrid, `keras_vit.ResNetV2` for BiT).

    Returns:
        A `keras_vit.models.VisionTransformer` with the checkpoint's weights
        (a `keras_vit.models.ResNetV2Model` for BiT).
    """
    path = hub.local_path(os.fspath(path))
    if path.endswith(".keras"):
        return _from_saved_model(path, resample_method, overrides)
    if path.endswith(".weights.h5"):
        raise ValueError(
            f"{path} holds weights without the architecture they belong to: build the model it was saved "
            f"from (keras_vit.ViT(...) or a named builder) with weights={path!r}, or pass the .keras file "
            "saved with it."
        )
    checkpoint = read_checkpoint(path, num_heads=overrides.get("num_heads"))
    architecture = checkpoint.architecture
    if checkpoint.format == "bit":
        fixed = {key: architecture[key] for key in ("layers", "width", "input_channels")}
        return ResNetV2(**{**fixed, **overrides}, weights=checkpoint)
    # What the file fixes; what it implies (resolution, classes, ...) the builder resolves.
    fixed = {key: value for key, value in architecture.items() if key not in IMPLIED_BY_CHECKPOINTS}
    builder = ViT if architecture.get("resnet_layers") is None else ViTHybrid
    if not projection:
        fixed["projection_dim"] = None  # CLIP's projection loads only when asked for
    elif architecture.get("projection_dim") is None:
        raise ValueError(
            f"projection=True asks for CLIP's image projection, and {path} has none "
            "('visual_projection.weight' in transformers, a CLIP tower's 'head' in timm)."
        )
    return builder(**{**fixed, **overrides}, weights=checkpoint, resample_method=resample_method)


def _from_saved_model(path, resample_method, overrides):
    """A keras_vit `.keras` file's model rebuilt with `overrides` (`ViTConfig`
    fields, and `name`), and its weights loaded: the position embeddings
    resampled to a new `image_size`, a zero head for other `num_classes`."""
    saved = keras_file.check(path)
    overrides = dict(overrides)
    name = overrides.pop("name", None) or saved.get("name") or "vit"
    fields = {field.name for field in dataclasses.fields(ViTConfig)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise ValueError(
            f"{path} is a saved model: its overrides must be fields of keras_vit.models.ViTConfig "
            f"(image_size, num_classes, ...) or `name`. Received: {', '.join(f'{k}={overrides[k]!r}' for k in unknown)}"
        )
    if resample_method is not None:
        overrides["resample_method"] = resample_method
    config = ViTConfig.from_config(saved["vit_config"])
    if "input_channels" in overrides:  # the saved RGB statistics follow, unless given
        for key in ("pixel_mean", "pixel_std"):
            overrides.setdefault(key, adapt_channel_values(getattr(config, key), overrides["input_channels"]))
    config = config.replace(**overrides)
    model = build_vit(config, name=name)
    load_weights(model, path, resample_method=config.resample_method)
    return model
