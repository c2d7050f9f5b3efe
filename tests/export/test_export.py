"""Export to every format this backend can write, reloaded with the format's own runtime."""

import collections
import functools
import os
import pathlib
import shutil

import numpy as np
import pytest

from keras_vit import export as kv_export
from keras_vit.export import (
    FORMATS,
    TOLERANCES,
    ParityError,
    Tolerance,
    UnsupportedExportError,
    sample_images,
    verify,
)
from tests.export.conftest import ARTIFACT_FILES, FILE_NAMES, QUICKEST
from tests.export.models import CASES, MODELS, backend, pixels, reference


def _supported(format):
    if backend() not in FORMATS[format].BACKENDS:
        pytest.skip(f"{format} cannot be exported from {backend()}; test_unsupported_* checks the error")


def _run_saved_model(path, images):
    import tensorflow as tf

    loaded = tf.saved_model.load(path)  # Held until the calls are done.
    serving = loaded.signatures["serving_default"]
    floats = next(iter(serving(images=tf.constant(images)).values())).numpy()
    as_uint8 = loaded.serve_uint8(tf.constant(images.astype("uint8"))).numpy()
    np.testing.assert_array_equal(floats, as_uint8)
    return floats


def _run_litert(path, images):
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=path)
    [source], [target] = interpreter.get_input_details(), interpreter.get_output_details()
    interpreter.resize_tensor_input(source["index"], images.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(source["index"], images)
    interpreter.invoke()
    return interpreter.get_tensor(target["index"])


def _run_onnx(path, images):
    import onnxruntime

    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: images})[0]


