"""Helpers shared by every part of keras_vit, importable from anywhere below it.

Nothing here imports Keras or any other part of keras_vit: argument checks with
errors that name the argument (`validation`), NumPy resampling of position
embeddings and maps over a grid (`resample`), and what the CPU computes natively,
from its feature flags (`cpu`).
"""

__all__ = ["cpu", "install", "lazy", "plotting", "resample", "validation"]
