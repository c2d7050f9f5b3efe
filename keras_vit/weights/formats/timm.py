"""timm `VisionTransformer` checkpoints: hub folders and bare state dicts.

A timm hub folder is what `timm.models.push_to_hub.save_for_hf` writes:
`config.json` (the `architecture` name, optional `model_args`, and the
`pretrained_cfg` with the pixel mean and std) and `model.safetensors`. Bare
state dicts are `.safetensors`, or `.pth`/`.bin` as plain tensors. timm fuses
query, key and value into one `(3D, D)` matrix and stores PyTorch's `(out,
in)` Linear and `(D, C, P, P)` convolution layouts; this converter splits and
transposes them into keras_vit's `(D, heads, head_dim)` kernels. The ViT
family's parts map to the layers `keras_vit.ViT` builds for them (the
architecture names and what each implies: `timm_families.py`).
"""

import math
import os
import re

import numpy as np

from keras_vit.weights.architecture import heads_for, infer_architecture
from keras_vit.weights.checkpoint import Checkpoint
from keras_vit.weights.formats import timm_families
from keras_vit.weights.formats.hf_config import read_json_object
from keras_vit.weights.formats.state_dict import read_state_dict
from keras_vit.weights.formats.unmapped_keys import check_unused

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
    "ls1.gamma": "ls1/gamma",
    "ls2.gamma": "ls2/gamma",
}
_TOP_NAMES = {
    "cls_token": "cls/token",
    "pos_embed": "pos_embedding/embedding",
    "patch_embed.proj.bias": "embedding/bias",
    "norm.weight": "encoder_norm/gamma",
    "norm.bias": "encoder_norm/beta",
    "pre_logits.fc.bias": "pre_logits/bias",
    "head.bias": "head/bias",
    "dist_token": "dist/token",
    "head_dist.bias": "head_dist/bias",
    "reg_token": "registers/tokens",
    "norm_pre.weight": "pre_norm/gamma",
    "norm_pre.bias": "pre_norm/beta",
    "attn_pool.latent": "pooling/probe",
    "attn_pool.proj.bias": "pooling/out/bias",
    "attn_pool.norm.weight": "pooling/norm/gamma",
    "attn_pool.norm.bias": "pooling/norm/beta",
    "attn_pool.mlp.fc1.bias": "pooling/mlp_fc1/bias",
    "attn_pool.mlp.fc2.bias": "pooling/mlp_fc2/bias",
}
_TRANSPOSED = {
    "pre_logits.fc.weight": "pre_logits/kernel",
    "head.weight": "head/kernel",
    "head_dist.weight": "head_dist/kernel",
    "attn_pool.mlp.fc1.weight": "pooling/mlp_fc1/kernel",
    "attn_pool.mlp.fc2.weight": "pooling/mlp_fc2/kernel",
}
_ATTENTION_NAMES = ("attn.qkv.weight", "attn.qkv.bias", "attn.proj.weight", "attn.proj.bias")


def is_timm(arrays):
    return "patch_embed.proj.weight" in arrays


def hub_folder_config(path):
    """The `config.json` of the folder at `path` if it is a timm hub folder (its
    config names an `architecture`; transformers' names a `model_type`), else None."""
    config = _folder_config(path)
    return config if config is not None and "architecture" in config and "model_type" not in config else None


def read_folder(path, num_heads=None, config=None):
    """Reads a timm hub folder (`config.json` and `model.safetensors`) into a
    `Checkpoint`; `config` is its `config.json`, read here if not given."""
    weights = os.path.join(path, "model.safetensors")
    if not os.path.exists(weights):
        raise ValueError(
            f"{path} is a timm hub folder (its config.json names an architecture) but has no "
            "model.safetensors: keras_vit reads timm weights as safetensors."
        )
    config = _folder_config(path) if config is None else config
    return read(read_state_dict(weights), weights, num_heads, config=config)


def _folder_config(path):
    config_path = os.path.join(path, "config.json")
    return read_json_object(config_path) if os.path.isfile(config_path) else None


