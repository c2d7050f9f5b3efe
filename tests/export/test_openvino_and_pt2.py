"""What OpenVINO and `.pt2` files add to the other formats: OpenVINO's precisions and
weights file, and a `.pt2` file that runs on PyTorch alone."""

import collections
import os
import subprocess
import sys

import numpy as np
import pytest

from keras_vit import export as kv_export
from keras_vit.export import FORMATS, TOLERANCES
from keras_vit.export import openvino as kv_openvino
from tests.export.models import MODELS, backend, pixels, reference


def _openvino_ops(path):
    import openvino

    return {op.get_type_name() for op in openvino.Core().read_model(path).get_ops()}


def _constant_elements(path):
    """How many values the file's constants hold, by element type (`"f32"`, `"u8"`, ...)."""
    import openvino

    counts = collections.Counter()
    for op in openvino.Core().read_model(path).get_ops():
        if op.get_type_name() == "Constant":
            counts[op.get_output_element_type(0).get_type_name()] += int(np.prod(op.get_output_shape(0)))
    return counts


def _cpu_has_bfloat16():
    import openvino

    return "BF16" in openvino.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")


@pytest.mark.parametrize("quantize", ["bfloat16", "int8_weights", "int8"])
def test_openvino_precisions_agree_within_their_stated_tolerance(quantize, tmp_path, exported):
    float_export = exported("vit", "openvino")
    model = MODELS["vit"]()
    path = str(tmp_path / f"{quantize}.xml")
    calibration = pixels(model, 16, seed=3)
    report = kv_export.export_model(model, path, "openvino", quantize=quantize, representative_data=calibration)
    assert report.parity.passed and report.quantize == quantize
    assert sorted(os.listdir(tmp_path)) == [f"{quantize}.bin", f"{quantize}.xml"]
    runner = kv_export.load(path)
    assert runner.precision == ("bf16" if quantize == "bfloat16" else "f32")
    images = pixels(model, 16)
    outputs, expected = runner(images), reference(model, images)
    tolerance = TOLERANCES[quantize]
    assert np.abs(outputs - expected).max() <= tolerance.relative * max(1.0, np.abs(expected).max())
    assert np.mean(outputs.argmax(1) == expected.argmax(1)) >= tolerance.top1
    elements = _constant_elements(path)
    if quantize == "bfloat16":
        # The same float32 weights, run in bfloat16 where the CPU has it.
        assert elements == _constant_elements(float_export.path)
        if _cpu_has_bfloat16():
            assert 0 < np.abs(outputs - expected).max()
    else:
        # The kernels of the projections and the MLP, most of the model, in 8 bits.
        assert elements["u8"] + elements["i8"] >= 0.5 * model.count_params()
        assert ("FakeQuantize" in _openvino_ops(path)) == (quantize == "int8")


def test_openvino_runner_takes_another_precision(exported):
    artifact = exported("vit", "openvino")
    runner = kv_openvino.Runner(artifact.path, precision="bf16")
    assert runner.precision == "bf16"
    outputs = runner(artifact.images[3])
    assert np.abs(outputs - artifact.expected[3]).max() <= TOLERANCES["bfloat16"].relative * max(
        1.0, np.abs(artifact.expected[3]).max()
    )


@pytest.mark.parametrize("missing, quantize", [("openvino", None), ("nncf", "int8_weights")])
def test_a_missing_runtime_names_the_extra_to_install(missing, quantize, tmp_path, monkeypatch):
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == missing else find_spec(name, *a))
    with pytest.raises(ImportError, match=rf"needs the `{missing}` package: pip install \"keras-vit-zoo\[openvino\]\""):
        kv_export.export_model(MODELS["vit"](), str(tmp_path / "m.xml"), "openvino", quantize=quantize)
    assert os.listdir(tmp_path) == []


def test_openvino_int8_asks_for_representative_data(tmp_path):
    with pytest.raises(ValueError, match="pass `representative_data`"):
        kv_export.export_model(MODELS["vit"](), str(tmp_path / "m.xml"), "openvino", quantize="int8")
    assert os.listdir(tmp_path) == []


def test_openvino_weights_file_is_part_of_the_artifact(tmp_path, exported):
    model = MODELS["vit"]()
    path = tmp_path / "model.xml"
    (tmp_path / "model.bin").write_text("left from something else")
    with pytest.raises(ValueError, match=r"model\.bin exists; pass overwrite=True"):
        kv_export.export_model(model, str(path), "openvino")
    report = kv_export.export_model(model, str(path), "openvino", overwrite=True, class_names=[f"c{i}" for i in range(10)])
    assert sorted(os.listdir(tmp_path)) == ["model.bin", "model.xml", "model.xml.classes.txt"]
    assert report.size_bytes == os.path.getsize(path) + os.path.getsize(tmp_path / "model.bin")
    # The float32 weights are kept as float32 (OpenVINO's save_model would halve them);
    # OpenVINO stores equal constants (the norms' initial scales) once.
    elements = _constant_elements(str(path))
    assert "f16" not in elements and elements["f32"] >= 0.95 * model.count_params()
    runner = kv_export.load(str(path))
    assert runner.class_names[:2] == ["c0", "c1"] and runner.input_shape == (32, 32, 3)


@pytest.mark.skipif(backend() != "torch", reason=".pt2 files are written from the torch backend only; "
                    "test_unsupported_backend_* checks the refusal on the others")
def test_pt2_runs_on_pytorch_alone(exported):
    artifact = exported("vit", "torch")
    images = artifact.images[3]
    np.save(os.path.join(os.path.dirname(artifact.path), "images.npy"), images)
    script = (
        "import sys, numpy, torch\n"
        f"program = torch.export.load({artifact.path!r})\n"
        f"images = torch.from_numpy(numpy.load({os.path.join(os.path.dirname(artifact.path), 'images.npy')!r}))\n"
        "print(repr(program.module()(images).detach().numpy().tolist()))\n"
        "assert not any(name.startswith('keras') for name in sys.modules), 'keras was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    outputs = np.array(eval(result.stdout), "float32")  # A list of floats printed by repr.
    np.testing.assert_allclose(outputs, artifact.expected[3], atol=1e-4, rtol=0)
    os.remove(os.path.join(os.path.dirname(artifact.path), "images.npy"))
    assert kv_export.load(artifact.path).input_shape == (32, 32, 3)


@pytest.mark.skipif(backend() != "torch", reason=".pt2 files are written from the torch backend only")
def test_pt2_holds_each_weight_once(exported):
    import torch

    program = torch.export.load(exported("vit", "torch").path)
    tensors = [*program.state_dict.values(), *program.constants.values()]
    stored = sum(tensor.numel() for tensor in tensors if isinstance(tensor, torch.Tensor))
    # The weights, and a few constants of the graph's own; not the weights again as
    # unused parameters of the Keras layers.
    assert MODELS["vit"]().count_params() <= stored < 1.1 * MODELS["vit"]().count_params()


def test_every_format_states_where_it_can_be_written():
    assert FORMATS["torch"].BACKENDS == ("torch",)
    assert set(FORMATS["openvino"].BACKENDS) == {"tensorflow", "jax", "torch"}
    assert FORMATS["openvino"].QUANTIZATIONS == (None, "bfloat16", "int8_weights", "int8")
