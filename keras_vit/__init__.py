"""keras_vit: the Vision Transformer (Dosovitskiy et al., ICLR 2021) for Keras 3."""

from keras_vit import export, layers, models, weights
from keras_vit.models import (
    ViT,
    ViTB16,
    ViTB32,
    ViTH14,
    ViTL16,
    ViTL32,
    ViTS16,
    ViTS32,
    ViTTi16,
)

from keras_vit.preprocessing import decode_predictions, preprocess_input
from keras_vit.weights import from_checkpoint

__version__ = "0.1.0.dev0"

__all__ = [
    "ViT",
    "ViTB16",
    "ViTB32",
    "ViTH14",
    "ViTL16",
    "ViTL32",
    "ViTS16",
    "ViTS32",
    "ViTTi16",
    "decode_predictions",
    "export",
    "from_checkpoint",
    "layers",
    "models",
    "preprocess_input",
    "weights",
]