def _run_openvino(path, images):
    import openvino

    # OpenVINO computes in bfloat16 on CPUs that have it unless asked for float32.
    compiled = openvino.Core().compile_model(path, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    return compiled(images)[0]


def _run_pt2(path, images):
    import torch

    with torch.no_grad():
        return torch.export.load(path).module()(torch.from_numpy(images)).numpy()


@functools.lru_cache(maxsize=1)
def _keras_hub_classifier(path):
    import keras_hub

    return keras_hub.models.ImageClassifier.from_preset(path)


def _run_keras_hub(path, images):
    # predict applies the preset's preprocessor (its image converter), as a keras-hub user's call does.
    return _keras_hub_classifier(path).predict(images, verbose=0)


RUNTIMES = {
    "keras_hub": _run_keras_hub,
    "tf_saved_model": _run_saved_model,
    "litert": _run_litert,
    "onnx": _run_onnx,
    "openvino": _run_openvino,
    "torch": _run_pt2,
}


@pytest.mark.parametrize("name, format", CASES)
def test_float32_artifact_matches_the_model(name, format, exported):
    artifact = exported(name, format)
    report = artifact.report
    assert report.path == artifact.path and report.size_bytes > 0 and report.backend == backend()
    assert report.parity.max_abs_diff <= 1e-4 and report.parity.num_images == 8
    assert sorted(os.listdir(os.path.dirname(artifact.path))) == ARTIFACT_FILES.get(format, [FILE_NAMES[format]])
    for batch, images in artifact.images.items():
        outputs = RUNTIMES[format](artifact.path, images)
        np.testing.assert_allclose(outputs, artifact.expected[batch], atol=1e-4, rtol=0)


def _litert_elements_by_dtype(path):
    """How many values the .tflite file's tensors hold, by dtype name."""
    from ai_edge_litert.interpreter import Interpreter

    counts = collections.Counter()
    for tensor in Interpreter(model_path=path).get_tensor_details():
        counts[np.dtype(tensor["dtype"]).name] += int(np.prod(tensor["shape"]))
    return counts


@pytest.mark.parametrize("precision, stored_as", [("float16", "float16"), ("dynamic_int8", "int8"), ("int8", "int8")])
def test_quantized_litert_agrees_within_its_stated_tolerance(precision, stored_as, tmp_path, exported):
    _supported("litert")
    model = MODELS["vit"]()
    path = str(tmp_path / f"{precision}.tflite")
    calibration = pixels(model, 16, seed=3)
    report = kv_export.export_model(model, path, "tflite", precision=precision, representative_data=calibration)
    assert report.parity.passed and report.precision == precision
    # The file holds the weights quantized: most of the model's values in the narrow type
    # (biases and norms stay float32 with dynamic_int8), and it is smaller than the float32 file.
    assert _litert_elements_by_dtype(path)[stored_as] >= 0.9 * model.count_params()
    assert report.size_bytes == os.path.getsize(path) < 0.7 * exported("vit", "litert").report.size_bytes
    images = pixels(model, 16)
    outputs, expected = _run_litert(path, images), reference(model, images)
    tolerance = TOLERANCES[precision]
    assert np.abs(outputs - expected).max() <= tolerance.relative * max(1.0, np.abs(expected).max())
    assert np.mean(outputs.argmax(1) == expected.argmax(1)) >= tolerance.top1
    assert 0 < np.abs(outputs - expected).max()  # It did quantize.


def test_int8_asks_for_representative_data(tmp_path):
    _supported("litert")
    with pytest.raises(ValueError, match="pass `representative_data`"):
        kv_export.export_model(MODELS["vit"](), str(tmp_path / "m.tflite"), "litert", precision="int8")
    assert os.listdir(tmp_path) == []


def test_unsupported_backend_names_the_backend_that_can(tmp_path):
    unsupported = [name for name, module in FORMATS.items() if backend() not in module.BACKENDS]
    if not unsupported:
        pytest.skip(f"{backend()} exports every format")
    model = MODELS["vit"]()
    for format in unsupported:
        with pytest.raises(UnsupportedExportError) as error:
            kv_export.export_model(model, str(tmp_path / FILE_NAMES[format]), format)
        message = str(error.value)
        assert f"Cannot export to {format} from the {backend()} backend" in message
        assert f"KERAS_BACKEND={FORMATS[format].BACKENDS[0]}" in message
    assert os.listdir(tmp_path) == []


def test_existing_path_refused_and_a_failed_export_leaves_it_as_it_was(exported, tmp_path, monkeypatch):
    # The writer copies an artifact exported before: this test is about the
    # files export() leaves, which do not depend on the converter.
    format = QUICKEST[backend()]
    source = exported("vit", format).path
    monkeypatch.setattr(FORMATS[format], "write", lambda model, path, **kwargs: _copy(source, path))
    path = tmp_path / FILE_NAMES[format]
    path.write_text("an older file")
    model = MODELS["vit"]()
    with pytest.raises(ValueError, match="exists; pass overwrite=True"):
        kv_export.export_model(model, str(path), format)
    with monkeypatch.context() as patch:
        patch.setitem(TOLERANCES, None, Tolerance(0.0, 1.01, "impossible"))
        with pytest.raises(ParityError, match=r"max \|difference\| [0-9.e-]+ \(tolerance .*at least 101%"):
            kv_export.export_model(model, str(path), format, overwrite=True)
    assert os.listdir(tmp_path) == [path.name] and path.read_text() == "an older file"
    report = kv_export.export_model(model, str(path), format, overwrite=True, verify=False)
    assert os.listdir(tmp_path) == [path.name] and report.parity is None
    assert _size(path) == _size(source) and path.is_dir() == os.path.isdir(source)


def _copy(source, path):
    if os.path.isdir(source):
        shutil.copytree(source, path)
    else:
        shutil.copyfile(source, path)


def _size(path):
    return sum(f.stat().st_size for f in pathlib.Path(path).rglob("*")) if os.path.isdir(path) else os.path.getsize(path)


def test_a_writer_that_fails_half_way_leaves_nothing(tmp_path, monkeypatch):
    format = QUICKEST[backend()]

    def half_written(model, path, **kwargs):
        with open(path, "wb") as file:
            file.write(b"partial")
        raise RuntimeError("converter died")

    monkeypatch.setattr(FORMATS[format], "write", half_written)
    with pytest.raises(RuntimeError, match="converter died"):
        kv_export.export_model(MODELS["vit"](), str(tmp_path / FILE_NAMES[format]), format)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    "format, kwargs, message",
    [
        ("coreml", {}, r"`format` must be one of \['keras_hub', 'litert', 'onnx', 'openvino', 'pt2', 'saved_model'"),
        ("onnx", {"precision": "int8"}, r"`precision` for onnx must be one of \['float32'\]"),
        ("litert", {"precision": "int4"}, r"`precision` for litert must be one of"),
    ],
)
def test_bad_requests_are_named(format, kwargs, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        kv_export.export_model(MODELS["vit"](), str(tmp_path / "m"), format, **kwargs)


@pytest.mark.parametrize("value", ["int8", "dynamic_int8"])
def test_the_old_quantize_keyword_says_it_is_precision_now(value, tmp_path):
    with pytest.raises(TypeError, match=rf"export_model's `quantize` is now `precision`: .* call "
                                        rf"keras_vit.training.quantize\(model, mode\) before exporting it. Received: quantize='{value}'"):
        kv_export.export_model(MODELS["vit"](), str(tmp_path / "m.tflite"), "litert", quantize=value)
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'quantise'"):
        kv_export.export_model(MODELS["vit"](), str(tmp_path / "m.tflite"), "litert", quantise=value)
    assert os.listdir(tmp_path) == []


def test_bad_paths_are_named(tmp_path):
    model = MODELS["vit"]()
    with pytest.raises(ValueError, match="must end in .onnx"):
        kv_export.export_model(model, str(tmp_path / "m.tflite"), "onnx")
    with pytest.raises(ValueError, match="does not exist"):
        kv_export.export_model(model, str(tmp_path / "missing" / "m.onnx"), "onnx")
    with pytest.raises(ValueError, match="not an exported model"):
        kv_export.load(str(tmp_path))


class _Shifted:
    """A stand-in artifact: the Keras model's outputs, moved by `shift`."""

    input_dtypes = ("float32",)

    def __init__(self, model, shift):
        self.model, self.shift = model, shift

    def __call__(self, images):
        return self.model.predict(images, verbose=0) + self.shift


def test_verify_measures_difference_and_decisive_top1():
    model = MODELS["vit"]()
    report = verify(model, _Shifted(model, 0.0))
    assert report.passed and report.max_abs_diff == 0 and report.num_images == 8
    assert 0 < report.noise_floor < report.tolerance
    assert report.tolerance == pytest.approx(max(1e-4 * max(1.0, report.scale), 4 * report.noise_floor))
    with pytest.raises(ParityError, match=r"max \|difference\| 0.001 \(tolerance"):
        verify(model, _Shifted(model, np.float32(1e-3)))
    # A class that is no image's best, raised far above the rest: every decisive image disagrees.
    best = model.predict(sample_images((32, 32, 3)), verbose=0).argmax(axis=1)
    shift = np.zeros(10, "float32")
    shift[min(set(range(10)) - set(best.tolist()))] = 50.0
    with pytest.raises(ParityError, match=r"and on 0 of the [1-8] whose best class leads by more than the allowed "
                                          r"difference \(at least 75% required\)"):
        verify(model, _Shifted(model, shift), precision="float16")


@pytest.mark.skipif(backend() != "jax", reason="the refusal is JAX's; the other backends export the hybrid to ONNX above")
@pytest.mark.parametrize("format", ["onnx", "openvino"])
def test_hybrid_onnx_from_jax_names_the_backends_that_can(format, tmp_path):
    path = tmp_path / FILE_NAMES[format]
    with pytest.raises(ValueError, match="Export it from the tensorflow or torch backend"):
        kv_export.export_model(MODELS["hybrid"](), str(path), format)
    assert not os.listdir(tmp_path)
