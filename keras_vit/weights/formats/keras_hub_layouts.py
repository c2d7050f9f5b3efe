"""Where keras-hub's ViT, DeiT, DINOv2, SigLIP and CLIP backbones keep each weight, and what their configs mean.

Keras saves a model's variables under the snake-cased class names of its
layers, not their paths (`layers/vi_t_encoder/encoder_layers/vi_t_encoder_block_1/mha/query_dense/vars/0`),
and a layer's own variables by index; each family here maps those keys to
keras_vit's weight names and its `config.json` arguments to keras_vit's
builder arguments. `keras_hub.py` reads the folder.
"""

import dataclasses

from keras_vit.weights.architecture import LAYER_SCALE_INIT

BACKBONE = "keras_hub>ViTBackbone"
CLASSIFIER = "keras_hub>ViTImageClassifier"
DEIT = "keras_hub>DeiTBackbone"
DINOV2 = "keras_hub>DINOV2Backbone"
SIGLIP = "keras_hub>SigLIPBackbone"
CLIP = "keras_hub>CLIPBackbone"
_MHA = {
    f"mha/{part}_dense/vars/{index}": f"attn/{name}/{kind}"
    for part, name in (("query", "query"), ("key", "key"), ("value", "value"), ("output", "out"))
    for index, kind in ((0, "kernel"), (1, "bias"))
}
_NORMS = {
    "layer_norm_1/vars/0": "norm1/gamma",
    "layer_norm_1/vars/1": "norm1/beta",
    "layer_norm_2/vars/0": "norm2/gamma",
    "layer_norm_2/vars/1": "norm2/beta",
}


@dataclasses.dataclass(frozen=True)
class _Family:
    """Where a keras-hub backbone's `model.weights.h5` keeps each weight.

    `top(config)` gives the file keys outside the encoder blocks, `block` an
    encoder block's (both as `{file key: keras_vit weight name}`; a name None
    marks an array the model does not use), `blocks` the saved path of the
    block list, `architecture(config, path)` the builder arguments, and
    `skipped` the key prefixes of an image-text model's text tower.
    """

    top: object
    blocks: str
    block: dict
    architecture: object
    classifier: str | None = None
    no_classifier: str = ""
    skipped: tuple = ()  # key prefixes of a text tower, left out and reported

    def places(self, config, num_layers):
        places = dict(self.top(config))
        for index in range(num_layers):
            # Keras saves a list's layers under their snake-cased class names, numbered from the second on.
            prefix = f"{self.blocks}{f'_{index}' if index else ''}/"
            places.update({prefix + key: f"encoderblock_{index}/{path}" for key, path in self.block.items()})
        return places


def _vit_top(embedding, encoder, embedding_vars):
    """The top-level keys of keras-hub's ViT and DeiT: a `patch_embedding`
    convolution, the embedding layer's own variables, the encoder's `layer_norm`."""
    embedding, encoder = f"layers/{embedding}/", f"layers/{encoder}/"
    return lambda config: {
        embedding + "patch_embedding/vars/0": "embedding/kernel",
        embedding + "patch_embedding/vars/1": "embedding/bias",
        encoder + "layer_norm/vars/0": "encoder_norm/gamma",
        encoder + "layer_norm/vars/1": "encoder_norm/beta",
        **{embedding + key: path for key, path in embedding_vars.items()},
    }


def _dinov2_top(config):
    """keras-hub's DINOv2 embedding holds, in order, the class token, the mask
    token (masked image modelling only), the registers, the position table
    resized to `image_shape` (recomputed from the next one when keras-hub
    loads), and the position table at `position_embedding_shape`."""
    embedding = "layers/dinov2_embedding/"
    names = ["cls/token", *[None] * bool(config.get("use_mask_token", True)),
             *["registers/tokens"] * bool(config.get("num_register_tokens", 0)), None, "pos_embedding/embedding"]
    return {
        embedding + "patch_embeddings/projection/vars/0": "embedding/kernel",
        embedding + "patch_embeddings/projection/vars/1": "embedding/bias",
        "layers/layer_normalization/vars/0": "encoder_norm/gamma",
        "layers/layer_normalization/vars/1": "encoder_norm/beta",
        **{f"{embedding}vars/{index}": name for index, name in enumerate(names)},
    }


