"""What OpenVINO and `.pt2` files add to the other formats: OpenVINO's precisions and
weights file, and a `.pt2` file that runs on PyTorch alone."""

import collections
import io
import os
import subprocess
import sys

import numpy as np
import pytest

import keras_vit
from keras_vit import export as kv_export
from keras_vit.export import FORMATS, TOLERANCES
from keras_vit.export import openvino as kv_openvino
from keras_vit.utils import cpu, progress
from tests.export.conftest import QUICKEST
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


def _outputs_without_vnni(path, images, tmp_path):
    """What OpenVINO computes from the file at `path` in a process whose oneDNN may use
    AVX2 at most, as on a CPU without VNNI: int8 products summed in 16 bits."""
    folder = tmp_path / "without_vnni"
    folder.mkdir()
    np.save(folder / "images.npy", images)
    script = (
        "import sys, numpy, openvino\n"
        "model = openvino.Core().compile_model(sys.argv[1], 'CPU', {'INFERENCE_PRECISION_HINT': 'f32'})\n"
        "numpy.save(sys.argv[3], numpy.asarray(model(numpy.load(sys.argv[2]))[0]))\n"
    )
    arguments = [path, str(folder / "images.npy"), str(folder / "outputs.npy")]
    subprocess.run([sys.executable, "-c", script, *arguments], check=True, capture_output=True,
                   env={**os.environ, "ONEDNN_MAX_CPU_ISA": "AVX2"})
    return np.load(folder / "outputs.npy")


@pytest.mark.parametrize("precision", ["bfloat16", "int8_weights", "int8"])
def test_openvino_precisions_agree_within_their_stated_tolerance(precision, tmp_path, exported):
    float_export = exported("vit", "openvino")
    model = MODELS["vit"]()
    path = str(tmp_path / f"{precision}.xml")
    calibration = pixels(model, 16, seed=3)
    shown = io.StringIO()
    with progress.shown(shown):
        report = kv_export.export_model(model, path, "openvino", precision=precision,
                                        representative_data=calibration)
    assert report.parity.passed and report.precision == precision
    # NNCF's quantization, a step of its own within the export, says so.
    stages = [line for line in shown.getvalue().splitlines() if line.endswith(" ...")]
    quantizing = {"int8_weights": ["  quantizing to int8_weights with NNCF ..."],
                  "int8": ["  quantizing to int8 with NNCF, calibrating on 16 images ..."]}.get(precision, [])
    assert stages[:1 + len(quantizing)] == [f"exporting to OpenVINO ({precision}) ...", *quantizing], stages
    assert sorted(os.listdir(tmp_path)) == [f"{precision}.bin", f"{precision}.xml"]
    runner = kv_export.load(path)
    assert runner.precision == ("bf16" if precision == "bfloat16" else "f32")
    images = pixels(model, 16)
    outputs, expected = runner(images), reference(model, images)
    tolerance = TOLERANCES[precision]
    assert np.abs(outputs - expected).max() <= tolerance.relative * max(1.0, np.abs(expected).max())
    assert np.mean(outputs.argmax(1) == expected.argmax(1)) >= tolerance.top1
    elements = _constant_elements(path)
    if precision == "bfloat16":
        # The same float32 weights, run in bfloat16 where the CPU has it.
        assert elements == _constant_elements(float_export.path)
        if cpu.bfloat16_units():
            assert 0 < np.abs(outputs - expected).max()
    else:
        # The kernels of the projections and the MLP, most of the model, in 8 bits.
        assert elements["u8"] + elements["i8"] >= 0.5 * model.count_params()
        assert ("FakeQuantize" in _openvino_ops(path)) == (precision == "int8")
    if precision == "int8":
        # Every weight kept to 7 bits: sums of int8 products cannot saturate in 16 bits, so
        # a CPU without VNNI is as accurate as this one (the same outputs from TensorFlow's
        # IR; from the ONNX files, up to 1.2e-2 of the scale apart from torch's and 0.17 from
        # JAX's, whose attention matmuls are quantized too). With NNCF's default, 3 to 4.5
        # times less accurate there (docs/export.md).
        error = np.abs(outputs - expected).max()
        assert np.abs(_outputs_without_vnni(path, images, tmp_path) - expected).max() <= 1.5 * error


def test_openvino_runner_takes_another_precision(exported):
    artifact = exported("vit", "openvino")
    runner = kv_openvino.Runner(artifact.path, precision="bf16")
    assert runner.precision == "bf16"
    outputs = runner(artifact.images[3])
    assert np.abs(outputs - artifact.expected[3]).max() <= TOLERANCES["bfloat16"].relative * max(
        1.0, np.abs(artifact.expected[3]).max()
    )


@pytest.mark.parametrize("missing, precision", [("openvino", None), ("nncf", "int8_weights")])
def test_a_missing_runtime_names_the_extra_to_install(missing, precision, tmp_path, monkeypatch):
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == missing else find_spec(name, *a))
    expected = (
        rf"the module '{missing}' is not installed; it comes with the 'openvino' extra: "
        r"pip install \"keras-vit-zoo\[openvino\]\""
    )
    with pytest.raises(ImportError, match=expected):
        kv_export.export_model(MODELS["vit"](), str(tmp_path / "m.xml"), "openvino", precision=precision)
    assert os.listdir(tmp_path) == []


