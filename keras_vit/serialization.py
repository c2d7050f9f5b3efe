"""Registers with Keras every class that a `.keras` file written by keras_vit may name.

Keras finds a saved file's custom classes (the layers, the `VisionTransformer`
model, the learning-rate schedule a compiled model saves, the masked-patch
pre-training model) only once the modules defining them have been imported, as
that is when their `register_keras_serializable` decorators run. `import
keras_vit` calls `register()`; so does the `keras-vit` command, which imports
lazily, before any command that may load a model file.
"""

import importlib

MODULES = (
    "keras_vit.layers",
    "keras_vit.models",
    "keras_vit.training.schedules",
    "keras_vit.pretraining.masked_patch",
)


def register():
    """Imports every module in `MODULES`, so `keras.saving.load_model` finds their classes."""
    for name in MODULES:
        importlib.import_module(name)
