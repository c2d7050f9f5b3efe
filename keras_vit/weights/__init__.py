"""Pretrained weights: the registry, readers for every checkpoint format, loading.

`load_weights(model, source)` loads any source into a model; `from_checkpoint`
builds the model a file describes. `names(variant)` lists published weights.
"""

from keras_vit.weights.checkpoint import Checkpoint, infer_architecture, read_checkpoint
from keras_vit.weights.load import LoadReport, assign_weights
from keras_vit.weights.registry import REGISTRY, WeightsEntry, get, manifest, names
from keras_vit.weights.resample import resample_position_embedding
from keras_vit.weights.sources import from_checkpoint, load_weights

__all__ = [
    "Checkpoint",
    "LoadReport",
    "REGISTRY",
    "WeightsEntry",
    "assign_weights",
    "from_checkpoint",
    "get",
    "infer_architecture",
    "load_weights",
    "manifest",
    "names",
    "read_checkpoint",
    "resample_position_embedding",
]
