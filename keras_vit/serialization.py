"""Registers with Keras every class that a `.keras` file written by keras_vit may name.

Keras finds a saved file's custom classes (the layers, the `VisionTransformer`
model, the learning-rate schedule a compiled model saves, the masked-patch
pre-training model) only once the modules defining them have been imported, as
that is when their `register_keras_serializable` decorators run. `import
keras_vit` imports none of them, nor Keras (so that `keras-vit --help` starts at
once); it calls `register_with_keras()`, which registers them as soon as Keras
itself is imported, or at once where it already is. So `keras.saving.load_model`
finds them after `import keras_vit`, in either order of the two imports.
"""

import importlib
import importlib.abc
import importlib.util
import sys

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


def register_with_keras():
    """Calls `register()` once Keras is imported: now if it is, else right after its import."""
    if "keras" in sys.modules:
        register()
    elif not any(isinstance(finder, _AfterKerasImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _AfterKerasImport())


class _AfterKerasImport(importlib.abc.MetaPathFinder):
    """Finds `keras` through the other finders and has its loader call `register()`
    once the module has run; then leaves `sys.meta_path`."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "keras":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = _RegisteringLoader(spec.loader)
        return spec


class _RegisteringLoader(importlib.abc.Loader):
    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        self.loader.exec_module(module)
        register()