def test_openvino_int8_asks_for_representative_data(tmp_path):
    with pytest.raises(ValueError, match="pass `representative_data`"):
        kv_export.export_model(MODELS["vit"](), str(tmp_path / "m.xml"), "openvino", precision="int8")
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
    assert FORMATS["openvino"].PRECISIONS == (None, "bfloat16", "int8_weights", "int8")


_PT2_ONLY = ".pt2 files are written from the torch backend only; test_compile_* below checks the refusals on every backend"


@pytest.mark.skipif(backend() != "torch", reason=_PT2_ONLY)
@pytest.mark.parametrize("mode", [True, "max-autotune"])
def test_pt2_compiled_computes_what_the_keras_model_computes(mode, exported):
    import torch

    artifact = exported("vit", "torch")
    torch._dynamo.reset()
    torch._dynamo.utils.counters.clear()
    runner = kv_export.load(artifact.path, compile=mode)
    # Each new batch compiles (max-autotune timing its kernels for it): one batch for it.
    for batch in (3, 1) if mode is True else (3,):
        np.testing.assert_allclose(runner(artifact.images[batch]), artifact.expected[batch], atol=1e-4, rtol=0)
    # Compiled with the weights frozen: TorchInductor prepacked the matmuls' weights
    # for oneDNN, which it does only for constants.
    assert torch._dynamo.utils.counters["inductor"]["mkldnn_linear_weight_pack_matcher_count"] >= 1
    assert runner.input_shape == (32, 32, 3) and runner.class_names == kv_export.load(artifact.path).class_names


def _bf16_model(policy):
    """The test ViT under `policy`: built under it ("mixed_bfloat16"), or (docs/export.md's
    recipe for a trained model) a float32 model's architecture rebuilt under it, weights copied."""
    import keras

    keras.utils.set_random_seed(0)
    if policy == "mixed_bfloat16":
        keras.config.set_dtype_policy(policy)  # tests/conftest.py resets it after the test.
        return MODELS["vit"]()
    model = MODELS["vit"]()
    keras.config.set_dtype_policy(policy)
    copy = keras_vit.models.build_vit(model.vit_config)
    copy.set_weights(model.get_weights())
    return copy


@pytest.mark.skipif(backend() != "torch", reason=_PT2_ONLY)
@pytest.mark.parametrize("policy", ["mixed_bfloat16", "bfloat16"])
def test_pt2_of_a_bf16_model_computes_in_bf16_and_compiles(policy, tmp_path):
    import torch

    model = _bf16_model(policy)
    path = str(tmp_path / "bf16.pt2")
    kv_export.export_model(model, path, "torch")
    program = torch.export.load(path)
    matmuls = [node for node in program.graph.nodes if node.target == torch.ops.aten.linear.default]
    assert matmuls and all(node.meta["val"].dtype == torch.bfloat16 for node in matmuls)
    images = pixels(model, 3)
    expected = reference(model, images)
    eager = kv_export.load(path)(images)
    np.testing.assert_allclose(eager, expected, atol=1e-4, rtol=0)  # Both compute in bf16, the same ops.
    torch._dynamo.reset()
    torch._dynamo.utils.counters.clear()
    compiled = kv_export.load(path, compile=True)(images)
    counters = torch._dynamo.utils.counters["inductor"]
    if cpu.bfloat16_units():
        # The weights packed for oneDNN, and each block's GELU taken into its MLP's first
        # matmul: TorchInductor does both for bf16 only where oneDNN has bf16 kernels for
        # the CPU (AVX-512 or bf16 units; asserted where the CPU has the units).
        assert counters["mkldnn_linear_weight_pack_matcher_count"] >= 1
        assert counters["mkldnn_unary_fusion_matcher_count"] == model.vit_config.num_layers
    # The compiled code rounds to bf16 at other points: within bf16 rounding of the scale.
    assert np.max(np.abs(compiled - expected)) <= 0.05 * np.max(np.abs(expected))
    assert compiled.dtype == np.float32


@pytest.mark.parametrize("compile", ["yes", 1, "reduce-overhead", None])
def test_compile_takes_false_true_or_max_autotune(compile, tmp_path):
    with pytest.raises(ValueError, match=r"`compile` must be False, True or 'max-autotune'. Received: compile="):
        kv_export.load(str(tmp_path / "model.pt2"), compile=compile)


def test_compile_is_refused_for_other_formats(exported):
    format = QUICKEST[backend()]
    artifact = exported("vit", format)
    with pytest.raises(ValueError, match=rf"`compile` applies to .pt2 files .* a {format} artifact"):
        kv_export.load(artifact.path, compile=True)


@pytest.mark.skipif(backend() != "torch", reason=_PT2_ONLY)
def test_compile_without_a_cpp_compiler_says_what_to_install(exported, monkeypatch):
    import torch._inductor.config

    monkeypatch.setattr(torch._inductor.config.cpp, "cxx", ("no-such-compiler-keras-vit",))
    monkeypatch.delenv("CXX", raising=False)
    with pytest.raises(RuntimeError, match=r"needs a C\+\+ compiler: install g\+\+"):
        kv_export.load(exported("vit", "torch").path, compile=True)
