"""keras_vit: the Vision Transformer (Dosovitskiy et al., ICLR 2021) for Keras 3.

Attributes load on first use (PEP 562): `import keras_vit` loads neither Keras
nor a backend. Every class a `.keras` file may name is registered with Keras'
serialization as soon as Keras is imported (`serialization.py`), so such files
load with `keras.saving.load_model` after `import keras_vit`.
"""

from keras_vit import serialization
from keras_vit.utils.lazy import lazy_attributes

__version__ = "0.1.0.dev0"

_BUILDERS = (
    "ViT", "ViTB16", "ViTB32", "ViTH14", "ViTHybrid", "ViTL16", "ViTL32", "ViTR26B32", "ViTR26S32",
    "ViTR50B16", "ViTR50L32", "ViTRTi16", "ViTS16", "ViTS32", "ViTTi16", "from_checkpoint",
    "ResNetV2", "ResNetV2R50x1", "ResNetV2R50x3", "ResNetV2R101x1", "ResNetV2R101x3", "ResNetV2R152x4",
    # The paper's descendants (keras_vit.variants.FAMILY_VARIANTS).
    "DeiTTi16",
    "DeiTS16",
    "DeiTB16",
    "DINOv2S14",
    "DINOv2B14",
    "DINOv2L14",
    "DINOv2g14",
    "DINOv2S14Reg",
    "DINOv2B14Reg",
    "DINOv2L14Reg",
    "DINOv2g14Reg",
    "SigLIPB16",
    "SigLIPSo400m14",
    "CLIPB32",
    "CLIPB16",
    "CLIPL14",
)
_SUBPACKAGES = (
    "ablation", "config", "data", "evaluation", "export", "inspect", "layers", "models", "pretraining", "quantization",
    "training", "utils", "variants", "weights",
)
__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        **{name: f"keras_vit.models:{name}" for name in _BUILDERS},
        **{name: f"keras_vit.{name}" for name in _SUBPACKAGES},
        "decode_predictions": "keras_vit.preprocessing:decode_predictions",
        "preprocess_input": "keras_vit.preprocessing:preprocess_input",
    },
)

# `from keras_vit import *` gives the builders and functions of keras.applications'
# kind; the subpackages stay attributes, so that `keras_vit.inspect` never shadows
# the standard library's `inspect` in a namespace that imports everything.
__all__ = sorted([*_BUILDERS, "decode_predictions", "preprocess_input"])

serialization.register_with_keras()
