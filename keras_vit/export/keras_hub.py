"""keras-hub presets: a keras_vit model as keras-hub's `ViTBackbone` (and `ViTImageClassifier`).

keras-hub's ViT is the paper's: a patch embedding with a class token and
learned 1D position embeddings, pre-LayerNorm blocks with Keras' exact GELU, a
final LayerNorm, and in the classifier an optional tanh pre-logits layer and
the head on the class token (or on the mean of all tokens). The writer builds
those models from `model.vit_config`, copies every weight across by path and
calls keras-hub's own `save_to_preset`; the image converter carries the
model's resolution and its pixel scaling (`x * scale + offset` on [0, 255]).
What keras-hub's ViT cannot compute is refused before anything is built,
naming the field.

The check runs the preset with keras-hub itself, in this process and backend,
on the same [0, 255] pixels as the keras_vit model: `ImageClassifier.from_preset`
and its `predict_on_batch`, which applies the preset's image converter (as
`predict` does; calling the task model directly would not), so the logits
compared are keras-hub's on the pixels it scaled itself. A model without a
head (`include_top=False`) is compared through `Backbone.from_preset` on the
output of `ImageConverter.from_preset`: its sequence pooled as keras_vit pools
it, the class token or, without one, the mean of the tokens.
"""

import os

import keras
import numpy as np

from keras_vit.layers import names
from keras_vit.quantization import QUANTIZATION_MODES
from keras_vit.weights.formats.keras_hub import registered_name
from keras_vit.weights.formats.keras_hub_layouts import BACKBONE

FORMAT = "keras_hub"
PRECISIONS = (None,)
BACKENDS = ("tensorflow", "jax", "torch")
KERAS_QUANTIZED_UNSUPPORTED = {
    (backend, mode): "keras_vit writes keras-hub presets of float weights only"
    for backend in BACKENDS
    for mode in QUANTIZATION_MODES
}
UNSUPPORTED = {}
_EMBEDDING = "vit_patching_and_embedding/"
_TOP = {
    "embedding/kernel": _EMBEDDING + "patch_embedding/kernel",
    "embedding/bias": _EMBEDDING + "patch_embedding/bias",
    "cls/token": _EMBEDDING + "class_token",
    "pos_embedding/embedding": _EMBEDDING + "position_embedding/embeddings",
    "encoder_norm/gamma": "vit_encoder/ln/gamma",
    "encoder_norm/beta": "vit_encoder/ln/beta",
    "pre_logits/kernel": "pre_logits/kernel",
    "pre_logits/bias": "pre_logits/bias",
    "head/kernel": "predictions/kernel",
    "head/bias": "predictions/bias",
}
_BLOCK = {"norm1": "ln_1", "norm2": "ln_2", "attn/query": "mha/query", "attn/key": "mha/key",
          "attn/value": "mha/value", "attn/out": "mha/attention_output", "mlp_fc1": "mlp/dense_1",
          "mlp_fc2": "mlp/dense_2"}


def vit_model(model):
    """The keras_vit `VisionTransformer` of `model`: itself, or the one
    `export_model` wrapped with a preprocessing layer."""
    if hasattr(model, "vit_config"):
        return model
    for layer in model.layers:
        if hasattr(layer, "vit_config"):
            return layer
    raise ValueError(
        f"A keras-hub preset is written from a keras_vit ViT (a model with `vit_config`); {model.name!r} "
        "is none."
    )


def check_expressible(config):
    """Raises a `ValueError` naming the first field of `config` (a `ViTConfig`)
    that keras-hub's ViT cannot compute, its value and what keras-hub needs."""
    for field, value, needed in _differences(config):
        hint = ""
        if field == "activation" and value == "gelu_tanh":
            hint = (" The paper's models default to the tanh approximation; a model built with "
                    "activation='gelu' computes what keras-hub computes (load its weights into it).")
        raise ValueError(
            f"keras-hub's ViT cannot express this model: it has {field}={value!r}, and keras-hub's "
            f"ViTBackbone and ViTImageClassifier need {needed}.{hint}"
        )


