"""Pretrained weights: the registry, readers for every checkpoint format, loading.

`load_weights(model, source)` loads any source into a model;
`keras_vit.from_checkpoint` builds the model a file describes. `names(variant)`
lists published weights. This package reads, converts, resamples and assigns
arrays; building models is `keras_vit.models`' job.
"""

from keras_vit.utils.resample import resample_position_embedding
from keras_vit.weights.architecture import Checkpoint, infer_architecture
from keras_vit.weights.checkpoint import read_checkpoint
from keras_vit.weights.load import LoadReport, assign_weights, load_weights
from keras_vit.weights.registry import REGISTRY, WeightsEntry, get, manifest, names

__all__ = [
    "Checkpoint",
    "LoadReport",
    "REGISTRY",
    "WeightsEntry",
    "assign_weights",
    "get",
    "infer_architecture",
    "load_weights",
    "manifest",
    "names",
    "read_checkpoint",
    "resample_position_embedding",
]
