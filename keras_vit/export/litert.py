"""LiteRT (TensorFlow Lite) flatbuffers, in float32, float16, or int8.

Keras converts with `tf.lite.TFLiteConverter` from the TensorFlow backend. The
converter is held to the LiteRT builtin operators: an operation that would
need the TensorFlow ("Flex") kernels fails the export instead of producing a
file that the plain LiteRT interpreter cannot run. The batch size stays open;
the interpreter resizes the input to each batch. Inputs and outputs stay
float32 in every quantization, so every artifact is called the same way.
"""

import os

import numpy as np

from keras_vit.utils.install import install_hint

FORMAT = "litert"
PRECISIONS = (None, "float16", "dynamic_int8", "int8")
BACKENDS = ("tensorflow",)
# Models quantized in Keras (`keras_vit.training.quantize`) that this format's converter or runtime
# cannot take, by (backend, mode), measured with the pinned versions; `exporter` refuses them.
KERAS_QUANTIZED_UNSUPPORTED = {
    ("tensorflow", "int8"): "the LiteRT converter rejects the int8 BatchMatMul of Keras' int8 layers",
    ("tensorflow", "float8"): "LiteRT has no float8 kernels",
}
# The same words from every backend that cannot: what each would need.
_NEEDS = (
    "LiteRT files are written from the TensorFlow backend (TensorFlow's converter); JAX has no "
    "LiteRT converter, and Keras' torch route needs the litert-torch package, whose requirements "
    "conflict with the versions keras_vit is tested with"
)
UNSUPPORTED = {"jax": _NEEDS, "torch": _NEEDS}
SUFFIX = ".tflite"


def write(model, path, precision=None, representative_data=None):
    """Converts `model` to a `.tflite` file at `path`.

    Args:
        model: a keras_vit model.
        path: str. Ends in `.tflite`.
        precision: None (float32), `"float16"` (float16 weights),
            `"dynamic_int8"` (int8 weights, float activations) or `"int8"`
            (int8 weights and activations, calibrated on
            `representative_data`). Defaults to None.
        representative_data: array of images `(batch, height, width,
            channels)` in `[0, 255]`, or an iterable of such batches; needed
            for `"int8"` only. Defaults to None.
    """
    import tensorflow as tf

    builtins = [tf.lite.OpsSet.TFLITE_BUILTINS]
    settings = {}
    if precision is not None:
        settings["optimizations"] = [tf.lite.Optimize.DEFAULT]
    if precision == "float16":
        settings["target_spec"] = {"supported_ops": builtins, "supported_types": [tf.float16]}
    elif precision == "int8":
        settings["representative_dataset"] = _calibration(representative_data)
        settings["target_spec"] = {"supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]}
    else:
        settings["target_spec"] = {"supported_ops": builtins}
    model.export(path, format="litert", verbose=False, **settings)


def _calibration(representative_data):
    if representative_data is None:
        raise ValueError(
            "precision='int8' calibrates the activations' ranges on images like the "
            "ones the model will see: pass `representative_data`, an array of shape "
            "(batch, height, width, channels) in [0, 255] or an iterable of such batches "
            "(on the command line: --calibration-images). Received: representative_data=None"
        )
    batches = [representative_data] if isinstance(representative_data, np.ndarray) else representative_data

    def images():
        for batch in batches:
            for image in np.asarray(batch, dtype="float32"):
                yield [image[None]]

    return images


def is_artifact(path):
    """Whether `path` names a LiteRT file."""
    return str(path).endswith(SUFFIX)


class Runner:
    """A `.tflite` file in the LiteRT interpreter, called like a model on NumPy images.

    The interpreter is `ai_edge_litert`'s: TensorFlow 2.21 deprecates
    `tf.lite.Interpreter` in its favour. It runs on every core unless told
    otherwise (`num_threads`).
    """

    input_dtypes = ("float32",)

    def __init__(self, path, num_threads=None):
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as error:
            raise ImportError(
                "Running a .tflite file needs the LiteRT interpreter: "
                f"pip install ai-edge-litert (or {install_hint('export')})."
            ) from error
        self._interpreter = Interpreter(
            model_path=str(path), num_threads=num_threads or os.cpu_count()
        )
        self._input = self._interpreter.get_input_details()[0]
        self._output = self._interpreter.get_output_details()[0]
        self.input_shape = tuple(int(size) for size in self._input["shape"][1:])
        self._batch = None

    def __call__(self, images):
        images = np.asarray(images, dtype=self._input["dtype"])
        if images.shape[0] != self._batch:
            self._interpreter.resize_tensor_input(self._input["index"], images.shape)
            self._interpreter.allocate_tensors()
            self._batch = images.shape[0]
        self._interpreter.set_tensor(self._input["index"], images)
        self._interpreter.invoke()
        return np.array(self._interpreter.get_tensor(self._output["index"]))
