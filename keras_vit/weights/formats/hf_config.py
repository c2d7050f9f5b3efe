"""A transformers `config.json` of the ViT family, as keras_vit's architecture fields.

Each supported `model_type` has transformers' defaults for the fields a
config may leave out (a full CLIP or SigLIP checkpoint keeps only what differs
in its `vision_config`), the family's pixel mean and std where the folder has
no `preprocessor_config.json`, and how the family resizes its position
embeddings for another input size.
"""

import json
import os

from keras_vit.preprocessing import CLIP_MEAN, CLIP_STD, IMAGENET_MEAN, IMAGENET_STD, PAPER_MEAN, PAPER_STD

_COMMON = {
    "hidden_size": 768,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "intermediate_size": 3072,
    "num_channels": 3,
    "image_size": 224,
    "patch_size": 16,
    "hidden_act": "gelu",
}
# model type: (defaults, pixel mean and std, position-embedding resampling).
# Resampling None keeps keras_vit's default ("zoom", the original's).
FAMILIES = {
    "vit": ({**_COMMON, "layer_norm_eps": 1e-12}, (PAPER_MEAN, PAPER_STD), None),
    "deit": ({**_COMMON, "layer_norm_eps": 1e-12}, (IMAGENET_MEAN, IMAGENET_STD), "bicubic"),
    # transformers resizes DINOv2's table with plain bicubic, as the original
    # without registers does; the models with registers resize it antialiased.
    "dinov2": (
        {**_COMMON, "patch_size": 14, "mlp_ratio": 4, "layer_norm_eps": 1e-6, "use_swiglu_ffn": False},
        (IMAGENET_MEAN, IMAGENET_STD),
        "bicubic",
    ),
    "dinov2_with_registers": (
        {**_COMMON, "patch_size": 14, "mlp_ratio": 4, "layer_norm_eps": 1e-6, "use_swiglu_ffn": False,
         "num_register_tokens": 4},
        (IMAGENET_MEAN, IMAGENET_STD),
        "bicubic_antialias",
    ),
    "siglip_vision_model": (
        {**_COMMON, "hidden_act": "gelu_pytorch_tanh", "layer_norm_eps": 1e-6},
        (PAPER_MEAN, PAPER_STD),
        "bicubic",
    ),
    "clip_vision_model": (
        {**_COMMON, "patch_size": 32, "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5, "projection_dim": 512},
        (CLIP_MEAN, CLIP_STD),
        "bicubic",
    ),
}
# Full image-text checkpoints: the image tower's model type.
TOWERS = {"siglip": "siglip_vision_model", "clip": "clip_vision_model"}
MODEL_TYPES = (*FAMILIES, *TOWERS)
_ACTIVATIONS = {
    "gelu": "gelu",
    "gelu_pytorch_tanh": "gelu_tanh",
    "gelu_new": "gelu_tanh",
    "quick_gelu": "quick_gelu",
}


def read(path):
    """The architecture fields of the transformers `config.json` at `path`.

    Returns a dict with `model_type` (the image model's), `num_heads`,
    `hidden_dim`, `num_layers`, `mlp_dim`, `patch_size`, `image_size`,
    `input_channels`, `layer_norm_epsilon`, `activation`, `num_registers`,
    `projection_dim` (CLIP), `pixel_mean`, `pixel_std` and `resample_method`.
    """
    config = read_json_object(path)
    model_type = config.get("model_type", "vit")
    if model_type in TOWERS:
        vision = config.get("vision_config") or {}
        if not isinstance(vision, dict):
            raise ValueError(f"{path}: `vision_config` must be a JSON object. Received: {vision!r}")
        projection = config.get("projection_dim", 512) if model_type == "clip" else None
        model_type = TOWERS[model_type]
        config = {**vision, "model_type": model_type}
        if projection is not None:
            config["projection_dim"] = projection
    if model_type not in FAMILIES:
        raise ValueError(
            f"{path} describes a {model_type!r} model. keras_vit reads the transformers model types "
            f"{', '.join(repr(t) for t in MODEL_TYPES)}."
        )
    defaults, (mean, std), resample = FAMILIES[model_type]
    fields = {**defaults, **config}
    mean, std = _normalization(os.path.dirname(path), mean, std)
    return {
        "model_type": model_type,
        "num_heads": fields["num_attention_heads"],
        "hidden_dim": fields["hidden_size"],
        "num_layers": fields["num_hidden_layers"],
        "mlp_dim": _mlp_dim(fields),
        "patch_size": fields["patch_size"],
        "image_size": fields["image_size"],
        "input_channels": fields["num_channels"],
        "layer_norm_epsilon": fields["layer_norm_eps"],
        "activation": _activation(fields, path),
        "num_registers": fields.get("num_register_tokens", 0),
        "projection_dim": fields.get("projection_dim") if model_type == "clip_vision_model" else None,
        "pixel_mean": mean,
        "pixel_std": std,
        "resample_method": resample,
    }


def read_json_object(path):
    """The JSON object in the model config file at `path`; a `ValueError` naming
    the file if it holds no readable JSON object."""
    with open(path, encoding="utf-8", errors="replace") as file:
        try:
            config = json.load(file)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path} is not a readable model config: {error}.") from None
    if not isinstance(config, dict):
        raise ValueError(f"{path} is not a readable model config: a JSON object is expected.")
    return config


