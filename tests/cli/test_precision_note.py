"""Through the installed `keras-vit` script: a bfloat16 precision on a CPU without bfloat16 units
gets one line saying float32 is faster there; the CPU's flags are stubbed."""

import pytest

from tests.cli.console import keras_vit

AVX2 = "processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma\n"
AMX = "processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma avx512f avx512_bf16 amx_bf16 amx_tile\n"
# The note is for a CPU: the processes compute on theirs, whatever accelerator the machine has.
ON_CPU = {"CUDA_VISIBLE_DEVICES": "", "JAX_PLATFORMS": "cpu"}
NOTE = "note: this CPU has no bfloat16 units (AVX2): bfloat16 is emulated here and float32 is faster\n"


def _train(tmp_path, cpuinfo, precision):
    (tmp_path / "cpuinfo").write_text(cpuinfo)
    # A batch larger than the digits' training split stops the run once the data is open: the
    # note comes before, when the flags are read.
    return keras_vit(
        "train", "--model", "Ti/16", "--precision", precision, "--batch-size", "5000", "--out", tmp_path / "run",
        imports=("tests.cli.stub_cpu",), env={"KERAS_VIT_TEST_CPUINFO": str(tmp_path / "cpuinfo"), **ON_CPU},
    )


def test_training_in_bfloat16_on_a_cpu_without_the_units_says_float32_is_faster(tmp_path):
    done = _train(tmp_path, AVX2, "mixed_bfloat16")
    assert done.returncode == 1
    assert done.stderr.startswith(NOTE) and done.stderr.count("note: ") == 1, done.stderr
    assert done.stderr.endswith("pass --batch-size 1024 or less.\n")


@pytest.mark.backend_independent(reason="the note reads the CPU's flags, the same on every backend's CPU")
def test_a_bfloat16_export_on_a_cpu_without_the_units_says_so_too(tmp_path):
    (tmp_path / "cpuinfo").write_text(AVX2)
    (tmp_path / "vit.xml").write_text("")  # an output that exists stops the command after its checks
    done = keras_vit(
        "export", "Ti/16", "--format", "openvino", "--precision", "bfloat16", "-o", tmp_path / "vit.xml",
        imports=("tests.cli.stub_cpu",), env={"KERAS_VIT_TEST_CPUINFO": str(tmp_path / "cpuinfo"), **ON_CPU},
    )
    assert done.returncode == 1
    assert done.stderr == NOTE + f"keras-vit export: {tmp_path / 'vit.xml'} exists; pass --overwrite to replace it.\n"


@pytest.mark.backend_independent(reason="the note reads the CPU's flags, the same on every backend's CPU")
def test_no_note_where_the_cpu_has_the_units_or_for_float32(tmp_path):
    assert "bfloat16 units" not in _train(tmp_path, AMX, "mixed_bfloat16").stderr
    assert "bfloat16 units" not in _train(tmp_path, AVX2, "float32").stderr
