"""Pretrained weights: the registry, readers for every checkpoint format, loading.

`load_weights(model, source)` loads any source into a model;
`keras_vit.from_checkpoint` builds the model a file describes. `names(variant)`
lists published weights. This package reads, converts, resamples and assigns
arrays; building models is `keras_vit.models`' job. Attributes load on first
use, so the registry is readable without Keras.
"""

from keras_vit.utils.lazy import lazy_attributes

_ATTRIBUTES = {
    "Checkpoint": "keras_vit.weights.checkpoint",
    "infer_architecture": "keras_vit.weights.architecture",
    "read_checkpoint": "keras_vit.weights.reader",
    "LoadReport": "keras_vit.weights.load",
    "assign_weights": "keras_vit.weights.load",
    "load_weights": "keras_vit.weights.load",
    "REGISTRY": "keras_vit.weights.registry",
    "WeightsEntry": "keras_vit.weights.registry",
    "get": "keras_vit.weights.registry",
    "manifest": "keras_vit.weights.registry",
    "names": "keras_vit.weights.registry",
    "resample_position_embedding": "keras_vit.utils.resample",
}
__getattr__, __dir__ = lazy_attributes(__name__, {name: f"{module}:{name}" for name, module in _ATTRIBUTES.items()})
__all__ = sorted(_ATTRIBUTES)
