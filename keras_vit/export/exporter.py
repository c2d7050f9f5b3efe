"""`export_model`: write a model in a deployment format, check it, and only then keep it."""

import dataclasses
import os
import shutil
import uuid

import keras
import numpy as np

from keras_vit.export import keras_hub, labels, litert, onnx, openvino, requirements, saved_model, torch_export
from keras_vit.export.parity import sample_images
from keras_vit.export.parity import verify as verify_artifact
from keras_vit.inspect.geometry import token_grid
from keras_vit.models.vision_transformer import dynamic_patch_stride
from keras_vit.preprocessing import includes_preprocessing, rescaling_layer
from keras_vit.quantization import quantized_layers
from keras_vit.utils import progress

FORMATS = {module.FORMAT: module for module in (saved_model, litert, onnx, openvino, torch_export, keras_hub)}
ALIASES = {"saved_model": "tf_saved_model", "tflite": "litert", "pt2": "torch"}
# Each format as the progress lines name it.
LABELS = {**requirements.NAMES, "tf_saved_model": "a SavedModel", "keras_hub": "a keras-hub preset"}
PRECISIONS = {name: module.PRECISIONS for name, module in FORMATS.items()}


def check_exportable(model, format):
    """Raises if a layer of `model` quantized in Keras is one that `format`'s converter or
    runtime cannot take from the running backend (its `KERAS_QUANTIZED_UNSUPPORTED`)."""
    backend = keras.backend.backend()
    for path, mode in quantized_layers(model).items():
        reason = FORMATS[format].KERAS_QUANTIZED_UNSUPPORTED.get((backend, mode))
        if reason:
            raise ValueError(
                f"Cannot export {model.name!r} to {format} from the {backend} backend: it is "
                f"quantized to {mode} (layer {path}, with Keras' model.quantize) and {reason}. "
                "Export the float model instead (for a small LiteRT file: precision="
                "'dynamic_int8'), or see the export docs' table of what each backend writes."
            )


class UnsupportedExportError(ValueError):
    """The running Keras backend cannot write the format asked for."""


@dataclasses.dataclass
class ExportReport:
    """What `export` wrote and how closely it matches the model.

    Attributes:
        path: str. The artifact.
        format: str. `"tf_saved_model"`, `"litert"`, `"onnx"`, `"openvino"`, `"torch"` or
            `"keras_hub"`.
        precision: str or None.
        backend: str. The Keras backend it was exported from.
        size_bytes: int. Size of the file, or of the artifact's files.
        parity_by_size: dict. `{(height, width): ParityReport}` for every
            image size checked: two for a dynamic-size model's file of open
            height and width, else one; empty when not verified.
        parity: `ParityReport` at the first size checked, or None when not
            verified (read from `parity_by_size`).
    """

    path: str
    format: str
    precision: object
    backend: str
    size_bytes: int
    parity_by_size: dict = dataclasses.field(default_factory=dict)

    @property
    def parity(self):
        return next(iter(self.parity_by_size.values()), None)

    def __str__(self):
        checked = "; not verified"
        if self.parity_by_size:
            checked = "".join(f"; at {h}x{w}: {report}" for (h, w), report in self.parity_by_size.items())
        return (
            f"{self.path}: {self.format} ({self.precision or 'float32'}) from {self.backend}, "
            f"{self.size_bytes / 2**20:.2f} MiB{checked}"
        )


