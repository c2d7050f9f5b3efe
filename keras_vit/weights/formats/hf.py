"""Hugging Face `ViTModel` / `ViTForImageClassification` weights, in either naming.

Checkpoints on the Hub name parameters as transformers 4 did
(`vit.encoder.layer.0.attention.attention.query.weight`); transformers 5 names them
`vit.layers.0.attention.q_proj.weight`. Both map to the same keras weight paths.
"""

import json
import os
import re

from keras_vit.weights.architecture import heads_for, infer_architecture
from keras_vit.weights.checkpoint import Checkpoint
from keras_vit.weights.formats.state_dict import read_state_dict
from keras_vit.weights.formats.unmapped_keys import check_unused

_BLOCK_PATTERNS = [
    (r"(?:encoder\.layer|layers)\.(\d+)\.attention\.(?:attention\.query|q_proj)\.(weight|bias)", "attn/query"),
    (r"(?:encoder\.layer|layers)\.(\d+)\.attention\.(?:attention\.key|k_proj)\.(weight|bias)", "attn/key"),
    (r"(?:encoder\.layer|layers)\.(\d+)\.attention\.(?:attention\.value|v_proj)\.(weight|bias)", "attn/value"),
    (r"(?:encoder\.layer|layers)\.(\d+)\.attention\.(?:output\.dense|o_proj)\.(weight|bias)", "attn/out"),
    (r"(?:encoder\.layer|layers)\.(\d+)\.layernorm_before\.(weight|bias)", "norm1"),
    (r"(?:encoder\.layer|layers)\.(\d+)\.layernorm_after\.(weight|bias)", "norm2"),
    (r"(?:encoder\.layer|layers)\.(\d+)\.(?:intermediate\.dense|mlp\.fc1)\.(weight|bias)", "mlp_fc1"),
    (r"(?:encoder\.layer|layers)\.(\d+)\.(?:output\.dense|mlp\.fc2)\.(weight|bias)", "mlp_fc2"),
]
_BLOCK_PATTERNS = [(re.compile(r"^(?:vit\.)?" + p + "$"), name) for p, name in _BLOCK_PATTERNS]
_NORM = {"weight": "gamma", "bias": "beta"}
_LINEAR = {"weight": "kernel", "bias": "bias"}


_PATCH_KERNEL = "embeddings.patch_embeddings.projection.weight"
# The fields of config.json that have no default.
_REQUIRED = ("hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size")


def is_hf(arrays):
    return any(key.endswith(_PATCH_KERNEL) for key in arrays)


def read_folder(path, num_heads=None):
    """Reads a HF model folder (`config.json` and `model.safetensors`) into a `Checkpoint`;
    the config gives the heads, resolution, GELU and LayerNorm epsilon."""
    config_path = os.path.join(path, "config.json")
    weights_path = os.path.join(path, "model.safetensors")
    for required in (config_path, weights_path):
        if not os.path.exists(required):
            raise ValueError(
                f"{path} is a folder but has no {os.path.basename(required)}: a HF "
                "model folder holds config.json and model.safetensors."
            )
    config = read_config(config_path)
    checkpoint = read(read_state_dict(weights_path), path, num_heads or config["num_heads"])
    checkpoint.architecture.update(
        image_size=config["image_size"],
        layer_norm_epsilon=config["layer_norm_epsilon"],
        approximate_gelu=config["approximate_gelu"],
    )
    return checkpoint


def read(state, path, num_heads=None):
    """Reads HF ViT weights into a `Checkpoint`: keras-path arrays, the
    architecture they imply (exact GELU, HF's default), and the harmless keys
    that map to no weight (any other such key is refused). Heads: `num_heads`
    (a folder's `config.json` gives them), else the variant table's for the
    paper's sizes; otherwise the file is refused with a request for `num_heads`."""
    kernel = next((v for k, v in state.items() if k.endswith(_PATCH_KERNEL)), None)
    if kernel is None:
        raise ValueError(f"{path} has no '{_PATCH_KERNEL}': not the weights of a HF ViT.")
    width = kernel.shape[0]
    depth = len({match.group(1) for key in state for pattern, _ in _BLOCK_PATTERNS if (match := pattern.match(key))})
    arrays, unused = convert(state, num_heads or heads_for(width, depth, path))
    architecture = infer_architecture(arrays, path, approximate_gelu=False)
    return Checkpoint(arrays, architecture, path, "hf", check_unused(unused, path))