_DINOV2_BLOCK = {
    "norm1/vars/0": "norm1/gamma",
    "norm1/vars/1": "norm1/beta",
    "norm2/vars/0": "norm2/gamma",
    "norm2/vars/1": "norm2/beta",
    "layer_scale1/vars/0": "ls1/gamma",
    "layer_scale2/vars/0": "ls2/gamma",
    **{f"attention/attention/{key[len('mha/'):]}": path for key, path in _MHA.items()},
    **{f"mlp/{name}/vars/{index}": f"mlp_fc{fc}/{kind}"
       for names, fc in ((("fc1", "weights_in"), 1), (("fc2", "weights_out"), 2))
       for name in names for index, kind in ((0, "kernel"), (1, "bias"))},
}


# SigLIP and CLIP look their position table up by a stored variable of row
# indices, which the reader applies to the table (a fresh keras-hub CLIP
# holds zeros there: every token gets the first row).
POSITION_IDS = "position_ids"


def _dense(prefix, name, kinds=("kernel", "bias")):
    return {f"{prefix}/vars/{index}": f"{name}/{kind}" for index, kind in enumerate(kinds)}


_SIGLIP = "layers/sig_lip_vision_encoder/layers/"
_POOL = _SIGLIP + "sig_lip_multi_head_attention_pooling/"
_SIGLIP_TOP = {
    **_dense(_SIGLIP + "sig_lip_vision_embedding/patch_embedding", "embedding"),
    _SIGLIP + "sig_lip_vision_embedding/position_embedding/vars/0": "pos_embedding/embedding",
    _SIGLIP + "sig_lip_vision_embedding/vars/0": POSITION_IDS,
    **_dense(_SIGLIP + "layer_normalization", "encoder_norm", ("gamma", "beta")),
    _POOL + "vars/0": "pooling/probe",
    **{_POOL + "attention/" + key[len("mha/"):]: "pooling/" + path[len("attn/"):] for key, path in _MHA.items()},
    **_dense(_POOL + "layer_norm", "pooling/norm", ("gamma", "beta")),
    **_dense(_POOL + "mlp/fc1", "pooling/mlp_fc1"),
    **_dense(_POOL + "mlp/fc2", "pooling/mlp_fc2"),
}
_SIGLIP_BLOCK = {
    **_dense("layer_norm1", "norm1", ("gamma", "beta")),
    **_dense("layer_norm2", "norm2", ("gamma", "beta")),
    **{"self_attn/" + key[len("mha/"):]: path for key, path in _MHA.items()},
    **_dense("mlp/fc1", "mlp_fc1"),
    **_dense("mlp/fc2", "mlp_fc2"),
}
_CLIP = "layers/clip_vision_encoder/layers/"
_CLIP_TOP = {
    _CLIP + "clip_vision_embedding/patch_embedding/vars/0": "embedding/kernel",
    _CLIP + "clip_vision_embedding/position_embedding/vars/0": "pos_embedding/embedding",
    _CLIP + "clip_vision_embedding/vars/0": "cls/token",
    _CLIP + "clip_vision_embedding/vars/1": POSITION_IDS,
    **_dense(_CLIP + "layer_normalization", "pre_norm", ("gamma", "beta")),
    **_dense(_CLIP + "layer_normalization_1", "encoder_norm", ("gamma", "beta")),
    # CLIPBackbone creates the image tower's projection before the text tower's.
    "layers/dense/vars/0": "projection/kernel",
}
_CLIP_BLOCK = {
    **_NORMS,
    **{"attention/" + key[len("mha/"):]: path for key, path in _MHA.items()},
    **_dense("dense_1", "mlp_fc1"),
    **_dense("dense_2", "mlp_fc2"),
}
# keras-hub's names of the activations keras_vit builds.
_ACTIVATIONS = {"gelu_approximate": "gelu_tanh", "gelu": "gelu", "quick_gelu": "quick_gelu"}


# What keras-hub's ViT computes that keras_vit's does not: config field, the value keras_vit needs.
_REQUIRED = {"use_mlp_bias": True}


def backbone_architecture(config, path):
    """keras_vit builder arguments from the arguments of a keras-hub `ViTBackbone`."""
    for field, needed in _REQUIRED.items():
        if config.get(field, needed) != needed:
            raise ValueError(
                f"{path}: keras-hub's ViTBackbone has {field}={config[field]!r}; keras_vit's ViT "
                f"builds only {field}={needed!r}."
            )
    class_token = bool(config.get("use_class_token", True))
    return {
        **_sizes(config, path, config["mlp_dim"]),
        "patch_bias": bool(config.get("use_patch_bias", True)),
        "class_token": class_token,
        "pooling": "token" if class_token else "gap",
        "distillation_token": False,
    }


