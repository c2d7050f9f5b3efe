"""Makes every class a `.keras` file written by keras_vit may name known to Keras' deserialization.

Keras finds a saved file's custom classes (the layers, the `VisionTransformer`
and `ResNetV2Model` models, the learning-rate schedule a compiled model saves,
the masked-patch pre-training model) by their registered names in its table of
custom objects (`keras.saving.get_custom_objects()`), which their
`register_keras_serializable` decorators fill when their modules are imported.
`import keras_vit` imports none of them, nor Keras (so that `keras-vit --help`
starts at once). Instead it puts a stand-in for each class into that table as
soon as Keras is imported (or at once, where it already is): the stand-in
imports the class's module when Keras deserializes one, whose decorator then
puts the class itself in its place. So `keras.saving.load_model` reads keras_vit
files after `import keras_vit`, whichever of Keras and keras_vit comes first,
and no keras_vit module is imported while another is half-imported.
"""

import importlib
import importlib.abc
import importlib.util
import sys

# Every class keras_vit registers with Keras, by registered name, and the module
# that defines it (tests/test_serialization.py checks this against the source).
SERIALIZABLE = {
    "keras_vit>MultiHeadSelfAttention": "keras_vit.layers.attention",
    "keras_vit>AttentionPooling": "keras_vit.layers.attention_pooling",
    "keras_vit>ClassToken": "keras_vit.layers.class_token",
    "keras_vit>RegisterTokens": "keras_vit.layers.class_token",
    "keras_vit>LayerScale": "keras_vit.layers.layer_scale",
    "keras_vit>PatchEmbedding": "keras_vit.layers.patch_embedding",
    "keras_vit>SequencePooling": "keras_vit.layers.pooling",
    "keras_vit>AddPositionEmbedding": "keras_vit.layers.position_embedding",
    "keras_vit>AddPositionEmbedding2D": "keras_vit.layers.position_embedding",
    "keras_vit>NoPositionEmbedding": "keras_vit.layers.position_embedding",
    "keras_vit>AddSinCosPositionEmbedding2D": "keras_vit.layers.position_embedding",
    "keras_vit>StdConv2D": "keras_vit.layers.resnet",
    "keras_vit>MaxPooling2DSame": "keras_vit.layers.resnet",
    "keras_vit>BottleneckUnit": "keras_vit.layers.resnet",
    "keras_vit>ResNetStage": "keras_vit.layers.resnet",
    "keras_vit>PreActBottleneckUnit": "keras_vit.layers.resnet_v2",
    "keras_vit>PreActResNetStage": "keras_vit.layers.resnet_v2",
    "keras_vit>StochasticDepth": "keras_vit.layers.stochastic_depth",
    "keras_vit>TokenMap": "keras_vit.layers.token_map",
    "keras_vit>TransformerBlock": "keras_vit.layers.transformer_block",
    "keras_vit>ResNetV2Model": "keras_vit.models.bit",
    "keras_vit>VisionTransformer": "keras_vit.models.vision_transformer",
    "keras_vit>MaskedPatchPrediction": "keras_vit.pretraining.masked_patch",
    "keras_vit>DeiTDistiller": "keras_vit.training.distillation",
    "keras_vit>WarmupDecay": "keras_vit.training.schedules",
}


def register_with_keras():
    """Puts keras_vit's stand-ins in Keras' table of custom objects: now if Keras is
    imported, else right after its import."""
    if "keras" in sys.modules:
        _add_stand_ins()
    elif not any(isinstance(finder, _AfterKerasImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _AfterKerasImport())


class DeferredClass:
    """Stands in Keras' table of custom objects for a keras_vit class not imported yet.

    Keras calls `from_config` on what it finds there; the stand-in imports the
    class's module (whose decorator replaces the stand-in with the class) and
    hands the call on.

    Args:
        name: str. The registered name, `"keras_vit>Name"`.
        module: str. The module that defines the class.
    """

    def __init__(self, name, module):
        self.name = name
        self.module = module

    def resolve(self):
        """Imports the class's module and returns the class."""
        import keras

        importlib.import_module(self.module)
        found = keras.saving.get_custom_objects().get(self.name)
        if found is None or found is self:
            raise ImportError(f"{self.module} does not register {self.name} with Keras.")
        return found

    def from_config(self, config, *args, **kwargs):
        return self.resolve().from_config(config, *args, **kwargs)

    def __repr__(self):
        return f"DeferredClass({self.name!r}, {self.module!r})"


def _add_stand_ins():
    import keras

    table = keras.saving.get_custom_objects()
    for name, module in SERIALIZABLE.items():
        table.setdefault(name, DeferredClass(name, module))


class _AfterKerasImport(importlib.abc.MetaPathFinder):
    """Finds `keras` through the other finders and has its loader add the stand-ins
    once the module has run, then leaves `sys.meta_path`. A look-up that imports
    nothing (TensorFlow asks `importlib.util.find_spec("keras")` to see whether
    Keras is installed) leaves it in place for the import that follows."""

    def __init__(self):
        self._finding = False

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "keras" or self._finding:
            return None
        self._finding = True  # the look-up below asks the other finders, not this one
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            self._finding = False
        if spec is None or spec.loader is None:
            return None
        spec.loader = _RegisteringLoader(spec.loader, self)
        return spec


class _RegisteringLoader(importlib.abc.Loader):
    def __init__(self, loader, finder):
        self.loader = loader
        self.finder = finder

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        self.loader.exec_module(module)
        if self.finder in sys.meta_path:
            sys.meta_path.remove(self.finder)
        _add_stand_ins()
