"""The note that bfloat16 is emulated on a CPU without bfloat16 units, with the CPU's flags
stubbed as each CPU kind lists them, and the automatic policy on such a CPU."""

import keras
import pytest

from keras_vit.layers import fast_path
from keras_vit.training import precision
from keras_vit.utils import cpu

# Flags as /proc/cpuinfo lists them, cut to the ones that tell the kinds apart.
AVX2 = "fpu sse2 avx avx2 fma"
AVX512 = AVX2 + " avx512f avx512dq avx512bw avx512vl"
AVX512_BF16 = AVX512 + " avx512_vnni avx512_bf16"
AMX = AVX512_BF16 + " amx_bf16 amx_tile amx_int8"
ARM = "fp asimd asimddp"


@pytest.fixture
def flags(tmp_path, monkeypatch):
    """Stubs the CPU's flags: `flags(text)`, or `flags(None)` for a CPU whose flags are unknown."""

    def stub(text, key="flags"):
        path = tmp_path / "cpuinfo"
        if text is not None:
            path.write_text(f"processor\t: 0\n{key}\t\t: {text}\n")
        monkeypatch.setattr(cpu, "CPUINFO", str(path))

    return stub


@pytest.fixture
def on_cpu(monkeypatch):
    """The backend's default device taken as the CPU, whatever this machine has."""
    monkeypatch.setattr(precision, "_default_device_is_cpu", lambda: True)


@pytest.mark.parametrize("text, key, kind", [(AVX2, "flags", "AVX2"), (AVX512, "flags", "AVX-512"),
                                             (ARM, "Features", "Arm")])
@pytest.mark.parametrize("name", ["mixed_bfloat16", "bfloat16", "bf16"])
def test_a_cpu_without_bfloat16_units_gets_the_note(text, key, kind, name, flags, on_cpu):
    flags(text, key)
    assert precision.bfloat16_note(name) == (
        f"note: this CPU has no bfloat16 units ({kind}): bfloat16 is emulated here and float32 is faster"
    )


@pytest.mark.parametrize("text", [AVX512_BF16, AMX, None])
def test_a_cpu_with_bfloat16_units_or_unknown_flags_gets_none(text, flags, on_cpu):
    flags(text)
    assert precision.bfloat16_note("mixed_bfloat16") is None


@pytest.mark.parametrize("name", ["float32", "mixed_float16", "auto", "int8", None])
def test_other_precisions_get_none(name, flags, on_cpu):
    flags(AVX2)
    assert precision.bfloat16_note(name) is None


def test_a_gpu_or_tpu_gets_none(flags, monkeypatch):
    flags(AVX2)
    monkeypatch.setattr(precision, "_default_device_is_cpu", lambda: False)
    assert precision.bfloat16_note("mixed_bfloat16") is None


def _accelerator():
    backend = keras.backend.backend()
    if backend == "torch":
        import torch

        return torch.cuda.is_available() or torch.backends.mps.is_available()
    if backend == "jax":
        import jax

        return jax.devices()[0].platform != "cpu"
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU") or tf.config.list_logical_devices("TPU"))


def test_the_default_device_is_read_off_the_backend():
    assert precision._default_device_is_cpu() is not _accelerator()


@pytest.mark.skipif(keras.backend.backend() != "torch", reason="the other backends read the flags alone")
@pytest.mark.parametrize("onednn, expected", [(True, "mixed_bfloat16"), (False, "float32")])
def test_auto_precision_on_torch_needs_a_onednn_that_uses_the_units(onednn, expected, flags, monkeypatch):
    import torch

    if torch.cuda.is_available():
        pytest.skip("the GPU decides")
    flags(AMX)
    monkeypatch.setattr(fast_path, "_onednn_bfloat16", lambda: onednn)
    assert precision.set_mixed_precision("auto") == expected
