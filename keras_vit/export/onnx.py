"""ONNX files with an open batch dimension, from every backend.

TensorFlow converts through `tf2onnx` and JAX through `jax2onnx`, both by
`model.export(format="onnx")`. On torch, Keras' exporter takes the TorchScript
tracer whenever the batch is dynamic, and that tracer cannot export Keras'
LayerNormalization (its normalized shape becomes a traced, non-constant
value); so torch goes through `torch.export` (`dynamo=True`, which needs
`onnxscript`) with the batch declared dynamic.
"""

import importlib.util

import keras
import numpy as np

FORMAT = "onnx"
QUANTIZATIONS = (None,)
BACKENDS = ("tensorflow", "jax", "torch")
UNSUPPORTED = {}
SUFFIX = ".onnx"
CONVERTERS = {"tensorflow": "tf2onnx", "jax": "jax2onnx", "torch": "onnxscript"}


def write(model, path, quantize=None, representative_data=None):
    """Writes `model` as an ONNX file at `path`, input `images` with a dynamic batch."""
    del quantize, representative_data  # ONNX is exported in float32 only.
    backend = keras.backend.backend()
    converter = CONVERTERS[backend]
    if importlib.util.find_spec(converter) is None:
        raise ImportError(
            f"ONNX export from the {backend} backend needs the `{converter}` package: "
            f"pip install {converter} (or keras-vit[export])."
        )
    if backend == "torch":
        _write_torch(model, path)
        return
    spec = keras.InputSpec(shape=(None, *model.input_shape[1:]), dtype="float32", name="images")
    model.export(path, format="onnx", verbose=False, input_signature=[spec])


def _write_torch(model, path):
    import torch

    class Inference(torch.nn.Module):
        def __init__(self, wrapped):
            super().__init__()
            self.wrapped = wrapped

        def forward(self, images):
            return self.wrapped(images, training=False)

    module = Inference(model).eval()
    # On the device Keras computes on, which is where the model's variables live.
    example = keras.ops.zeros((2, *model.input_shape[1:]), dtype="float32")
    program = torch.onnx.export(
        module,
        (example,),
        input_names=["images"],
        output_names=["outputs"],
        dynamic_shapes={"images": {0: torch.export.Dim("batch", min=1)}},
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
        self.input_shape = tuple(int(size) for size in self._input.shape[1:])

    def __call__(self, images):
        images = np.asarray(images, dtype="float32")
        return self._session.run(None, {self._input.name: images})[0]