def export_model(
    model,
    path,
    format,
    precision=None,
    verify=True,
    overwrite=False,
    representative_data=None,
    image_size=None,
    class_names=None,
    **removed,
):
    """Exports `model` to `path` and checks the artifact against the model.

    The artifact takes RGB pixels in `[0, 255]` of any batch size, with the
    model's preprocessing inside: a model built with `include_preprocessing=
    False` gets the `[-1, 1]` scaling of `keras_vit.preprocess_input` in front.
    The file is written beside `path` under a temporary name, run with its
    own runtime (TensorFlow, the LiteRT interpreter, onnxruntime, OpenVINO,
    PyTorch or keras-hub) on sample
    images, compared with `model.predict`, and renamed to `path` only if it
    agrees within `keras_vit.export.TOLERANCES[precision]`; on any failure
    nothing is left behind.

    A model built with `dynamic_image_size=True` keeps its open height and
    width in a SavedModel, in ONNX and OpenVINO (from TensorFlow and torch)
    and in a `.pt2` file, and is
    checked at two sizes: the one it was built for and a larger one. A
    LiteRT file takes one size, `image_size`.

    Args:
        model: a keras_vit model (any `keras.Model` taking images).
        path: str. Where to write: a directory for `"tf_saved_model"`, a
            `.tflite` file for `"litert"`, an `.onnx` file for `"onnx"`, an
            `.xml` file (with its `.bin` beside it) for `"openvino"`, a `.pt2`
            file for `"torch"`, a preset folder for `"keras_hub"`.
        format: str. `"tf_saved_model"` (or `"saved_model"`), `"litert"` (or
            `"tflite"`), `"onnx"`, `"openvino"`, `"torch"` (or `"pt2"`:
            a `torch.export` ExportedProgram, from the torch backend), or
            `"keras_hub"`: a keras-hub preset folder of its `ViTBackbone` and,
            with a head, `ViTImageClassifier` (`keras_vit.export.keras_hub`
            says what it can express and what its check compares).
        precision: The file's own numeric conversion, made by the format's
            converter: None, or for `"litert"` one of `"float16"`,
            `"dynamic_int8"` and `"int8"`, or for `"openvino"` one of
            `"bfloat16"`, `"int8_weights"` and `"int8"`. Defaults to None
            (float32). A model quantized in Keras first
            (`keras_vit.training.quantize`) is exported as it computes, with None.
        verify: bool, or an array of images in `[0, 255]` to compare on. True
            compares on `keras_vit.export.sample_images`. Defaults to True.
        overwrite: bool. Replace an existing `path`. Defaults to False.
        representative_data: images for `precision="int8"` (LiteRT or
            OpenVINO) to calibrate on:
            an array `(batch, height, width, channels)` in `[0, 255]` or an
            iterable of such batches. Defaults to None.
        image_size: pair of ints or None. The fixed `(height, width)` of a
            LiteRT file exported from a dynamic-size model; None takes the
            size the model was built for. Only for that case. Defaults to None.
        class_names: sequence of str or None. The name of each output, in
            order, kept with the artifact (see `keras_vit.export.labels`) for
            `load` and `keras-vit predict`. None keeps none, and removes names
            an earlier export left at `path`. Defaults to None.
        **removed: `quantize=`, the name `precision` had before, raises a
            `TypeError` saying so.

    Returns:
        An `ExportReport`.

    Raises:
        ValueError: for an unknown format or quantization, a path that
            exists, a file name the format does not use, or a model quantized
            in a mode the format's converter or runtime cannot take.
        UnsupportedExportError: when this backend cannot write the format;
            the message names the backend that can.
        ParityError: when the artifact does not match the model.
    """
    _check_removed(removed)
    format, precision = check_request(format, precision, verify=verify is not False)
    class_names = labels.check_class_names(class_names, model)
    check_exportable(model, format)
    module = FORMATS[format]
    path = os.path.abspath(os.fspath(path))
    _check_path(module, path, overwrite)
    model, sizes = _fix_size(with_preprocessing(model), format, image_size)
    staging = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.partial-{uuid.uuid4().hex[:8]}")
    os.makedirs(staging)
    try:
        staged = os.path.join(staging, os.path.basename(path))
        label = LABELS[format] + (f" ({precision})" if precision else "")
        with progress.stage(f"exporting to {label}"):
            module.write(model, staged, precision=precision, representative_data=representative_data)
        parity = {}
        if verify is not False:
            with progress.stage("loading the exported model with its runtime"):
                runner = module.Runner(staged)
            if verify is True:
                batches = {size: sample_images((*size, model.input_shape[-1])) for size in sizes}
            else:
                batches = {tuple(np.shape(verify)[1:3]): verify}
            parity = {size: verify_artifact(model, runner, precision, images) for size, images in batches.items()}
        size = sum(_size(file) for file in _files(module, staged))
        _replace(module, staged, path, aside=os.path.join(staging, "replaced"))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    labels.write_class_names(path, class_names)
    return ExportReport(path, format, precision, keras.backend.backend(), size, parity)


