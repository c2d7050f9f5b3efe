"""Helpers shared by every part of keras_vit, importable from anywhere below it.

Nothing here imports Keras or any other part of keras_vit: argument checks with
errors that name the argument (`validation`), NumPy resampling of position
embeddings and maps over a grid (`resample`), what the CPU computes natively,
from its feature flags (`cpu`), whether a model or weights file is whole
(`file_checks`), output folders a failed command removes
(`folders`), and the progress of long work on stderr (`progress`).
"""

__all__ = ["cpu", "file_checks", "folders", "install", "lazy", "plotting", "progress", "resample", "validation"]
