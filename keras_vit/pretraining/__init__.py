"""Self-supervised pre-training of a ViT: masked patch prediction (paper Appendix B.1.2)."""

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
