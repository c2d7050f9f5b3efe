"""timm's ViT-family architecture names, and what each implies that the weights do not show.

timm builds a model from its registered name (`vit_small_patch14_reg4_dinov2`)
and the registration's arguments, which its hub folders do not repeat: the
MLP's activation, the LayerNorm epsilon and how the position embeddings
resize. This module holds those per family, the sizes' heads, and the family
a bare state dict's keys show when no `config.json` names it.
"""

import re

import numpy as np

from keras_vit.preprocessing import CLIP_MEAN, CLIP_STD, IMAGENET_MEAN, IMAGENET_STD, PAPER_MEAN, PAPER_STD

# family: (name pattern, activation, LayerNorm epsilon, mean and std, resampling).
# Resampling None keeps keras_vit's default ("zoom", the original's).
_IMAGENET, _HALF, _CLIP = (IMAGENET_MEAN, IMAGENET_STD), (PAPER_MEAN, PAPER_STD), (CLIP_MEAN, CLIP_STD)
_RESIZED = "bicubic_antialias"  # timm's resample_abs_pos_embed
FAMILIES = {
    "deit_distilled": (r"^deit_\w+?_distilled_patch\d+_\d+$", "gelu", 1e-6, _IMAGENET, _RESIZED),
    "deit": (r"^deit_(tiny|small|base)_patch\d+_\d+$", "gelu", 1e-6, _IMAGENET, _RESIZED),
    "dinov2": (r"^vit_\w+?_patch\d+(_reg\d+)?_dinov2$", "gelu", 1e-6, _IMAGENET, _RESIZED),
    "siglip": (r"^vit_\w+?_patch\d+_siglip_(gap_)?\d+$", "gelu", 1e-6, _HALF, _RESIZED),
    "clip_quickgelu": (r"^vit_\w+?_patch\d+_clip_quickgelu_\d+$", "quick_gelu", 1e-5, _CLIP, _RESIZED),
    "clip": (r"^vit_\w+?_patch\d+_clip_\d+$", "gelu", 1e-5, _CLIP, _RESIZED),
    "vit": (r"^vit_(tiny|small|base|large|huge)_patch\d+_\d+(_in21k)?$", "gelu", 1e-6, _HALF, None),
}
KNOWN = (
    "vit_* (the paper's sizes), deit_*, deit_*_distilled_*, vit_*_dinov2, vit_*_reg4_dinov2, "
    "vit_*_siglip_*, vit_*_clip_* and vit_*_clip_quickgelu_*"
)
# timm's size names: the heads of each width, where the sizes fix them.
_SIZES = {"tiny": 3, "small": 6, "base": 12, "large": 16, "huge": 16, "giant": 24, "so400m": 16}
_SIZE = re.compile(r"^(?:vit|deit)_(tiny|small|base|large|huge|giant|so400m)_")


def family(name, path):
    """The family of timm architecture `name`; raises a `ValueError` for a name it does not know."""
    for label, (pattern, *_) in FAMILIES.items():
        if re.match(pattern, name):
            return label
    raise ValueError(
        f"{path}: timm architecture {name!r} is none of the families keras_vit reads: {KNOWN}. "
        "Its registration may set options keras_vit does not build."
    )


def heads(config):
    """The heads a timm `config.json` names (`model_args.num_heads`, or its size), or None."""
    if not config:
        return None
    model_args = config.get("model_args") or {}
    if model_args.get("num_heads"):
        return int(model_args["num_heads"])
    match = _SIZE.match(str(config.get("architecture", "")))
    return _SIZES[match.group(1)] if match else None


def options(config, state, path):
    """What the weights do not show: `activation`, `layer_norm_epsilon`,
    `pixel_mean`, `pixel_std`, the image size where the config names one, and
    the family's `resample_method`; from `config` (timm's `config.json`) or,
    without one, from the keys of `state`."""
    if config and config.get("architecture"):
        label = family(str(config["architecture"]), path)
    else:
        label = _family_of_keys(state, path)
    _, activation, epsilon, (mean, std), resample = FAMILIES[label]
    if _gated(state):
        activation = "swiglu"
    pretrained = (config or {}).get("pretrained_cfg") or {}
    found = {
        "activation": activation,
        "layer_norm_epsilon": epsilon,
        "pixel_mean": tuple(pretrained.get("mean", mean)),
        "pixel_std": tuple(pretrained.get("std", std)),
    }
    size = _image_size(config)
    if size is not None:
        found["image_size"] = size
    if resample is not None:
        found["resample_method"] = resample
    return found


def _family_of_keys(state, path):
    """A bare state dict's family, where its keys leave no choice."""
    if "norm_pre.weight" in state:
        raise ValueError(
            f"{path} is a CLIP image tower ('norm_pre'), and a bare state dict does not say "
            "whether its MLP uses OpenAI's QuickGELU or GELU, nor its LayerNorm epsilon: load "
            "the timm hub folder, or put its config.json (naming the architecture) beside the file."
        )
    if "dist_token" in state:
        return "deit_distilled"
    if "blocks.0.ls1.gamma" in state or "reg_token" in state:
        return "dinov2"
    if "attn_pool.latent" in state:
        return "siglip"
    return "vit"


def _gated(state):
    """A packed gated MLP (timm's `SwiGLUPacked`): its first Linear twice as
    wide as the second's input; a plain MLP's are equal."""
    fc1, fc2 = state.get("blocks.0.mlp.fc1.weight"), state.get("blocks.0.mlp.fc2.weight")
    return fc1 is not None and fc2 is not None and np.shape(fc1)[0] == 2 * np.shape(fc2)[1]


def _image_size(config):
    if not config:
        return None
    size = (config.get("model_args") or {}).get("img_size")
    if size is None:
        input_size = (config.get("pretrained_cfg") or {}).get("input_size")
        size = None if input_size is None else input_size[1:]
    if size is None:
        return None
    if isinstance(size, (list, tuple)):
        return size[0] if size[0] == size[1] else tuple(size)
    return size

