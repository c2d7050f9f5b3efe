"""BiT's ResNetV2, the paper's ResNet baseline (Section 4.1, "ResNet (BiT)").

Kolesnikov et al., "Big Transfer (BiT): General Visual Representation
Learning" (2020): a pre-activation ResNetV2 with weight-standardised
convolutions and GroupNorm, global average pooling and a linear head.
"""

import os

import keras

from keras_vit import variants
from keras_vit.layers import names
from keras_vit.layers.resnet_v2 import PreActResNetStage, bit_conv, bit_group_norm
from keras_vit.models.bit import ResNetV2Config, ResNetV2Model
from keras_vit.preprocessing import rescaling_layer
from keras_vit.weights import hub
from keras_vit.weights.checkpoint import Checkpoint
from keras_vit.weights.load import load_weights
from keras_vit.weights.reader import KERAS_SUFFIXES, read_checkpoint

ROOT_POOL = "root_pool"
NORM = "norm"


def ResNetV2(
    layers=(3, 4, 6, 3),
    width=1,
    *,
    weights=None,
    image_size=224,
    include_top=True,
    num_classes=None,
    classifier_activation=None,
    include_preprocessing=True,
    input_channels=3,
    name=None,
):
    """Builds BiT's ResNetV2 (Kolesnikov et al., 2020), the paper's ResNet baseline (Section 4.1).

    The root is a weight-standardised 7x7 stride-2 convolution (`conv_root`),
    zero padding and a 3x3 stride-2 max-pool; four stages `block1 ...
    block4` of pre-activation bottleneck units follow, every stage after the
    first halving the resolution, then GroupNorm and ReLU (`norm`), global
    average pooling and the head. Every convolution standardises its kernel as
    `(w - mean) / sqrt(var + 1e-8)`, every GroupNorm has 32 groups and epsilon
    1e-5, and padding is PyTorch's symmetric one: the model computes what
    timm's `resnetv2_50x1_bit` and HF transformers' `BitForImageClassification`
    (`BitConfig(layer_type="preactivation")`, the default) compute.

    Args:
        layers: tuple of 4 ints. Bottleneck units per stage: `(3, 4, 6, 3)`
            for ResNet-50, `(3, 4, 23, 3)` for 101, `(3, 8, 36, 3)` for 152.
            Defaults to `(3, 4, 6, 3)`.
        width: int or float. Width factor: the root has `64 * width` channels,
            stage `s` bottlenecks `64 * width * 2**(s - 1)` and outputs 4
            times that. A positive multiple of 0.5. Defaults to 1.
        weights: None, the path of a HF BiT folder (`config.json` and
            `model.safetensors`), a timm `resnetv2_*_bit` or HF state dict
            (`.safetensors`, `.pth`, `.bin`), or a keras_vit `.weights.h5` or
            `.keras` file. Loading is all or nothing. Defaults to None.
        image_size: int, pair of ints or None. Input `(height, width)`; None
            takes any size. Defaults to 224.
        include_top: bool. Whether to end in the head; if False the model
            returns the pooled features. Defaults to True.
        num_classes: int or None. Classes of the head. None takes the
            weights' head, or 1000 without weights; another number starts a
            zero head. Defaults to None.
        classifier_activation: str or None. Activation of the head's output,
            e.g. `"softmax"`; None returns logits. Defaults to None.
        include_preprocessing: bool. If True the model takes RGB pixels in
            `[0, 255]` and maps them to `[-1, 1]`, BiT's range; if False the
            caller feeds `[-1, 1]`. Defaults to True.
        input_channels: int. Channels of the input images; weights for RGB
            images have their root convolution adapted as `keras_vit.ViT`'s
            `input_channels` says. Defaults to 3.
        name: str or None. Model name. Defaults to `"resnetv2"`.

    Returns:
        A `keras_vit.models.ResNetV2Model` (a functional `keras.Model` holding
        its `ResNetV2Config` as `resnet_config`) mapping `(batch, height,
        width, channels)` images to `(batch, num_classes)` outputs (or the
        pooled features).

    Example:

    >>> model = ResNetV2(layers=(1, 1, 1, 1), width=0.5, image_size=32, num_classes=10)
    >>> model.output_shape
    (None, 10)
    >>> model.get_layer("block4").output.shape
    (None, 1, 1, 1024)
    """
    arguments = dict(locals())
    weights, name = arguments.pop("weights"), arguments.pop("name")
    num_classes_open = arguments["num_classes"] is None
    config = ResNetV2Config(**{k: v for k, v in arguments.items() if not (k == "num_classes" and v is None)})
    config, source = resolve_resnet_weights(config, weights, num_classes_open)
    model = build_resnet_v2(config, name=name or "resnetv2")
    if source is not None:
        load_weights(model, source)
    return model