def read(state, path, num_heads=None, config=None):
    """Reads a timm state dict into a `Checkpoint`: keras-path arrays, the
    architecture they imply, and the harmless keys that map to no weight (any
    other such key is refused).

    `config` is timm's `config.json` (for a bare file: the one beside it, if
    any): its `architecture` name gives the family's activation, LayerNorm
    epsilon and pixel mean and std, its `model_args` the heads. Without one
    the keys must say it all: the heads follow the paper's and the family's
    sizes, and a file whose activation the keys leave open (a CLIP tower,
    QuickGELU or not) is refused, naming what is missing.
    """
    _refuse_hybrid(state, path)
    if config is None:
        config = _folder_config(os.path.dirname(os.path.abspath(path)))
    family = timm_families.options(config, state, path)
    width = state["patch_embed.proj.weight"].shape[0]
    depth = len({match.group(1) for key in state if (match := _BLOCK.match(key))})
    heads = num_heads or timm_families.heads(config) or heads_for(width, depth, path)
    arrays, unused = convert(state, heads)
    architecture = infer_architecture(arrays, path, activation=family.pop("activation"))
    architecture.update(family)
    return Checkpoint(arrays, architecture, path, "timm", check_unused(unused, path))


def _refuse_hybrid(state, path):
    if any(k.startswith("patch_embed.backbone.") for k in state):
        raise ValueError(
            f"{path}: this timm checkpoint is a hybrid ViT (a CNN backbone under "
            "'patch_embed.backbone.'): keras_vit reads hybrids from the original "
            ".npz files only, e.g. weights='imagenet21k' of keras_vit.ViTR50B16."
        )


def convert(arrays, num_heads):
    """Maps a timm ViT state dict (NumPy arrays) to `{keras weight path: array}`
    and the sorted keys it has no place for.

    A position embedding without rows for the class and distillation tokens
    (timm's `no_embed_class`, as its DINOv2 with registers holds it, the class
    token's row folded into the token) gets zero rows for them: the same sums.
    """
    result = {"embedding/kernel": arrays["patch_embed.proj.weight"].transpose(2, 3, 1, 0)}
    unused = []
    for key, value in arrays.items():
        converted = {}
        if key in _TOP_NAMES:
            converted = {_TOP_NAMES[key]: value}
        elif key in _TRANSPOSED:
            converted = {_TRANSPOSED[key]: value.T}
        elif key.startswith("attn_pool."):
            converted = _attention_pool(key[len("attn_pool.") :], value, num_heads)
        elif match := _BLOCK.match(key):
            converted = _block(int(match.group(1)), match.group(2), value, num_heads)
        elif key == "patch_embed.proj.weight":
            continue
        if not converted:
            unused.append(key)
        result.update(converted)
    _embed_prefix(result, arrays)
    return result, tuple(sorted(unused))


def _embed_prefix(result, arrays):
    embedding = result.get("pos_embedding/embedding")
    prefix = ("cls_token" in arrays) + ("dist_token" in arrays)
    if embedding is None or not prefix:
        return
    patches = embedding.shape[1]
    if math.isqrt(patches) ** 2 == patches and math.isqrt(patches - prefix) ** 2 != patches - prefix:
        zeros = np.zeros((1, prefix, embedding.shape[2]), embedding.dtype)
        result["pos_embedding/embedding"] = np.concatenate([zeros, embedding], axis=1)


def _attention_pool(name, value, num_heads):
    """timm's `AttentionPoolLatent`: a query projection `q` of the latent, a
    fused key-value projection `kv`, then `proj`."""
    if name in ("q.weight", "q.bias"):
        parts = {"query": value}
    elif name in ("kv.weight", "kv.bias"):
        parts = dict(zip(("key", "value"), np.split(value, 2, axis=0)))
    elif name == "proj.weight":
        return {"pooling/out/kernel": value.T.reshape(num_heads, -1, value.shape[0])}
    else:
        return {}
    if name.endswith("bias"):
        return {f"pooling/{part}/bias": array.reshape(num_heads, -1) for part, array in parts.items()}
    return {f"pooling/{part}/kernel": array.T.reshape(array.shape[1], num_heads, -1) for part, array in parts.items()}


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
