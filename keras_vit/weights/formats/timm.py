"""timm `VisionTransformer` state dicts (`.safetensors`, or `.pth`/`.bin` as plain tensors).

timm fuses query, key and value into one `(3D, D)` matrix and stores PyTorch's
`(out, in)` Linear and `(D, C, P, P)` convolution layouts; this converter splits
and transposes them into keras_vit's `(D, heads, head_dim)` kernels.
"""

import re

import numpy as np

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


def convert(arrays, num_heads):
    """Maps a timm ViT state dict (NumPy arrays) to `{keras weight path: array}`."""
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
    for key, value in arrays.items():
        if key in _TOP_NAMES:
            result[_TOP_NAMES[key]] = value
        elif key in _TRANSPOSED:
            result[_TRANSPOSED[key]] = value.T
        elif match := _BLOCK.match(key):
            result.update(_block(int(match.group(1)), match.group(2), value, num_heads))
    return result


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
