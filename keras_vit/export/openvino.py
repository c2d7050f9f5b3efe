"""OpenVINO IR (`.xml` with its `.bin` of weights): float32, bfloat16, or int8 through NNCF.

From TensorFlow, Keras converts the model (`model.export(format="openvino")`);
from torch and JAX, OpenVINO reads the ONNX file keras_vit's ONNX export writes
there (`keras_vit.export.onnx`), so the same models and limits apply: JAX
cannot write the hybrids or dynamic-size models. (Keras' own route from JAX
goes through jax2tf's non-native serialization, which JAX 0.10 no longer has:
the converter meets `XlaCallModule` operations it cannot translate. Keras'
route from torch traces with TorchScript, which leaves every dimension open
and names the input `input`.)
The batch is open, and so are the height and width of a model built with
`dynamic_image_size=True` (from TensorFlow and torch). Weights are kept in
float32 (OpenVINO's `save_model` would halve them to float16 by default).

Precisions (`precision=`):

- None: float32. OpenVINO's CPU plugin computes in bfloat16 by default on
  CPUs that have it (AMX, AVX-512 BF16); keras_vit's runner asks for float32.
- `"bfloat16"`: the same file, marked to run with the bfloat16 inference
  precision (`INFERENCE_PRECISION_HINT`); a CPU without bfloat16 runs float32.
- `"int8_weights"`: the matmuls' weights in int8 (NNCF's `compress_weights`,
  asymmetric, per output channel), activations in float.
- `"int8"`: weights and activations in int8 (NNCF's `quantize`, transformer
  preset), activation ranges calibrated on `representative_data`, every
  weight kept to 7 bits (NNCF's `overflow_fix`) so that the file computes the
  same on every CPU: without VNNI or AMX, OpenVINO's int8 kernels sum pairs of
  8-bit products in 16 bits, which saturate. With NNCF's default (7 bits in
  the first layer only) the test ViT's outputs were off by their whole scale
  on AVX2 and AVX-512 without VNNI, and by a fifth of it with VNNI
  (docs/export.md has the figures).

The precision to run with is kept in the file's runtime information under
`keras_vit/inference_precision` (OpenVINO does not read its own
`runtime_options` for it); `load` applies it. Plain OpenVINO users pass
`{"INFERENCE_PRECISION_HINT": "f32"}` (or `"bf16"`) to `compile_model`.
"""

import importlib.util
import os
import tempfile

import keras
import numpy as np

from keras_vit.export import onnx
from keras_vit.utils import progress
from keras_vit.utils.install import install_hint

FORMAT = "openvino"
PRECISIONS = (None, "bfloat16", "int8_weights", "int8")
BACKENDS = ("tensorflow", "torch", "jax")
# Models quantized in Keras (`keras_vit.training.quantize`) that this format's converter or runtime
# cannot take, by (backend, mode), measured with the pinned versions; `exporter` refuses them.
KERAS_QUANTIZED_UNSUPPORTED = {
    ("tensorflow", "int8"): "OpenVINO miscomputes the int8 matmuls of Keras' int8 layers "
    "from TensorFlow (outputs off by their whole scale)",
    ("tensorflow", "float8"): "OpenVINO's CPU plugin has no kernel for the float8 casts",
    ("torch", "float8"): "OpenVINO rounds the float8 casts otherwise than Keras "
    "(0.064 on outputs of 1.4, past the check)",
    ("torch", "int4"): "OpenVINO's ONNX reader rejects the int8 - float Sub of Keras' int4 layers",
    **{
        ("jax", mode): "OpenVINO misreads the quantized operations jax2onnx writes "
        "(outputs off by 0.14 to 1.9 on a scale of 1)"
        for mode in ("int8", "float8", "int4")
    },
}
UNSUPPORTED = {}
SUFFIX = ".xml"
PRECISION_KEY = ["keras_vit", "inference_precision"]
_INFERENCE_PRECISIONS = {None: "f32", "bfloat16": "bf16", "int8_weights": "f32", "int8": "f32"}