def _differences(config):
    """`(field, value, what keras-hub needs)` for each part keras-hub's ViT lacks."""
    checks = [
        ("resnet_layers", None, "None: no hybrid ResNet stem"),
        ("position_embedding", "learned_1d", "'learned_1d'"),
        ("position_embedding_placement", "stem", "'stem': one table added after the patch embedding"),
        ("num_registers", 0, "0: no register tokens"),
        ("distillation_token", False, "False: no distillation token"),
        ("layer_scale_init", None, "None: no LayerScale"),
        ("pre_norm", False, "False: no LayerNorm before the encoder"),
        ("projection_dim", None, "None: no projection"),
        ("activation", "gelu", "'gelu' (Keras' exact GELU in the MLP)"),
        ("dynamic_image_size", False, "False: a fixed image size"),
    ]
    found = [(field, getattr(config, field), needed) for field, expected, needed in checks
             if getattr(config, field) != expected]
    if config.pooling not in ("token", "gap"):
        found.append(("pooling", config.pooling, "'token' or 'gap'"))
    elif config.pooling == "gap" and config.class_token:
        found.append(("class_token", True, "False with pooling='gap' (keras-hub's mean includes the class token)"))
    if config.representation_size and not config.include_top:
        found.append(("representation_size", config.representation_size,
                      "None without a head (keras-hub's pre-logits layer belongs to its classifier)"))
    return found


def _pixel_scaling(model, config):
    """The image converter's `(scale, offset)` per channel: what the exported
    model's preprocessing layer does to [0, 255] pixels."""
    layer = names.find_layer(model, names.PREPROCESSING)
    mean, std = config.normalization
    scale = [1.0 / (255.0 * s) for s in std]
    offset = [-m / s for m, s in zip(mean, std)]
    pixels = np.repeat(np.arange(256, dtype="float32")[:, None], len(scale), axis=1)
    ours = pixels * np.asarray(scale, "float32") + np.asarray(offset, "float32")
    theirs = keras.ops.convert_to_numpy(layer(pixels))
    if not np.allclose(ours, theirs, atol=1e-5):
        raise ValueError(
            f"{model.name!r} was built with include_preprocessing=False and pixel_mean={config.pixel_mean}, "
            f"pixel_std={config.pixel_std}, but export_model scales its input to [-1, 1]: a keras-hub preset's "
            "image converter would disagree with it. Export the model built with include_preprocessing=True."
        )
    return scale, offset


def write(model, path, precision=None, representative_data=None):
    """Writes `model` as a keras-hub preset folder at `path`: `config.json`,
    `model.weights.h5`, `metadata.json` and the image converter's config, and
    with a head `task.json`, `task.weights.h5` and `preprocessor.json`."""
    import keras_hub

    del precision, representative_data  # A preset holds float32 weights.
    vit = vit_model(model)
    config = vit.vit_config
    check_expressible(config)
    if vit.dtype_policy.name != "float32":
        raise ValueError(
            f"keras_vit writes keras-hub presets of float32 models; {vit.name!r} computes under the "
            f"{vit.dtype_policy.name!r} dtype policy. Build it under 'float32' and load its weights into it."
        )
    scale, offset = _pixel_scaling(model, config)
    backbone = keras_hub.models.ViTBackbone(
        image_shape=(*config.image_size, config.input_channels), patch_size=config.patch_size,
        num_layers=config.num_layers, num_heads=config.num_heads, hidden_dim=config.hidden_dim,
        mlp_dim=config.mlp_dim, dropout_rate=config.dropout_rate, attention_dropout=config.attention_dropout_rate,
        layer_norm_epsilon=config.layer_norm_epsilon, use_mha_bias=config.qkv_bias,
        use_class_token=config.class_token, use_patch_bias=config.patch_bias, name=f"{vit.name}_backbone",
    )
    converter = keras_hub.layers.ViTImageConverter(image_size=config.image_size, scale=scale, offset=offset)
    if not config.include_top:
        _copy_weights(vit, backbone)
        backbone.save_to_preset(path)
        converter.save_to_preset(path)
        return
    classifier = keras_hub.models.ViTImageClassifier(
        backbone=backbone, num_classes=config.num_classes, pooling=config.pooling,
        intermediate_dim=config.representation_size, activation=config.classifier_activation,
        preprocessor=keras_hub.models.ViTImageClassifierPreprocessor(image_converter=converter), name=vit.name,
    )
    _copy_weights(vit, classifier)
    classifier.save_to_preset(path)