def load(path, compile=False):
    """Loads an exported artifact with its own runtime, to call on NumPy images.

    Args:
        path: str. A SavedModel directory, a `.tflite`, `.onnx`, `.xml`
            (OpenVINO) or `.pt2` file, or a keras-hub preset folder.
        compile: False, True or `"max-autotune"`; a `.pt2` file only. True
            runs the program compiled by TorchInductor (`torch.compile`) with
            its weights frozen into the compiled code, keras_vit's fastest CPU
            inference; `"max-autotune"` also times TorchInductor's own matmul
            kernels for every shape. Each new input shape compiles on its first
            call (ViT-B/16: about 20 s on 2 CPU cores), and compiling needs a
            C++ compiler. Defaults to False: the program runs as exported.

    Returns:
        A callable taking float32 images `(batch, height, width, channels)`
        in `[0, 255]` and returning the model's outputs as a NumPy array; its
        `input_shape` is `(height, width, channels)`, `input_dtypes` the
        dtypes it accepts and `class_names` the names exported with it (None
        if there are none).
    """
    path = os.fspath(path)
    _check_compile(compile)
    if not os.path.exists(path):
        raise ValueError(f"No such file or directory: {path}")
    for module in FORMATS.values():
        if module.is_artifact(path):
            if compile and module.FORMAT != "torch":
                raise ValueError(
                    f"`compile` applies to .pt2 files (torch.compile), not to {path}, a "
                    f"{module.FORMAT} artifact: load it with compile=False. Received: compile={compile!r}"
                )
            runner = module.Runner(path, compile=compile) if compile else module.Runner(path)
            runner.class_names = labels.read_class_names(path)
            return runner
    raise ValueError(
        f"{path} is not an exported model: expected a SavedModel directory "
        "(with saved_model.pb), a .tflite, .onnx, .xml (OpenVINO) or .pt2 file, or a keras-hub "
        "ViT preset folder (config.json naming keras_hub>ViTBackbone)."
    )


def _check_compile(compile):
    if compile is False or compile is True or compile == "max-autotune":
        return
    raise ValueError(
        f"`compile` must be False, True or 'max-autotune'. Received: compile={compile!r}"
    )


def _check_removed(removed):
    if "quantize" in removed:
        raise TypeError(
            "export_model's `quantize` is now `precision`: the file's own conversion (float16, "
            "dynamic_int8, int8, bfloat16, int8_weights). To quantize the model in Keras (int8, "
            "int4, float8), call keras_vit.training.quantize(model, mode) before exporting it. Received: "
            f"quantize={removed['quantize']!r}"
        )
    if removed:
        raise TypeError(f"export_model() got an unexpected keyword argument {next(iter(removed))!r}")


def check_request(format, precision=None, verify=True):
    """Checks an export before any work: the format and precision, that the
    running backend writes it, and that every package it needs is installed.

    Args:
        format: str. A format name or alias.
        precision: str or None. The file's own conversion.
        verify: bool. Whether the file will be run to check it (its runtime
            is then needed too). Defaults to True.

    Returns:
        The canonical format name, and the precision (None for float32).

    Raises:
        ValueError: for an unknown format or precision.
        UnsupportedExportError: when the running backend cannot write the format.
        ImportError: naming every package missing, and the extras that bring them.
    """
    name = ALIASES.get(format, format)
    if name not in FORMATS:
        known = sorted([*FORMATS, *ALIASES])
        raise ValueError(f"`format` must be one of {known}. Received: format={format!r}")
    precision = None if precision == "float32" else precision
    if precision not in FORMATS[name].PRECISIONS:
        allowed = ["float32" if q is None else q for q in FORMATS[name].PRECISIONS]
        raise ValueError(
            f"`precision` for {name} must be one of {allowed}. Received: precision={precision!r}"
        )
    backend = keras.backend.backend()
    if backend not in FORMATS[name].BACKENDS:
        reason = FORMATS[name].UNSUPPORTED.get(backend, "no exporter for it")
        able = " or ".join(FORMATS[name].BACKENDS)
        raise UnsupportedExportError(
            f"Cannot export to {name} from the {backend} backend: {reason}. Export from "
            f"the {able} backend instead: set KERAS_BACKEND={FORMATS[name].BACKENDS[0]} "
            "before importing Keras, and load the model there (from its .keras file)."
        )
    requirements.check_installed(name, backend, precision, verify)
    return name, precision


