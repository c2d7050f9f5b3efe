"""timm `VisionTransformer` state dicts (`.safetensors`, or `.pth`/`.bin` as plain tensors).

timm fuses query, key and value into one `(3D, D)` matrix and stores PyTorch's
`(out, in)` Linear and `(D, C, P, P)` convolution layouts; this converter splits
and transposes them into keras_vit's `(D, heads, head_dim)` kernels.
"""

import json
import os
import re

import numpy as np

from keras_vit import variants
from keras_vit.weights.architecture import heads_for, infer_architecture
from keras_vit.weights.checkpoint import Checkpoint
from keras_vit.weights.formats.unmapped_keys import check_unused

_BLOCK = re.compile(r"^blocks\.(\d+)\.(.+)$")
# timm's model names for the paper's sizes, e.g. "vit_base_patch16_384".
_ARCHITECTURE = re.compile(r"^vit_(tiny|small|base|large|huge)_patch\d+_")
_SIZES = {"tiny": "Ti", "small": "S", "base": "B", "large": "L", "huge": "H"}
_BLOCK_NAMES = {
    "norm1.weight": "norm1/gamma",
    "norm1.bias": "norm1/beta",
    "norm2.weight": "norm2/gamma",
    "norm2.bias": "norm2/beta",
    "mlp.fc1.weight": "mlp_fc1/kernel",
    "mlp.fc1.bias": "mlp_fc1/bias",
    "mlp.fc2.weight": "mlp_fc2/kernel",
    "mlp.fc2.bias": "mlp_fc2/bias",
}
_TOP_NAMES = {
    "cls_token": "cls/token",
    "pos_embed": "pos_embedding/embedding",
    "patch_embed.proj.bias": "embedding/bias",
    "norm.weight": "encoder_norm/gamma",
    "norm.bias": "encoder_norm/beta",
    "pre_logits.fc.bias": "pre_logits/bias",
    "head.bias": "head/bias",
}
_TRANSPOSED = {"pre_logits.fc.weight": "pre_logits/kernel", "head.weight": "head/kernel"}
_ATTENTION_NAMES = ("attn.qkv.weight", "attn.qkv.bias", "attn.proj.weight", "attn.proj.bias")


def is_timm(arrays):
    return "patch_embed.proj.weight" in arrays


def read(state, path, num_heads=None):
    """Reads a timm state dict into a `Checkpoint`: keras-path arrays, the
    architecture they imply (exact GELU, as timm computes), and the harmless
    keys that map to no weight (any other such key is refused). The fused
    query/key/value kernel hides the heads: `num_heads`, else timm's
    `config.json` beside the file, else the variant table's for the paper's
    sizes; otherwise the file is refused with a request for `num_heads`."""
    _refuse_hybrid(state, path)
    width = state["patch_embed.proj.weight"].shape[0]
    depth = len({match.group(1) for key in state if (match := _BLOCK.match(key))})
    heads = num_heads or heads_from_config(path) or heads_for(width, depth, path)
    arrays, unused = convert(state, heads)
    architecture = infer_architecture(arrays, path, approximate_gelu=False)
    return Checkpoint(arrays, architecture, path, "timm", check_unused(unused, path))


def _refuse_hybrid(state, path):
    if any(k.startswith("patch_embed.backbone.") for k in state):
        raise ValueError(
            f"{path}: this timm checkpoint is a hybrid ViT (a CNN backbone under "
            "'patch_embed.backbone.'): keras_vit reads hybrids from the original "
            ".npz files only, e.g. weights='imagenet21k' of keras_vit.ViTR50B16."
        )


def heads_from_config(path):
    """The heads timm's `config.json` beside the weights names, if there is one:
    `model_args.num_heads`, or the size in its `architecture` name."""
    config_path = os.path.join(os.path.dirname(os.path.abspath(path)), "config.json")
    if not os.path.isfile(config_path):
        return None
    with open(config_path, encoding="utf-8") as file:
        config = json.load(file)
    heads = config.get("model_args", {}).get("num_heads")
    if heads:
        return int(heads)
    match = _ARCHITECTURE.match(str(config.get("architecture", "")))
    if match is None:
        return None
    size = _SIZES[match.group(1)] + "/"
    return next(v.num_heads for name, v in variants.VARIANTS.items() if name.startswith(size))


def convert(arrays, num_heads):
    """Maps a timm ViT state dict (NumPy arrays) to `{keras weight path: array}`
    and the sorted keys it has no place for."""
    result = {"embedding/kernel": arrays["patch_embed.proj.weight"].transpose(2, 3, 1, 0)}
    unused = []
    for key, value in arrays.items():
        converted = {}
        if key in _TOP_NAMES:
            converted = {_TOP_NAMES[key]: value}
        elif key in _TRANSPOSED:
            converted = {_TRANSPOSED[key]: value.T}
        elif match := _BLOCK.match(key):
            converted = _block(int(match.group(1)), match.group(2), value, num_heads)
        elif key == "patch_embed.proj.weight":
            continue
        if not converted:
            unused.append(key)
        result.update(converted)
    return result, tuple(sorted(unused))


def _block(index, name, value, num_heads):
    prefix = f"encoderblock_{index}/"
    if name in _BLOCK_NAMES:
        is_kernel = name.endswith("weight") and name.startswith("mlp")
        return {prefix + _BLOCK_NAMES[name]: value.T if is_kernel else value}
    if name not in _ATTENTION_NAMES:
        return {}
    dim = value.shape[-1] if name.endswith("weight") else value.shape[0] // 3
    head_dim = dim // num_heads
    if name == "attn.qkv.weight":
        parts = np.split(value, 3, axis=0)
        return {
            f"{prefix}attn/{part}/kernel": weight.T.reshape(dim, num_heads, head_dim)
            for part, weight in zip(("query", "key", "value"), parts)
        }
    if name == "attn.qkv.bias":
        parts = np.split(value, 3)
        return {
            f"{prefix}attn/{part}/bias": bias.reshape(num_heads, head_dim)
            for part, bias in zip(("query", "key", "value"), parts)
        }
    if name == "attn.proj.weight":
        return {f"{prefix}attn/out/kernel": value.T.reshape(num_heads, head_dim, value.shape[0])}
    return {f"{prefix}attn/out/bias": value}
