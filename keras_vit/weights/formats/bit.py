"""BiT ResNetV2 weights: HF transformers' `BitModel` / `BitForImageClassification`
(a folder with `config.json`, or a state-dict file) and timm's `resnetv2_*_bit`.

The two name the same tensors differently (`bit.embedder.convolution` and
`stem.conv`, `bit.encoder.stages.0.layers.0` and `stages.0.blocks.0`,
`classifier.1` and `head.fc`); HF's names are mapped onto timm's, then onto
keras_vit's (`conv_root`, `block1/unit1/gn1`, ..., `norm`, `head`).
"""

import json
import os
import re

from keras_vit.weights.architecture import stem_depths
from keras_vit.weights.checkpoint import Checkpoint
from keras_vit.weights.formats.state_dict import read_state_dict
from keras_vit.weights.formats.unmapped_keys import check_unused

_ROOT_KEYS = ("stem.conv.weight", "embedder.convolution.weight", "bit.embedder.convolution.weight")
_UNIT = re.compile(r"^stages\.(\d+)\.blocks\.(\d+)\.(norm[123]|conv[123]|downsample\.conv)\.(weight|bias)$")
_UNIT_NAMES = {"norm1": "gn1", "norm2": "gn2", "norm3": "gn3", "downsample.conv": "conv_proj"}
_NORM = {"weight": "gamma", "bias": "beta"}
# The HF config fields that change what BiT computes, and the values keras_vit computes.
_HF_CONFIG = {
    "layer_type": "preactivation",
    "global_padding": None,
    "embedding_dynamic_padding": False,
    "hidden_act": "relu",
    "num_groups": 32,
    "output_stride": 32,
}


def is_bit(state):
    """Whether a state dict holds BiT weights, in timm's or HF's names."""
    return any(key in state for key in _ROOT_KEYS)


def is_bit_folder(path):
    """Whether `path` is a HF model folder whose `config.json` says `model_type: bit`."""
    config_path = os.path.join(path, "config.json")
    if not os.path.isfile(config_path):
        return False
    try:
        with open(config_path, encoding="utf-8") as file:
            config = json.load(file)
    except (OSError, ValueError):
        return False
    return isinstance(config, dict) and config.get("model_type") == "bit"


def read_folder(path):
    """Reads a HF BiT folder (`config.json`, `model.safetensors`) into a `Checkpoint`;
    a config that computes something else than BiT's ResNetV2 is refused."""
    weights_path = os.path.join(path, "model.safetensors")
    if not os.path.exists(weights_path):
        raise ValueError(f"{path} is a folder but has no model.safetensors: a HF model folder holds both.")
    with open(os.path.join(path, "config.json"), encoding="utf-8") as file:
        config = json.load(file)
    for field, expected in _HF_CONFIG.items():
        value = config.get(field, expected)
        if isinstance(value, str) and isinstance(expected, str):
            value = value.lower()
        if value != expected:
            raise ValueError(
                f"{path}/config.json has {field}={config[field]!r}; keras_vit.ResNetV2 computes "
                f"BiT's pre-activation ResNetV2, whose HF config has {field}={expected!r}."
            )
    return read(read_state_dict(weights_path), path)


def read(state, path):
    """Reads BiT weights (timm's or HF's names) into a `Checkpoint` whose
    architecture holds `layers`, `width`, `input_channels`, `include_top` and,
    with a head, `num_classes`. Keys that map to no weight are refused."""
    arrays, unused = convert(state)
    unused = check_unused(unused, path, model="BiT's ResNetV2", known_parts={})
    return Checkpoint(arrays, architecture(arrays, path), path, "bit", unused)


def convert(state):
    """Maps BiT weights (NumPy arrays, timm's or HF's names) to
    `{keras weight path: array}` and the sorted keys it has no place for."""
    result, unused = {}, []
    for key, value in state.items():
        name = timm_name(key)
        converted = _top_level(name, value)
        if converted is None and (match := _UNIT.match(name)):
            converted = _unit(*match.groups(), value)
        if converted is None:
            unused.append(key)
        else:
            result[converted[0]] = converted[1]
    return result, tuple(sorted(unused))


def timm_name(key):
    """timm's name for a BiT key in HF's names (`bit.encoder.stages.0.layers.1.conv1.weight`
    is `stages.0.blocks.1.conv1.weight`); timm's names are returned as they are."""
    if key.startswith("bit."):
        key = key[len("bit."):]
    if key.startswith("embedder.convolution."):
        return "stem.conv." + key[len("embedder.convolution."):]
    if match := re.match(r"^encoder\.stages\.(\d+)\.layers\.(\d+)\.(.+)$", key):
        return f"stages.{match.group(1)}.blocks.{match.group(2)}.{match.group(3)}"
    if match := re.match(r"^classifier\.1\.(weight|bias)$", key):
        return f"head.fc.{match.group(1)}"
    return key


def _top_level(name, value):
    if name == "stem.conv.weight":
        return "conv_root/kernel", _conv(value)
    if name in ("norm.weight", "norm.bias"):
        return f"norm/{_NORM[name.split('.')[-1]]}", value
    if name == "head.fc.weight":  # timm's 1x1 convolution or HF's Linear, (classes, channels, ...)
        return "head/kernel", value.reshape(value.shape[0], -1).T
    if name == "head.fc.bias":
        return "head/bias", value
    return None


def _unit(stage, unit, part, kind, value):
    prefix = f"block{int(stage) + 1}/unit{int(unit) + 1}/{_UNIT_NAMES.get(part, part)}"
    if part.startswith("norm"):
        return f"{prefix}/{_NORM[kind]}", value
    if kind == "weight":
        return f"{prefix}/kernel", _conv(value)
    return None  # BiT's convolutions have no bias: a file with one is another model


def _conv(value):
    """PyTorch's `(out, in, kh, kw)` kernel as Keras' `(kh, kw, in, out)`."""
    return value.transpose(2, 3, 1, 0)


def architecture(arrays, path):
    """`keras_vit.ResNetV2` arguments from converted BiT arrays' shapes."""
    layers = stem_depths(arrays)
    if layers is None:
        raise ValueError(f"{path} has no root convolution: not the weights of a BiT ResNetV2.")
    _, _, channels, root_width = arrays["conv_root/kernel"].shape
    factor = root_width / 64
    found = {
        "layers": layers,
        "width": int(factor) if factor.is_integer() else factor,
        "input_channels": int(channels),
        "include_top": "head/kernel" in arrays,
    }
    if found["include_top"]:
        found["num_classes"] = int(arrays["head/kernel"].shape[-1])
    return found
