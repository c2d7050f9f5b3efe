"""timm `VisionTransformer` state dicts (`.safetensors`, or `.pth`/`.bin` as plain tensors).

timm fuses query, key and value into one `(3D, D)` matrix and stores PyTorch's
`(out, in)` Linear and `(D, C, P, P)` convolution layouts; this converter splits
and transposes them into keras_vit's `(D, heads, head_dim)` kernels.
"""

import re

import numpy as np

from keras_vit.weights.architecture import Checkpoint, heads_for, infer_architecture

_BLOCK = re.compile(r"^blocks\.(\d+)\.(.+)$")
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
# Parts of timm ViTs that the paper's architecture does not have.
_FOREIGN = ("fc_norm.weight", "reg_token", "dist_token", "head_dist.weight", "attn_pool.")


def is_timm(arrays):
    return "patch_embed.proj.weight" in arrays


def read(state, path, num_heads=None):
    """Reads a timm state dict into a `Checkpoint`: keras-path arrays, the
    architecture they imply (exact GELU, as timm computes), and the keys that
    map to no weight. Heads: `num_heads`, else `heads_for` the file's size."""
    width = state["patch_embed.proj.weight"].shape[0]
    depth = len({match.group(1) for key in state if (match := _BLOCK.match(key))})
    arrays, unused = convert(state, num_heads or heads_for(width, depth))
    architecture = infer_architecture(arrays, path, approximate_gelu=False)
    return Checkpoint(arrays, architecture, path, "timm", unused)


def convert(arrays, num_heads):
    """Maps a timm ViT state dict (NumPy arrays) to `{keras weight path: array}`
    and the sorted keys it has no place for."""
    if any(k.startswith("patch_embed.backbone.") for k in arrays):
        raise ValueError(
            "This timm checkpoint is a hybrid ViT (a CNN backbone under "
            "'patch_embed.backbone.'): keras_vit reads hybrids from the original "
            ".npz files only, e.g. weights='imagenet21k' of keras_vit.ViTR50B16."
        )
    foreign = sorted(k for k in arrays if k.startswith(_FOREIGN))
    if foreign:
        raise ValueError(
            f"This timm checkpoint has parts the paper's ViT lacks ({', '.join(foreign[:3])}): "
            "a model with a norm after pooling, register or distillation tokens, or "
            "attention pooling is another architecture."
        )
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
    if name == "attn.proj.bias":
        return {f"{prefix}attn/out/bias": value}
    return {}
