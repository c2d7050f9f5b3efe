"""ONNX files with an open batch dimension, from every backend.

TensorFlow converts through `tf2onnx` and JAX through `jax2onnx`, both by
`model.export(format="onnx")`; TensorFlow computes the exact GELU with `Erfc`,
which tf2onnx has no handler for, so one is added (`1 - Erf`). On torch, Keras' exporter takes the TorchScript
tracer whenever the batch is dynamic, and that tracer cannot export Keras'
LayerNormalization (its normalized shape becomes a traced, non-constant
value); so torch goes through `torch.export` (`dynamo=True`, which needs
`onnxscript`) with the batch declared dynamic. jax2onnx 0.17 writes the hybrid
stem's SAME max-pool as a `MaxPool` node that onnxruntime rejects ("Unsupported
pooling size"), so hybrids are refused on JAX with the backends that can;
so are models built with `dynamic_image_size=True`, whose open height and
width jax2onnx cannot trace. TensorFlow and torch write those with a
dynamic height and width (torch declares them multiples of the patch stride).
"""

import importlib.util

import keras
import numpy as np

from keras_vit.export.torch_program import example_and_dynamic_shapes, inference_module
from keras_vit.models.vision_transformer import dynamic_patch_stride
from keras_vit.utils.install import extra_for, install_hint

FORMAT = "onnx"
PRECISIONS = (None,)
BACKENDS = ("tensorflow", "jax", "torch")
# Models quantized in Keras (`keras_vit.training.quantize`) that this format's converter or runtime
# cannot take, by (backend, mode), measured with the pinned versions; `exporter` refuses them.
KERAS_QUANTIZED_UNSUPPORTED = {
    ("tensorflow", "float8"): "tf2onnx has no float8 operations",
    ("jax", "int8"): "onnxruntime has no int8 Einsum",
    ("torch", "int4"): "onnxruntime rejects the int8 - float Sub of Keras' int4 layers",
}
UNSUPPORTED = {}
SUFFIX = ".onnx"
CONVERTERS = {"tensorflow": "tf2onnx", "jax": "jax2onnx", "torch": "onnxscript"}


def write(model, path, precision=None, representative_data=None):
    """Writes `model` as an ONNX file at `path`, input `images` with a dynamic batch."""
    del precision, representative_data  # ONNX is exported in float32 only.
    backend = keras.backend.backend()
    converter = CONVERTERS[backend]
    if importlib.util.find_spec(converter) is None:
        raise ImportError(
            f"ONNX export from the {backend} backend needs the `{converter}` package: "
            f"pip install {converter} (or {install_hint(extra_for(converter))})."
        )
    if backend == "jax":
        check_jax_convertible(model, "ONNX")
    if backend == "torch":
        _write_torch(model, path)
        return
    if backend == "tensorflow":
        _register_erfc()
    spec = keras.InputSpec(shape=(None, *model.input_shape[1:]), dtype="float32", name="images")
    model.export(path, format="onnx", verbose=False, input_signature=[spec])


def check_jax_convertible(model, format_name):
    """Raises for the models jax2onnx cannot write: the hybrids and dynamic-size models."""
    if _has_max_pool(model):
        raise ValueError(
            f"{format_name} export of {model.name!r} from the JAX backend is not supported: jax2onnx "
            "writes its ResNet stem's max-pool as a MaxPool node that onnxruntime rejects. "
            "Export it from the tensorflow or torch backend (KERAS_BACKEND=tensorflow)."
        )
    if dynamic_patch_stride(model) is not None:
        raise ValueError(
            f"{format_name} export of {model.name!r}, a dynamic-size model, from the JAX backend is not "
            "supported: jax2onnx cannot prove its open height and width divisible by the patch "
            "stride. Export it from the tensorflow or torch backend (KERAS_BACKEND=tensorflow), "
            "or from a model built without dynamic_image_size."
        )


def _has_max_pool(model):
    from keras_vit.layers.resnet import MaxPooling2DSame

    return any(isinstance(layer, MaxPooling2DSame) for layer in model.layers)


def _register_erfc():
    import tf2onnx
    from tf2onnx.handler import tf_op

    if getattr(tf2onnx, "_keras_vit_erfc", False):
        return

    @tf_op("Erfc")
    class Erfc:
        @classmethod
        def version_9(cls, ctx, node, **kwargs):
            dtype = tf2onnx.utils.map_onnx_to_numpy_type(ctx.get_dtype(node.input[0]))
            erf = ctx.make_node("Erf", [node.input[0]], op_name_scope=node.name)
            one = ctx.make_const(tf2onnx.utils.make_name("one"), np.array(1, dtype))
            shapes, dtypes = node.output_shapes, node.output_dtypes
            ctx.remove_node(node.name)
            ctx.make_node(
                "Sub", [one.output[0], erf.output[0]], outputs=node.output,
                name=node.name, shapes=shapes, dtypes=dtypes,
            )

    tf2onnx._keras_vit_erfc = True


def _write_torch(model, path):
    import torch

    example, dynamic_shapes = example_and_dynamic_shapes(model)
    program = torch.onnx.export(
        inference_module(model),
        (example,),
        input_names=["images"],
        output_names=["outputs"],
        dynamic_shapes=dynamic_shapes,
        dynamo=True,
        verbose=False,
    )
    program.save(path)


def is_artifact(path):
    """Whether `path` names an ONNX file."""
    return str(path).endswith(SUFFIX)


class Runner:
    """An ONNX file in onnxruntime (CPU), called like a model on NumPy images."""

    input_dtypes = ("float32",)

    def __init__(self, path):
        import onnxruntime

        self._session = onnxruntime.InferenceSession(
            str(path), providers=["CPUExecutionProvider"]
        )
        self._input = self._session.get_inputs()[0]
        # An open height or width is a name (a string) in ONNX: None here.
        self.input_shape = tuple(size if isinstance(size, int) else None for size in self._input.shape[1:])

    def __call__(self, images):
        images = np.asarray(images, dtype="float32")
        return self._session.run(None, {self._input.name: images})[0]
