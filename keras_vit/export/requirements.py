"""The packages each export needs, by format, backend and precision, checked before any slow work.

An export writes its file with a converter and then runs the file with its
own runtime to check it, and the converter depends on the backend: ONNX from
JAX is `jax2onnx` (the `export-jax` extra), from TensorFlow `tf2onnx`, from
torch `onnxscript`; OpenVINO from JAX and torch goes through ONNX. Every
missing package is named at once, with the extras that bring them, before a
model is loaded. This module imports neither Keras nor a converter, so the
command line can ask it first.
"""

from keras_vit.utils.install import installed, missing_text

# Modules that write each format, by backend (a backend not listed cannot write it).
WRITERS = {
    "tf_saved_model": {"tensorflow": ("tensorflow",), "jax": ("tensorflow",)},
    "litert": {"tensorflow": ("tensorflow",)},
    "onnx": {"tensorflow": ("tf2onnx", "onnx"), "jax": ("jax2onnx", "onnx"), "torch": ("onnxscript", "onnx")},
    "openvino": {
        "tensorflow": ("openvino",),
        "jax": ("jax2onnx", "onnx", "openvino"),
        "torch": ("onnxscript", "onnx", "openvino"),
    },
    "torch": {"torch": ("torch",)},
    "keras_hub": {backend: ("keras_hub",) for backend in ("tensorflow", "jax", "torch")},
}
# Modules that run each format's file, to check it against the model.
RUNTIMES = {
    "tf_saved_model": ("tensorflow",),
    "litert": ("ai_edge_litert",),
    "onnx": ("onnxruntime",),
    "openvino": ("openvino",),
    "torch": ("torch",),
    "keras_hub": ("keras_hub",),
}
# Modules a precision adds.
PRECISION_MODULES = {("openvino", "int8"): ("nncf",), ("openvino", "int8_weights"): ("nncf",)}
NAMES = {
    "tf_saved_model": "SavedModel",
    "litert": "LiteRT",
    "onnx": "ONNX",
    "openvino": "OpenVINO",
    "torch": ".pt2",
    "keras_hub": "keras-hub preset",
}
# Modules no extra of keras_vit brings, and the command that installs each. keras-hub
# installs without its TensorFlow Text dependency, which would pull in TensorFlow.
INSTALL_COMMANDS = {"keras_hub": "pip install --no-deps keras-hub && pip install absl-py packaging regex rich"}


def needed_modules(format, backend, precision=None, verify=True):
    """The modules an export needs, in order, without repeats.

    Args:
        format: str. A canonical format name (`keras_vit.export.FORMATS`).
        backend: str. The Keras backend it is exported from; one that cannot
            write the format needs nothing here (the exporter refuses it).
        precision: str or None. The file's own conversion. Defaults to None.
        verify: bool. Whether the file is run to check it. Defaults to True.

    Returns:
        tuple of str, the modules' import names.
    """
    modules = [*WRITERS[format].get(backend, ()), *PRECISION_MODULES.get((format, precision), ())]
    if verify:
        modules += RUNTIMES[format]
    return tuple(dict.fromkeys(modules))


def check_installed(format, backend, precision=None, verify=True):
    """Raises an `ImportError` naming every package the export needs and lacks, and the extras.

    Args: as for `needed_modules`.
    """
    missing = [module for module in needed_modules(format, backend, precision, verify) if not installed(module)]
    if missing:
        what = f"{NAMES[format]} export from the {backend} backend"
        if precision is not None:
            what += f" with precision {precision}"
        commands = [INSTALL_COMMANDS[module] for module in missing if module in INSTALL_COMMANDS]
        raise ImportError(f"{what}: {missing_text(missing)}" + "".join(f"; install it with {c}" for c in commands))