def deit_architecture(config, path):
    """keras_vit builder arguments from the arguments of a keras-hub `DeiTBackbone`:
    the class and distillation tokens, each with its position embedding."""
    return {
        **_sizes(config, path, config["intermediate_dim"]),
        "patch_bias": True,
        "class_token": True,
        "pooling": "token",
        "distillation_token": True,
    }


def dinov2_architecture(config, path):
    """keras_vit builder arguments from the arguments of a keras-hub `DINOV2Backbone`.

    The image size is the grid of the position table the preset holds
    (`position_embedding_shape`); keras-hub resizes that table to its
    `image_shape` when it loads, with Keras' bicubic `ops.image.resize`, which
    none of keras_vit's resampling methods reproduces exactly.
    """
    height, width, channels = config.get("position_embedding_shape", (518, 518, 3))
    intermediate = int(config["intermediate_dim"])
    swiglu = bool(config.get("use_swiglu_ffn", False))
    scale = config.get("layer_scale_init_value", 1.0)
    return {
        "image_size": (int(height), int(width)),
        "patch_size": int(config["patch_size"]),
        "hidden_dim": int(config["hidden_dim"]),
        "num_layers": int(config["num_layers"]),
        "num_heads": int(config["num_heads"]),
        # keras-hub's DINOV2SwiGLUFFN narrows its hidden width as transformers' does.
        "mlp_dim": (int(intermediate * 2 / 3) + 7) // 8 * 8 if swiglu else intermediate,
        "input_channels": int(channels),
        "layer_norm_epsilon": 1e-6,
        "activation": "swiglu" if swiglu else "gelu",
        "qkv_bias": True,
        "patch_bias": True,
        "class_token": True,
        "pooling": "token",
        "include_top": False,
        "representation_size": None,
        "distillation_token": False,
        "num_registers": int(config.get("num_register_tokens", 0)),
        "layer_scale_init": float(scale) if scale > 0 else LAYER_SCALE_INIT,
        "pre_norm": False,
        "projection_dim": None,
        "resample_method": "bicubic_antialias" if config.get("antialias_in_interpolation") else "bicubic",
    }


def resize_notes(config, architecture):
    """What the load report says of a DINOv2 preset whose table keras-hub resizes."""
    image = tuple(config.get("image_shape", (224, 224, 3))[:2])
    if image == architecture["image_size"]:
        return ()
    return (
        f"keras-hub runs this DINOv2 preset at image_shape={list(image)}, resizing its position table from "
        f"position_embedding_shape={list(architecture['image_size'])} with Keras' bicubic resize when it "
        "loads; keras_vit builds the model at the table's size unless image_size is given, and then "
        f"resamples the table with resample_method={architecture['resample_method']!r}",
    )


def siglip_architecture(config, path):
    """keras_vit builder arguments from a keras-hub `SigLIPBackbone`'s image tower:
    no class token, attention pooling (its output is the image tower's)."""
    vision = _vision_config(config, path)
    if vision.get("layer_norm_epsilon", 1e-6) != 1e-6:
        raise ValueError(
            f"{path}: keras-hub's SigLIP image tower has layer_norm_epsilon={vision['layer_norm_epsilon']!r} "
            "in its blocks and 1e-6 after them; keras_vit builds one epsilon for both, so it reads 1e-6 only."
        )
    return {
        **_sizes(vision, path, vision["intermediate_dim"]),
        "activation": _activation(vision, "gelu_approximate", path),
        "patch_bias": True,
        "class_token": False,
        "pooling": "map",
        "distillation_token": False,
    }


def clip_architecture(config, path):
    """keras_vit builder arguments from a keras-hub `CLIPBackbone`'s image tower:
    a class token, a LayerNorm before the encoder, epsilon 1e-5, the projection."""
    vision = _vision_config(config, path)
    return {
        **_sizes({**vision, "layer_norm_epsilon": 1e-5}, path, vision["intermediate_dim"]),
        "activation": _activation(vision, "quick_gelu", path),
        "patch_bias": False,
        "class_token": True,
        "pooling": "token",
        "distillation_token": False,
        "pre_norm": True,
        "projection_dim": int(config["projection_dim"]),
    }


def _vision_config(config, path):
    vision = config.get("vision_encoder")
    if not isinstance(vision, dict) or not isinstance(vision.get("config"), dict):
        raise ValueError(f"{path}: config.json has no 'vision_encoder' with its 'config': not an image-text backbone.")
    vision = vision["config"]
    image = vision.get("image_shape", (224, 224, 3))
    return {**vision, "image_shape": image}


