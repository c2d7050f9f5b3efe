"""Self-supervised pre-training of a ViT: masked patch prediction (paper Appendix B.1.2).

`MaskedPatchPrediction(encoder)` wraps a keras_vit ViT for `model.fit` on
unlabelled images. Afterwards `encoder` itself holds the pre-trained weights:
save it (`encoder.save("encoder.keras")`) and fine-tune with
`keras_vit.ViT(..., weights="encoder.keras", num_classes=...)` or
`keras-vit train --weights encoder.keras`. `pretrain` (and `keras-vit
pretrain`) runs it end to end on any `keras_vit.data` source;
`mean_color_targets`, `downsampled_color_targets` and `pixel_targets` compute
what it predicts. The recipe is `keras_vit.training.RECIPES["masked_patch"]`.
"""

from keras_vit.pretraining.masked_patch import (
    CLEAN,
    MASK_TOKEN,
    RANDOM_PATCH,
    UNCHANGED,
    MaskedPatchPrediction,
)
from keras_vit.pretraining.run import ENCODER_FILE, PretrainResult, pretrain
from keras_vit.pretraining.targets import (
    TARGETS,
    color_index,
    downsampled_color_targets,
    image_patches,
    mean_color_targets,
    pixel_targets,
)

__all__ = [
    "CLEAN",
    "ENCODER_FILE",
    "MASK_TOKEN",
    "MaskedPatchPrediction",
    "PretrainResult",
    "RANDOM_PATCH",
    "TARGETS",
    "UNCHANGED",
    "color_index",
    "downsampled_color_targets",
    "image_patches",
    "mean_color_targets",
    "pixel_targets",
    "pretrain",
]
