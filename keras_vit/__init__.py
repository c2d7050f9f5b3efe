"""keras_vit: the Vision Transformer (Dosovitskiy et al., ICLR 2021) for Keras 3."""

from keras_vit import data, export, inspect, layers, models, training, weights
from keras_vit.models import (
    ViT,
    ViTB16,
    ViTB32,
    ViTH14,
    ViTHybrid,
    ViTL16,
    ViTL32,
    ViTR26B32,
    ViTR26S32,
    ViTR50B16,
    ViTR50L32,
    ViTRTi16,
    ViTS16,
    ViTS32,
    ViTTi16,
    from_checkpoint,
)

from keras_vit.preprocessing import decode_predictions, preprocess_input

__version__ = "0.1.0.dev0"

__all__ = [
    "ViT",
    "ViTB16",
    "ViTB32",
    "ViTH14",
    "ViTHybrid",
    "ViTL16",
    "ViTL32",
    "ViTR26B32",
    "ViTR26S32",
    "ViTR50B16",
    "ViTR50L32",
    "ViTRTi16",
    "ViTS16",
    "ViTS32",
    "ViTTi16",
    "data",
    "decode_predictions",
    "export",
    "from_checkpoint",
    "inspect",
    "layers",
    "models",
    "preprocess_input",
    "training",
    "weights",
]