def _activation(config, default, path):
    name = config.get("intermediate_activation", default)
    if name not in _ACTIVATIONS:
        raise ValueError(
            f"{path}: intermediate_activation={name!r} is an activation keras_vit does not build; it reads "
            f"{', '.join(repr(a) for a in _ACTIVATIONS)}."
        )
    return _ACTIVATIONS[name]


def _sizes(config, path, mlp_dim):
    """What keras-hub's ViT and DeiT backbones share: sizes, LayerNorm epsilon,
    Keras' exact GELU (their MLP's `Dense(activation="gelu")`), no head."""
    height, width, channels = config["image_shape"]
    patch = config["patch_size"]
    patch = tuple(patch) if isinstance(patch, (list, tuple)) else (patch, patch)
    if patch[0] != patch[1]:
        raise ValueError(f"{path}: patch_size={list(patch)} is not square; keras_vit's patches are square.")
    return {
        "image_size": (int(height), int(width)),
        "patch_size": int(patch[0]),
        "hidden_dim": int(config["hidden_dim"]),
        "num_layers": int(config["num_layers"]),
        "num_heads": int(config["num_heads"]),
        "mlp_dim": int(mlp_dim),
        "input_channels": int(channels),
        "layer_norm_epsilon": float(config.get("layer_norm_epsilon", 1e-6)),
        "activation": "gelu",
        "qkv_bias": bool(config.get("use_mha_bias", True)),
        "include_top": False,
        "representation_size": None,
        "num_registers": 0,
        "layer_scale_init": None,
        "pre_norm": False,
        "projection_dim": None,
    }


FAMILIES = {
    BACKBONE: _Family(
        top=_vit_top("vi_t_patching_and_embedding", "vi_t_encoder",
                     {"vars/0": "cls/token", "position_embedding/vars/0": "pos_embedding/embedding"}),
        blocks="layers/vi_t_encoder/encoder_layers/vi_t_encoder_block",
        block={**_NORMS, **_MHA, "mlp/dense_1/vars/0": "mlp_fc1/kernel", "mlp/dense_1/vars/1": "mlp_fc1/bias",
               "mlp/dense_2/vars/0": "mlp_fc2/kernel", "mlp/dense_2/vars/1": "mlp_fc2/bias"},
        architecture=backbone_architecture,
        classifier=CLASSIFIER,
    ),
    DEIT: _Family(
        top=_vit_top("dei_t_embeddings", "dei_t_encoder",
                     {"vars/0": "cls/token", "vars/1": "dist/token", "vars/2": "pos_embedding/embedding"}),
        blocks="layers/dei_t_encoder/encoder_layers/dei_t_encoder_block",
        block={**_NORMS, **_MHA, "mlp/dense/vars/0": "mlp_fc1/kernel", "mlp/dense/vars/1": "mlp_fc1/bias",
               "output_layer/dense/vars/0": "mlp_fc2/kernel", "output_layer/dense/vars/1": "mlp_fc2/bias"},
        architecture=deit_architecture,
        no_classifier=(
            "keras-hub's DeiTImageClassifier puts one head on the class token; keras_vit's DeiT averages "
            "a head on the class token and one on the distillation token. The backbone (config.json and "
            "model.weights.h5 without task.json) loads"
        ),
    ),
    DINOV2: _Family(
        top=_dinov2_top,
        blocks="layers/dinov2_encoder/layers/dinov2_layer",
        block=_DINOV2_BLOCK,
        architecture=dinov2_architecture,
        no_classifier="keras-hub's DINOv2 has no image classifier keras_vit reads",
    ),
    SIGLIP: _Family(
        top=lambda config: _SIGLIP_TOP,
        blocks=_SIGLIP + "sig_lip_encoder_layer",
        block=_SIGLIP_BLOCK,
        architecture=siglip_architecture,
        no_classifier="keras-hub's SigLIP has no image classifier keras_vit reads",
        skipped=("layers/sig_lip_text_encoder/", "layers/sig_lip_head/"),
    ),
    CLIP: _Family(
        top=lambda config: _CLIP_TOP,
        blocks=_CLIP + "clip_encoder_layer",
        block=_CLIP_BLOCK,
        architecture=clip_architecture,
        no_classifier="keras-hub's CLIP has no image classifier keras_vit reads",
        skipped=("layers/clip_text_encoder/", "layers/clip_head/", "layers/dense_1/"),
    ),
}
SUPPORTED = tuple(FAMILIES)