def write(model, path, precision=None, representative_data=None):
    """Writes `model` as OpenVINO IR at `path` (`.xml`, and `.bin` beside it).

    Args:
        model: a keras_vit model.
        path: str. Ends in `.xml`.
        precision: None (float32), `"bfloat16"`, `"int8_weights"` or
            `"int8"` (see the module's docstring). Defaults to None.
        representative_data: array of images `(batch, height, width,
            channels)` in `[0, 255]`, or an iterable of such batches; needed
            for `"int8"` only. Defaults to None.
    """
    _require("openvino", "OpenVINO export")
    if precision in ("int8_weights", "int8"):
        _require("nncf", f"OpenVINO precision={precision!r}")
    calibration = _calibration(representative_data) if precision == "int8" else None
    import openvino

    with tempfile.TemporaryDirectory(dir=os.path.dirname(path)) as folder:
        converted = _convert(model, folder)
        if precision in ("int8_weights", "int8"):
            calibrated = f", calibrating on {len(calibration)} images" if calibration is not None else ""
            with progress.stage(f"quantizing to {precision} with NNCF{calibrated}"):
                converted = _quantize(converted, precision, calibration)
        converted.set_rt_info(_INFERENCE_PRECISIONS[precision], PRECISION_KEY)
        openvino.save_model(converted, path, compress_to_fp16=False)


def _require(module, what):
    if importlib.util.find_spec(module) is None:
        raise ImportError(f"{what} needs the `{module}` package: {install_hint('openvino')}.")


def _convert(model, folder):
    """The model in OpenVINO's in-memory form, its input named `images`."""
    import openvino

    if keras.backend.backend() == "tensorflow":
        staged = os.path.join(folder, "model.xml")
        spec = keras.InputSpec(shape=(None, *model.input_shape[1:]), dtype="float32", name="images")
        model.export(staged, format="openvino", verbose=False, input_signature=[spec])
        return openvino.Core().read_model(staged)
    if keras.backend.backend() == "jax":
        onnx.check_jax_convertible(model, "OpenVINO")
    staged = os.path.join(folder, "model.onnx")
    onnx.write(model, staged)
    return openvino.convert_model(staged)


def _quantize(converted, precision, calibration):
    if precision == "int8_weights":
        import nncf

        return nncf.compress_weights(converted, mode=nncf.CompressWeightsMode.INT8_ASYM)
    if precision == "int8":
        import nncf
        from nncf.quantization.advanced_parameters import AdvancedQuantizationParameters, OverflowFix

        return nncf.quantize(
            converted,
            nncf.Dataset(calibration),
            model_type=nncf.ModelType.TRANSFORMER,
            subset_size=len(calibration),
            advanced_parameters=AdvancedQuantizationParameters(overflow_fix=OverflowFix.ENABLE),
        )
    return converted


def _calibration(representative_data):
    if representative_data is None:
        raise ValueError(
            "precision='int8' calibrates the activations' ranges on images like the "
            "ones the model will see: pass `representative_data`, an array of shape "
            "(batch, height, width, channels) in [0, 255] or an iterable of such batches "
            "(on the command line: --calibration-images). Received: representative_data=None"
        )
    batches = [representative_data] if isinstance(representative_data, np.ndarray) else representative_data
    return [image[None] for batch in batches for image in np.asarray(batch, dtype="float32")]


def companions(path):
    """The weights file OpenVINO keeps beside the `.xml` at `path`."""
    return [str(path)[: -len(SUFFIX)] + ".bin"]


def is_artifact(path):
    """Whether `path` names an OpenVINO IR file."""
    return str(path).endswith(SUFFIX)


class Runner:
    """An OpenVINO IR file compiled for the CPU, called like a model on NumPy images.

    Args:
        path: str. The `.xml` file.
        precision: None, `"f32"` or `"bf16"`: the inference precision. None
            takes the one the file was exported for. Defaults to None.
    """

    input_dtypes = ("float32",)

    def __init__(self, path, precision=None):
        try:
            import openvino
        except ImportError as error:
            raise ImportError(f"Running an OpenVINO file needs OpenVINO: {install_hint('openvino')}.") from error
        core = openvino.Core()
        model = core.read_model(str(path))
        if precision is None:
            precision = model.get_rt_info(PRECISION_KEY).astype(str) if model.has_rt_info(PRECISION_KEY) else "f32"
        self.precision = precision
        self.input_shape = tuple(
            None if size.is_dynamic else size.get_length() for size in model.inputs[0].get_partial_shape()[1:]
        )
        self._compiled = core.compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": precision})

    def __call__(self, images):
        return np.array(self._compiled(np.asarray(images, dtype="float32"))[0])
