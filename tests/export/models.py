"""The small models every export test runs on, one factory per model family (the
paper's ViT and its variations, the hybrid, and the descendants' layouts).

A family joins the export tests by adding its factory to `MODELS`; nothing in
the tests reads a model's layers other than through these factories.
"""

import keras
import numpy as np

import keras_vit
from keras_vit.preprocessing import preprocess_input

IMAGE_SIZE = (32, 32)


def _random_head(model, seed=1):
    # The builders start the head at zero, which would make every output 0 and
    # every comparison vacuous.
    head = model.get_layer("head")
    rng = np.random.default_rng(seed)
    head.kernel.assign(rng.normal(0.0, 0.1, head.kernel.shape).astype("float32"))
    head.bias.assign(rng.normal(0.0, 0.1, head.bias.shape).astype("float32"))
    return model


def small_vit():
    """ViT with the defaults: preprocessing inside, class token, tanh GELU."""
    model = keras_vit.ViT(image_size=IMAGE_SIZE, patch_size=8, hidden_dim=32, num_layers=2,
                          num_heads=4, mlp_dim=64, num_classes=10)
    return _random_head(model)


def small_vit_gap_exact_gelu():
    """ViT fed [-1, 1] (no preprocessing layer), mean pooling, erf GELU, non-square."""
    model = keras_vit.ViT(image_size=(32, 24), patch_size=8, hidden_dim=32, num_layers=2,
                          num_heads=4, mlp_dim=64, num_classes=10, pooling="gap",
                          activation="gelu", include_preprocessing=False)
    return _random_head(model)


def small_hybrid():
    """Hybrid: a one-stage ResNetV2 stem (weight-standardised convs, GroupNorm, SAME max-pool)."""
    model = keras_vit.ViTHybrid(resnet_layers=(1,), resnet_width=0.5, patch_size=1, image_size=IMAGE_SIZE,
                                hidden_dim=32, num_layers=1, num_heads=4, mlp_dim=64, num_classes=10)
    return _random_head(model)


def small_vit_2d_shared():
    """ViT with the 2D position embedding, one table added before every block."""
    model = keras_vit.ViT(image_size=(32, 24), patch_size=8, hidden_dim=32, num_layers=2, num_heads=4,
                          mlp_dim=64, num_classes=10, position_embedding="learned_2d",
                          position_embedding_placement="every_layer_shared")
    return _random_head(model)


def small_vit_relative():
    """ViT with 1D relative attention: a gathered bias into the fused attention."""
    model = keras_vit.ViT(image_size=IMAGE_SIZE, patch_size=8, hidden_dim=32, num_layers=2, num_heads=4,
                          mlp_dim=64, num_classes=10, position_embedding="relative")
    return _random_head(model)


def _randomized(model, seed=2):
    # Every weight, so that a LayerScale, register or token exported wrong shows.
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        variable.assign(rng.normal(0.0, 0.2, variable.shape).astype("float32"))
    return model


def small_dinov2_registers():
    """DINOv2 with registers: LayerScale, 4 registers without position embedding, ImageNet mean and std."""
    model = keras_vit.ViT(image_size=(28, 42), patch_size=14, hidden_dim=32, num_layers=2, num_heads=4,
                          mlp_dim=64, num_classes=10, num_registers=4, layer_scale_init=1e-5, activation="gelu",
                          pixel_mean=(0.485, 0.456, 0.406), pixel_std=(0.229, 0.224, 0.225))
    return _randomized(model)


def small_siglip():
    """SigLIP: no class token, attention pooling (MAP), tanh GELU, a head on the pooled vector."""
    model = keras_vit.ViT(image_size=IMAGE_SIZE, patch_size=8, hidden_dim=32, num_layers=2, num_heads=4,
                          mlp_dim=64, num_classes=10, pooling="map", class_token=False)
    return _randomized(model)


def small_deit_distilled():
    """DeiT distilled: class and distillation tokens, two heads averaged."""
    model = keras_vit.ViT(image_size=IMAGE_SIZE, patch_size=8, hidden_dim=32, num_layers=2, num_heads=4,
                          mlp_dim=64, num_classes=10, distillation_token=True, activation="gelu")
    return _randomized(model)


def small_keras_hub_vit():
    """What keras-hub's ViT computes: exact GELU, a tanh pre-logits layer, LayerNorm epsilon 1e-5,
    ImageNet mean and std, a non-square image."""
    model = keras_vit.ViT(image_size=(16, 24), patch_size=8, hidden_dim=16, num_layers=2, num_heads=2,
                          mlp_dim=24, num_classes=10, representation_size=12, activation="gelu",
                          layer_norm_epsilon=1e-5, pixel_mean=(0.485, 0.456, 0.406), pixel_std=(0.229, 0.224, 0.225))
    return _randomized(model)


ALL_FORMATS = ("tf_saved_model", "litert", "onnx", "openvino", "torch")

# Each factory and the formats it is exported to. A family goes through every
# format; the variations of the plain ViT (exact GELU, mean pooling, no
# preprocessing layer, 2D position embeddings in every block) go through the converters that map operators one by
# one, not through a SavedModel, which keeps TensorFlow's or JAX's own, nor
# through OpenVINO, which from torch and JAX reads the ONNX file.
MODELS = {
    "vit": small_vit,
    "vit_gap_erf": small_vit_gap_exact_gelu,
    "hybrid": small_hybrid,
    "vit_2d_shared": small_vit_2d_shared,
    "vit_relative": small_vit_relative,
    "dinov2_registers": small_dinov2_registers,
    "siglip": small_siglip,
    "deit_distilled": small_deit_distilled,
    "keras_hub_vit": small_keras_hub_vit,
}
FORMATS_OF = {
    "vit": ALL_FORMATS,
    "vit_gap_erf": ("litert", "onnx", "torch"),
    "hybrid": ALL_FORMATS,
    "vit_2d_shared": ("litert", "onnx", "torch"),
    "vit_relative": ALL_FORMATS,
    # The family's layers through a converter of each kind: ONNX (from every
    # backend), torch.export, and a SavedModel for the registers' concatenation.
    "dinov2_registers": ("tf_saved_model", "onnx", "torch"),
    "siglip": ("onnx", "torch"),
    "deit_distilled": ("onnx", "torch"),
    # keras-hub's ViT expresses none of the models above (tanh GELU, a mean over the
    # class token, the family's parts): it gets one of its own.
    "keras_hub_vit": ("keras_hub",),
}
CASES = [(name, format) for name in MODELS for format in FORMATS_OF[name]]


def reference(model, pixels):
    """The Keras model's outputs on RGB pixels in [0, 255], scaled as the model expects."""
    has_scaling = any(layer.name == "preprocessing" for layer in model.layers)
    inputs = pixels if has_scaling else preprocess_input(pixels)
    return keras.ops.convert_to_numpy(model(inputs, training=False))


def pixels(model, batch, seed=7):
    shape = (batch, *model.input_shape[1:])
    return np.random.default_rng(seed).integers(0, 256, shape).astype("float32")


def backend():
    return keras.backend.backend()