def build_resnet_v2(config, name="resnetv2"):
    """Builds the ResNetV2 that `config` (a `ResNetV2Config`) describes, with fresh weights."""
    images = keras.Input((*(config.image_size or (None, None)), config.input_channels), name="images")
    features = rescaling_layer()(images) if config.include_preprocessing else images
    features = _features(features, config.layers, config.root_width)
    outputs = _head(features, config.include_top, config.num_classes, config.classifier_activation)
    return ResNetV2Model(images, outputs, name=name, resnet_config=config)


def resolve_resnet_weights(config, weights, num_classes_open=False):
    """`(config, source)`: the source `weights` names, checked against `config`, and
    `config` with the checkpoint's classes when `num_classes_open`."""
    if weights is None:
        return config, None
    source = _source(weights, config.layers, config.width)
    implied = source.architecture.get("num_classes") if isinstance(source, Checkpoint) else None
    if num_classes_open and implied:
        config = config.replace(num_classes=implied)
    return config, source


def _features(images, layers, root_width):
    features = bit_conv(root_width, 7, strides=2, name=names.ROOT_CONV)(images)
    # BiT's "fixed" SAME: one zero row and column on every side, then an unpadded pool.
    features = keras.layers.ZeroPadding2D(1, name="root_pad")(features)
    features = keras.layers.MaxPooling2D(3, strides=2, padding="valid", name=ROOT_POOL)(features)
    for index, num_units in enumerate(layers):
        features = PreActResNetStage(
            num_units, root_width * 2**index, strides=1 if index == 0 else 2, name=f"block{index + 1}"
        )(features)
    features = bit_group_norm(NORM)(features)
    features = keras.layers.ReLU(name="norm_relu")(features)
    return keras.layers.GlobalAveragePooling2D(name=names.POOLING)(features)


def _head(features, include_top, num_classes, activation):
    if not include_top:
        return features
    # BiT starts its head from zero.
    logits = keras.layers.Dense(num_classes, kernel_initializer="zeros", name=names.HEAD)(features)
    return keras.layers.Activation(activation or "linear", dtype="float32", name="predictions")(logits)


def _source(weights, layers, width):
    """The checkpoint or keras_vit weights file to load, checked against the architecture."""
    if not isinstance(weights, Checkpoint):
        path = hub.local_path(os.fspath(weights))
        if path.endswith(KERAS_SUFFIXES):
            return path
        if not os.path.exists(path):
            raise ValueError(
                f"`weights` must be None or the path of a BiT checkpoint (keras_vit publishes no "
                f"named ResNetV2 weights), and no file or folder is there. Received: weights={weights!r}"
            )
        weights = read_checkpoint(path)
    if weights.format != "bit":
        raise ValueError(
            f"{weights.path} is a Vision Transformer checkpoint ({weights.format}), not a BiT "
            "ResNetV2 one: keras_vit.ViT, keras_vit.ViTHybrid or keras_vit.from_checkpoint builds it."
        )
    found = weights.architecture
    if (found["layers"], found["width"]) != (layers, width):
        raise ValueError(
            f"{weights.path} is another ResNetV2 (layers={found['layers']}, width={found['width']}); "
            f"this builder expects layers={layers}, width={width}. keras_vit.from_checkpoint builds "
            "whatever a file holds."
        )
    return weights


def _builder(variant):
    size = variants.RESNET_VARIANTS[variant]

    def build(weights=None, **kwargs):
        fixed = sorted({"layers", "width"} & set(kwargs))
        if fixed:
            raise ValueError(
                f"BiT-{variant} fixes {', '.join(fixed)}; use `keras_vit.ResNetV2` for another size. "
                f"Received: {', '.join(f'{k}={kwargs[k]!r}' for k in fixed)}"
            )
        kwargs.setdefault("name", "resnetv2_" + variant.lower().lstrip("r"))
        return ResNetV2(size.layers, size.width, weights=weights, **kwargs)

    build.__name__ = build.__qualname__ = variants.resnet_builder_name(variant)
    build.__doc__ = (
        f"Builds BiT-{variant}: `keras_vit.ResNetV2(layers={size.layers}, width={size.width}, ...)`.\n\n"
        "    Args:\n"
        "        weights: None or a BiT checkpoint path, as `keras_vit.ResNetV2` takes. Defaults to None.\n"
        "        **kwargs: Any other keyword argument of `keras_vit.ResNetV2` but `layers` and `width`.\n\n"
        "    Returns:\n"
        "        A `keras_vit.models.ResNetV2Model`.\n"
    )
    return build


# The builder of every BiT size, by variant ("R50x1").
RESNET_V2_BUILDERS = {variant: _builder(variant) for variant in variants.RESNET_VARIANTS}

ResNetV2R50x1 = RESNET_V2_BUILDERS["R50x1"]
ResNetV2R50x3 = RESNET_V2_BUILDERS["R50x3"]
ResNetV2R101x1 = RESNET_V2_BUILDERS["R101x1"]
ResNetV2R101x3 = RESNET_V2_BUILDERS["R101x3"]
ResNetV2R152x4 = RESNET_V2_BUILDERS["R152x4"]
