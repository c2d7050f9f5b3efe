"""The paper's training recipes, mixed precision, distribution and callbacks for `model.fit`,
DeiT's distillation, and Keras-native quantization and LoRA."""

from keras_vit.quantization import QUANTIZATION_MODES, quantize, quantized_layers
from keras_vit.training.callbacks import EpochCheckpoint, save_atomically
from keras_vit.training.distillation import DeiTDistiller, HardDistillation
from keras_vit.training.distribution import distribute, layout_map
from keras_vit.training.lora import LORA_TARGETS, LoRASummary, enable_lora, merge_lora
from keras_vit.training.precision import flush_denormals, set_mixed_precision
from keras_vit.training.recipes import (
    FINETUNE,
    PRETRAIN,
    RECIPES,
    Recipe,
    classification_loss,
    finetune_optimizer,
    pretrain_optimizer,
)
from keras_vit.training.run import TrainConfig, TrainResult, train
from keras_vit.training.schedules import WarmupDecay

__all__ = [
    "DeiTDistiller",
    "EpochCheckpoint",
    "FINETUNE",
    "HardDistillation",
    "LORA_TARGETS",
    "LoRASummary",
    "PRETRAIN",
    "QUANTIZATION_MODES",
    "RECIPES",
    "Recipe",
    "TrainConfig",
    "TrainResult",
    "WarmupDecay",
    "classification_loss",
    "distribute",
    "enable_lora",
    "finetune_optimizer",
    "flush_denormals",
    "layout_map",
    "merge_lora",
    "pretrain_optimizer",
    "quantize",
    "quantized_layers",
    "save_atomically",
    "set_mixed_precision",
    "train",
]
