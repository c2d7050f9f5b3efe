"""Pretrained weights: resampling of position embeddings to other resolutions."""

from keras_vit.weights.resample import resample_position_embedding

__all__ = ["resample_position_embedding"]
