"""The CPU's native arithmetic, judged from feature flags stubbed as each CPU kind lists them."""

import pytest

from keras_vit.utils import cpu

pytestmark = pytest.mark.backend_independent(reason="reads /proc/cpuinfo text, no backend involved")

# Flags as /proc/cpuinfo lists them, cut to the ones that tell the kinds apart.
AVX2 = "fpu sse2 avx avx2 fma bmi2"
AVX512 = AVX2 + " avx512f avx512dq avx512bw avx512vl"
AVX512_VNNI = AVX512 + " avx512_vnni"
AVX512_BF16 = AVX512_VNNI + " avx512_bf16"
AMX = AVX512_BF16 + " amx_bf16 amx_tile amx_int8"
ARM_BF16 = "fp asimd asimddp bf16 i8mm"


def _cpuinfo(tmp_path, flags, key="flags"):
    path = tmp_path / "cpuinfo"
    path.write_text(f"processor\t: 0\nmodel name\t: a CPU\n{key}\t\t: {flags}\n\nprocessor\t: 1\n{key}\t\t: {flags}\n")
    return str(path)


@pytest.mark.parametrize(
    "flags, key, kind, bfloat16, int8",
    [
        (AVX2, "flags", "AVX2", False, False),
        (AVX2 + " avx_vnni", "flags", "AVX2 with VNNI", False, True),
        (AVX512, "flags", "AVX-512", False, False),
        (AVX512_VNNI, "flags", "AVX-512 with VNNI", False, True),
        (AVX512_BF16, "flags", "AVX-512 with bf16", True, True),
        (AMX, "flags", "AMX", True, True),
        (ARM_BF16, "Features", "Arm", True, True),
        ("fp asimd", "Features", "Arm", False, False),
    ],
)
def test_each_cpu_kind_is_told_apart_by_its_flags(tmp_path, flags, key, kind, bfloat16, int8):
    read = cpu.cpu_flags(_cpuinfo(tmp_path, flags, key))
    assert read == frozenset(flags.split())
    assert cpu.cpu_kind(read) == kind
    assert cpu.bfloat16_units(read) is bfloat16
    assert cpu.int8_dot_products(read) is int8


def test_without_flags_nothing_is_claimed(tmp_path):
    assert cpu.cpu_flags(str(tmp_path / "missing")) == frozenset()
    assert cpu.cpu_flags(_cpuinfo(tmp_path, "", key="vendor_id")) == frozenset()
    assert cpu.bfloat16_units(frozenset()) is None and cpu.int8_dot_products(frozenset()) is None
    assert cpu.cpu_kind(frozenset()) == "unknown"


def test_the_predicates_read_this_machines_flags_by_default(tmp_path, monkeypatch):
    monkeypatch.setattr(cpu, "CPUINFO", _cpuinfo(tmp_path, AVX2))
    assert cpu.cpu_flags() == frozenset(AVX2.split())
    assert cpu.bfloat16_units() is False and cpu.int8_dot_products() is False and cpu.cpu_kind() == "AVX2"
    (tmp_path / "amx").mkdir()
    monkeypatch.setattr(cpu, "CPUINFO", _cpuinfo(tmp_path / "amx", AMX))
    assert cpu.bfloat16_units() is True and cpu.cpu_kind() == "AMX"