def _fix_size(model, format, image_size):
    """The model to write and the image sizes to check it at.

    A dynamic-size model is checked at its built size and at a larger one
    (one more patch stride down, two across); a LiteRT file, which takes
    one size, is written from a fixed-size view of it at `image_size`.
    """
    stride = dynamic_patch_stride(model)
    if stride is None:
        if image_size is not None:
            raise ValueError(
                "`image_size` fixes the size of a LiteRT file exported from a model built "
                f"with dynamic_image_size=True; {model.name!r} has a fixed size "
                f"{model.input_shape[1:3]}. Received: image_size={image_size!r}"
            )
        return model, [tuple(model.input_shape[1:3])]
    built = token_grid(model).image_size
    if format != "litert":
        if image_size is not None:
            raise ValueError(
                f"A {format} export keeps a dynamic-size model's open height and width; "
                f"`image_size` is for LiteRT only. Received: image_size={image_size!r}"
            )
        return model, [built, (built[0] + stride, built[1] + 2 * stride)]
    size = built if image_size is None else token_grid(model, image_size).image_size
    images = keras.Input((*size, model.input_shape[-1]), name="images")
    return keras.Model(images, model(images), name=model.name), [size]


def _check_path(module, path, overwrite):
    suffix = getattr(module, "SUFFIX", None)
    if suffix and not path.endswith(suffix):
        name = requirements.NAMES[module.FORMAT]
        article = "An" if name[0] in "AEIOU" else "A"
        raise ValueError(f"{article} {name} file must end in {suffix}. Received: path={path!r}")
    existing = [file for file in _files(module, path) if os.path.lexists(file)]
    if existing and not overwrite:
        raise ValueError(f"{existing[0]} exists; pass overwrite=True (--overwrite) to replace it.")
    if not os.path.isdir(os.path.dirname(path)):
        raise ValueError(f"The folder of {path} does not exist.")


def with_preprocessing(model):
    """`model` if it takes `[0, 255]` pixels, else a model that scales them first.

    keras_vit builders name their input scaling layer `preprocessing`
    (`include_preprocessing=True`, the default); without it, the model
    expects `[-1, 1]` and the `keras_vit.preprocess_input` scaling is added.
    """
    if includes_preprocessing(model):
        return model
    images = keras.Input(model.input_shape[1:], name="images")
    pixels = rescaling_layer()(images)
    return keras.Model(images, model(pixels), name=model.name)


def _size(path):
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(
        os.path.getsize(os.path.join(folder, name))
        for folder, _, names in os.walk(path)
        for name in names
    )


def _files(module, path):
    """The files of the artifact at `path`: itself, and those the format keeps beside it."""
    return [path, *getattr(module, "companions", lambda path: [])(path)]


def _replace(module, staged, path, aside):
    # A directory cannot be renamed over another: what is at `path` moves into
    # the staging folder first, and goes with it. Companion files (OpenVINO's
    # weights) move in first, so the artifact's main file is the last to land.
    os.makedirs(aside)
    pairs = list(zip(_files(module, staged), _files(module, path)))
    for index, (_, target) in enumerate(pairs):
        if os.path.lexists(target):
            os.replace(target, os.path.join(aside, str(index)))
    for source, target in reversed(pairs):
        os.replace(source, target)