def _target_path(path):
    """The keras-hub variable path of keras_vit's weight `path`."""
    if path in _TOP:
        return _TOP[path]
    block, layer = path.split("/", 1)
    part, kind = layer.rsplit("/", 1)
    index = int(block.removeprefix("encoderblock_"))
    return f"vit_encoder/transformer_block_{index + 1}/{_BLOCK[part]}/{kind}"


def _copy_weights(vit, target):
    """Assigns every weight of `vit` to its place in `target`, all checked first."""
    sources = {variable.path: keras.ops.convert_to_numpy(variable) for variable in vit.weights}
    if not vit.vit_config.qkv_bias:
        # keras-hub's use_mha_bias=False drops the output projection's bias too.
        _drop_zero_out_biases(sources)
    sources["pos_embedding/embedding"] = sources["pos_embedding/embedding"][0]
    places = {_target_path(path): value for path, value in sources.items()}
    variables = {variable.path: variable for variable in target.weights}
    missing = sorted(set(variables) - set(places))
    extra = sorted(set(places) - set(variables))
    if missing or extra:
        raise ValueError(
            f"keras-hub's ViT and {vit.name!r} disagree on their weights: keras-hub's "
            f"{missing[:4]} get nothing, and {extra[:4]} have no place in it."
        )
    for name, variable in variables.items():
        if tuple(variable.shape) != places[name].shape:
            raise ValueError(
                f"keras-hub's {name} has shape {tuple(variable.shape)}; keras_vit's is {places[name].shape}."
            )
    for name, variable in variables.items():
        variable.assign(places[name])


def _drop_zero_out_biases(sources):
    for path in [p for p in sources if p.endswith("attn/out/bias")]:
        if np.any(sources[path]):
            raise ValueError(
                f"keras-hub's ViT cannot express this model: it has qkv_bias=False with a non-zero {path}, and "
                "keras-hub's use_mha_bias=False drops the output projection's bias too."
            )
        del sources[path]


def is_artifact(path):
    """Whether `path` is a keras-hub ViT preset folder, as `write` writes them."""
    return os.path.isdir(path) and registered_name(path) == BACKBONE


class Runner:
    """A keras-hub preset loaded with keras-hub, called on NumPy images in [0, 255].

    A classifier preset returns the logits of `ImageClassifier.from_preset`'s
    `predict_on_batch`, which applies the preset's image converter first; a
    backbone preset the sequence of `Backbone.from_preset` on the output of
    `ImageConverter.from_preset`, pooled as keras_vit pools it with
    `include_top=False`: the class token, or the mean of all tokens without one.
    """

    input_dtypes = ("float32",)

    def __init__(self, path):
        import keras_hub

        if os.path.exists(os.path.join(path, "task.json")):
            self._model = keras_hub.models.ImageClassifier.from_preset(path)
            self._converter = None
            backbone = self._model.backbone
        else:
            self._model = backbone = keras_hub.models.Backbone.from_preset(path)
            self._converter = keras_hub.layers.ImageConverter.from_preset(path)
        self._class_token = backbone.use_class_token
        self.input_shape = tuple(backbone.image_shape)

    def __call__(self, images):
        images = np.asarray(images, dtype="float32")
        if self._converter is None:
            return np.asarray(self._model.predict_on_batch(images))
        sequence = np.asarray(self._model.predict_on_batch(self._converter(images)))
        return sequence[:, 0] if self._class_token else sequence.mean(axis=1)
