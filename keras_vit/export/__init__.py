"""Export to TensorFlow SavedModel, LiteRT (TFLite), ONNX, OpenVINO, PyTorch `.pt2` and keras-hub presets, each checked against the model.

`export_model(model, path, format)` writes the artifact, runs it with its own runtime
and keeps it only if it computes what the Keras model computes; `load(path)`
runs an artifact on NumPy images.
"""

from keras_vit.export.exporter import (
    ALIASES,
    FORMATS,
    PRECISIONS,
    ExportReport,
    UnsupportedExportError,
    check_request,
    export_model,
    load,
    with_preprocessing,
)
from keras_vit.export.parity import (
    KERAS_QUANTIZED,
    TOLERANCES,
    ParityError,
    ParityReport,
    Tolerance,
    sample_images,
    verify,
)

__all__ = [
    "ALIASES",
    "FORMATS",
    "PRECISIONS",
    "KERAS_QUANTIZED",
    "TOLERANCES",
    "ExportReport",
    "ParityError",
    "ParityReport",
    "Tolerance",
    "UnsupportedExportError",
    "check_request",
    "export_model",
    "load",
    "sample_images",
    "verify",
    "with_preprocessing",
]