def _mlp_dim(fields):
    if "mlp_ratio" not in fields:
        return fields["intermediate_size"]
    hidden = int(fields["hidden_size"] * fields["mlp_ratio"])
    if fields.get("use_swiglu_ffn"):
        return (int(hidden * 2 / 3) + 7) // 8 * 8  # transformers' Dinov2SwiGLUFFN
    return hidden


def _activation(fields, path):
    if fields.get("use_swiglu_ffn"):
        return "swiglu"
    act = fields["hidden_act"]
    if act not in _ACTIVATIONS:
        raise ValueError(
            f"{path}: hidden_act={act!r} is an activation keras_vit does not build; it builds "
            f"{', '.join(repr(a) for a in _ACTIVATIONS)}."
        )
    return _ACTIVATIONS[act]


def _normalization(folder, mean, std):
    """The folder's `preprocessor_config.json` mean and std, else the family's."""
    path = os.path.join(folder, "preprocessor_config.json")
    if not os.path.exists(path):
        return mean, std
    config = read_json_object(path)
    return tuple(config.get("image_mean", mean)), tuple(config.get("image_std", std))


# What the config says, checked against what the weights show.
_CHECKED = ("hidden_dim", "num_layers", "mlp_dim", "patch_size", "input_channels", "num_registers", "projection_dim")


def check_against(config, architecture, path):
    """Raises a `ValueError` where `config.json` contradicts the weights' shapes."""
    for field in _CHECKED:
        if field == "projection_dim" and architecture[field] is None:
            continue  # CLIPVisionModel: the config names a projection its weights leave out
        if config[field] != architecture[field]:
            raise ValueError(
                f"{path}: config.json says {field}={config[field]!r}, but the weights hold "
                f"{field}={architecture[field]!r} ({_WHERE[field]}): the config does not belong to "
                "these weights."
            )
    size = config["image_size"]
    size = tuple(size) if isinstance(size, (list, tuple)) else (size, size)
    if size[0] == size[1] and size[0] // config["patch_size"] != architecture["image_size"] // config["patch_size"]:
        raise ValueError(
            f"{path}: config.json says image_size={config['image_size']!r}, but the position embeddings "
            f"('pos_embedding/embedding') hold a grid for {architecture['image_size']} px: the config does "
            "not belong to these weights."
        )


_WHERE = {
    "hidden_dim": "the patch embedding's output width",
    "num_layers": "the number of encoder layers",
    "mlp_dim": "the MLP's hidden width",
    "patch_size": "the patch embedding's kernel",
    "input_channels": "the patch embedding's input channels",
    "num_registers": "the register tokens' shape",
    "projection_dim": "visual_projection's shape",
}


def implied(config, path):
    """What the config adds to the architecture the weights show."""
    size = config["image_size"]
    implied = {
        "image_size": tuple(size) if isinstance(size, (list, tuple)) else size,
        "layer_norm_epsilon": config["layer_norm_epsilon"],
        "activation": config["activation"],
        "pixel_mean": config["pixel_mean"],
        "pixel_std": config["pixel_std"],
    }
    if config["resample_method"] is not None:
        implied["resample_method"] = config["resample_method"]
    return implied

