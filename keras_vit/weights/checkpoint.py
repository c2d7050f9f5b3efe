"""Reads a checkpoint file of any supported format into keras weight paths and an architecture."""

import dataclasses
import math
import os
import re

import numpy as np

from keras_vit.models.config import VARIANTS, stem_stride
from keras_vit.weights.formats import flax_npz, hf, timm


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    """A checkpoint's arrays under keras weight paths, and what they imply.

    Attributes:
        arrays: dict. Keras weight path to float32 array.
        architecture: dict. Builder keyword arguments inferred from the file.
        path: str. Where it was read from.
        format: str. `"flax_npz"`, `"timm"` or `"hf"`.
        unused: tuple. Keys of the file that map to no weight.
    """

    arrays: dict
    architecture: dict
    path: str
    format: str
    unused: tuple = ()


def read_checkpoint(path, num_heads=None):
    """Reads an original `.npz`, a timm state dict or a HF folder or file.

    Args:
        path: str. A `.npz`, `.safetensors`, `.pth`/`.bin` file, or a HF folder
            holding `config.json` and `model.safetensors`.
        num_heads: int or None. Attention heads, for formats whose fused or
            flattened kernels do not show them (timm, HF without config). None
            infers them from the variant table, else assumes 64-wide heads.
            Defaults to None.

    Returns:
        A `Checkpoint`.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"No checkpoint at {path}.")
    if os.path.isdir(path):
        return _read_hf_folder(path, num_heads)
    if path.endswith(".npz"):
        raw = flax_npz.read(path)
        arrays = flax_npz.convert(raw)
        architecture = infer_architecture(arrays, path, approximate_gelu=True)
        return Checkpoint(arrays, architecture, path, "flax_npz", tuple(flax_npz.unknown_keys(raw)))
    if path.endswith((".safetensors", ".pth", ".bin", ".pt")):
        return _from_state_dict(_read_state_dict(path), path, num_heads, config=None)
    raise ValueError(
        f"Unknown checkpoint format for {path}: expected .npz (original), .safetensors, "
        ".pth or .bin (timm or HF), or a HF model folder."
    )


def _read_hf_folder(path, num_heads):
    config_path = os.path.join(path, "config.json")
    weights_path = os.path.join(path, "model.safetensors")
    for required in (config_path, weights_path):
        if not os.path.exists(required):
            raise ValueError(
                f"{path} is a folder but has no {os.path.basename(required)}: a HF "
                "model folder holds config.json and model.safetensors."
            )
    config = hf.read_config(config_path)
    return _from_state_dict(_read_state_dict(weights_path), path, num_heads or config["num_heads"], config)


def _from_state_dict(state, path, num_heads, config):
    if timm.is_timm(state):
        kind, module, gelu = "timm", timm, False
    elif hf.is_hf(state):
        kind, module, gelu = "hf", hf, False
    else:
        raise ValueError(
            f"{path} holds no ViT weights that keras_vit knows: expected timm's "
            "'patch_embed.proj.weight' or HF's 'embeddings.patch_embeddings.projection.weight'."
        )
    heads = num_heads or _guess_heads(state, kind)
    arrays = module.convert(state, heads)
    architecture = infer_architecture(arrays, path, approximate_gelu=gelu)
    if config is not None:
        architecture.update(
            image_size=config["image_size"],
            layer_norm_epsilon=config["layer_norm_epsilon"],
            approximate_gelu=config["approximate_gelu"],
        )
    return Checkpoint(arrays, architecture, path, kind)


def _guess_heads(state, kind):
    kernel = state["patch_embed.proj.weight"] if kind == "timm" else next(
        v for k, v in state.items() if k.endswith("embeddings.patch_embeddings.projection.weight")
    )
    width = kernel.shape[0]
    depth = len({m.group(1) for k in state if (m := re.search(r"(?:blocks|layer|layers)\.(\d+)\.", k))})
    for variant in VARIANTS.values():
        if (variant.hidden_dim, variant.num_layers) == (width, depth):
            return variant.num_heads
    return max(1, width // 64)


def _read_state_dict(path):
    if path.endswith(".safetensors"):
        from safetensors.numpy import load_file

        try:
            state = load_file(path)
        except Exception as error:
            raise ValueError(f"{path} is not a readable safetensors file ({error}).") from None
        return {k: _float32(v) for k, v in state.items()}
    return _read_torch_file(path)


def _read_torch_file(path):
    try:
        import torch
    except ImportError:
        raise ImportError(
            f"Reading {path} needs PyTorch; install it, or convert the file to "
            ".safetensors."
        ) from None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise ValueError(
            f"{path} cannot be loaded as plain tensors (torch.load with "
            f"weights_only=True): {str(error).splitlines()[0]}. keras_vit never runs "
            "code from a checkpoint."
        ) from None
    for key in ("state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    return {k: v.float().numpy() for k, v in state.items() if hasattr(v, "numpy")}


def _float32(array):
    return np.asarray(array, dtype=np.float32)


def stem_depths(paths):
    """The units per ResNet stage that weight paths hold; None without a stem.

    A hybrid's stem is `conv_root`, then `block{s}/unit{u}/...` for every stage
    `s` and unit `u`, as in the original checkpoints; `()` is the root alone.
    """
    paths = set(paths)
    if "conv_root/kernel" not in paths:
        return None
    depths = []
    while f"block{len(depths) + 1}/unit1/conv1/kernel" in paths:
        stage, units = len(depths) + 1, 1
        while f"block{stage}/unit{units + 1}/conv1/kernel" in paths:
            units += 1
        depths.append(units)
    return tuple(depths)


def stem_mismatch(found, expected, source):
    """An error message if a checkpoint's stem is not the expected one, else None.

    `found` and `expected` are `stem_depths` results: None for a plain ViT.
    """
    if found == expected:
        return None
    if expected is None:
        return (
            f"{source} is a hybrid checkpoint (a ResNet stem, resnet_layers={found}); "
            "this builder or model is a plain ViT without a stem. keras_vit.ViTHybrid "
            "or keras_vit.from_checkpoint builds it."
        )
    if found is None:
        return (
            f"{source} is a plain ViT checkpoint (no ResNet stem: no 'conv_root/kernel'); "
            f"this builder or model is a hybrid with resnet_layers={expected}. "
            "keras_vit.ViT or keras_vit.from_checkpoint builds it."
        )
    return (
        f"{source} has a ResNet stem of other stage depths: resnet_layers={found}; "
        f"this builder or model expects resnet_layers={expected}."
    )


def infer_architecture(arrays, path, approximate_gelu):
    """Builder keyword arguments from converted arrays' shapes alone.

    A hybrid's also holds `resnet_layers` and `resnet_width`; a plain ViT's
    has neither.
    """
    if "embedding/kernel" not in arrays or "encoderblock_0/attn/query/kernel" not in arrays:
        raise ValueError(f"{path} has no patch embedding or first encoder block: not a ViT checkpoint.")
    patch, _, channels, width = arrays["embedding/kernel"].shape
    pooling = "token" if "cls/token" in arrays else "gap"
    stem = _stem(arrays)
    stride = patch
    if stem:
        channels = arrays["conv_root/kernel"].shape[2]
        stride *= stem_stride(stem["resnet_layers"])
    architecture = {
        "patch_size": int(patch),
        "hidden_dim": int(width),
        "num_layers": _count_blocks(arrays),
        "num_heads": int(arrays["encoderblock_0/attn/query/kernel"].shape[1]),
        "mlp_dim": int(arrays["encoderblock_0/mlp_fc1/kernel"].shape[1]),
        "num_channels": int(channels),
        "pooling": pooling,
        "image_size": _image_size(arrays, stride, pooling, path),
        "approximate_gelu": approximate_gelu,
        "include_top": "head/kernel" in arrays,
        "representation_size": None,
        **stem,
    }
    if "pre_logits/kernel" in arrays:
        architecture["representation_size"] = int(arrays["pre_logits/kernel"].shape[1])
    if "head/kernel" in arrays:
        architecture["num_classes"] = int(arrays["head/kernel"].shape[1])
    return architecture


def _stem(arrays):
    depths = stem_depths(arrays)
    if depths is None:
        return {}
    root_width = arrays["conv_root/kernel"].shape[-1]
    factor = root_width / 64
    return {"resnet_layers": depths, "resnet_width": int(factor) if factor.is_integer() else factor}


def _count_blocks(arrays):
    count = 0
    while f"encoderblock_{count}/attn/query/kernel" in arrays:
        count += 1
    return count


def _image_size(arrays, stride, pooling, path):
    tokens = arrays["pos_embedding/embedding"].shape[1] - (1 if pooling == "token" else 0)
    side = math.isqrt(tokens)
    if side * side != tokens:
        raise ValueError(
            f"{path}: {tokens} position embeddings form no square grid; pass "
            "image_size=(height, width) to say which grid they were trained on."
        )
    return int(side * stride)