def read_config(path):
    """The fields of a HF `config.json` that fix the architecture, as builder arguments."""
    with open(path, encoding="utf-8", errors="replace") as file:
        try:
            config = json.load(file)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path} is not a readable model config: {error}.") from None
    if not isinstance(config, dict):
        raise ValueError(f"{path} is not a readable model config: a JSON object is expected.")
    if config.get("model_type", "vit") != "vit":
        raise ValueError(f"{path} describes a '{config['model_type']}' model, not 'vit'.")
    missing = [key for key in _REQUIRED if key not in config]
    if missing:
        raise ValueError(f"{path} is not a readable model config: it has no {', '.join(missing)}.")
    return {
        "image_size": config.get("image_size", 224),
        "patch_size": config.get("patch_size", 16),
        "hidden_dim": config["hidden_size"],
        "num_layers": config["num_hidden_layers"],
        "num_heads": config["num_attention_heads"],
        "mlp_dim": config["intermediate_size"],
        "num_channels": config.get("num_channels", 3),
        "layer_norm_epsilon": config.get("layer_norm_eps", 1e-12),
        "approximate_gelu": config.get("hidden_act", "gelu") in ("gelu_new", "gelu_pytorch_tanh"),
    }


def convert(arrays, num_heads):
    """Maps HF ViT weights (NumPy arrays) to `{keras weight path: array}` and
    the sorted keys it has no place for."""
    result, unused = {}, []
    for key, value in arrays.items():
        stripped = key[4:] if key.startswith("vit.") else key
        path = _top_level(stripped, value)
        if path:
            result[path[0]] = path[1]
            continue
        for pattern, name in _BLOCK_PATTERNS:
            if match := pattern.match(key):
                index, kind = int(match.group(1)), match.group(2)
                result.update(_block_weight(f"encoderblock_{index}/{name}", kind, value, num_heads))
                break
        else:
            unused.append(key)
    return result, tuple(sorted(unused))


def _top_level(key, value):
    if key == "embeddings.patch_embeddings.projection.weight":
        return "embedding/kernel", value.transpose(2, 3, 1, 0)
    if key == "embeddings.patch_embeddings.projection.bias":
        return "embedding/bias", value
    if key == "embeddings.cls_token":
        return "cls/token", value
    if key == "embeddings.position_embeddings":
        return "pos_embedding/embedding", value
    if key in ("layernorm.weight", "layernorm.bias"):
        return f"encoder_norm/{_NORM[key.split('.')[-1]]}", value
    if key in ("pooler.dense.weight", "classifier.weight"):
        return f"{'pre_logits' if key[0] == 'p' else 'head'}/kernel", value.T
    if key in ("pooler.dense.bias", "classifier.bias"):
        return f"{'pre_logits' if key[0] == 'p' else 'head'}/bias", value
    return None


def _block_weight(prefix, kind, value, num_heads):
    if prefix.endswith(("norm1", "norm2")):
        return {f"{prefix}/{_NORM[kind]}": value}
    if not prefix.endswith(("query", "key", "value", "out")):
        return {f"{prefix}/{_LINEAR[kind]}": value.T if kind == "weight" else value}
    if prefix.endswith("out"):
        if kind == "bias":
            return {f"{prefix}/bias": value}
        return {f"{prefix}/kernel": value.T.reshape(num_heads, -1, value.shape[0])}
    if kind == "bias":
        return {f"{prefix}/bias": value.reshape(num_heads, -1)}
    return {f"{prefix}/kernel": value.T.reshape(value.shape[1], num_heads, -1)}
