"""What the CPU computes natively, read from its feature flags in one place.

bfloat16 and int8 run fast on a CPU only where it has instructions for them:

- bfloat16 dot products: AMX-BF16 or AVX512-BF16 on x86, BF16 on Arm. Without
  them every library emulates bfloat16 (TorchInductor also leaves its bf16
  matmuls to slower kernels), and float32 is faster.
- int8 dot products summed in 32 bits: VNNI (AVX512-VNNI, AVX-VNNI), AMX-INT8,
  or Arm's dot product. Without them x86 int8 kernels sum pairs of products in
  16 bits (`vpmaddubsw`), which saturates unless the weights keep to 7 bits.

keras_vit's precision hints and its tests ask here, so that a result only some
CPUs give is expected only on those CPUs. Linux lists the flags in
`/proc/cpuinfo`; elsewhere they are unknown and the predicates return None.
"""

import functools

CPUINFO = "/proc/cpuinfo"

# The flags, as Linux names them, that give each kind of native arithmetic.
BFLOAT16_FLAGS = frozenset({"amx_bf16", "avx512_bf16", "bf16"})
INT8_DOT_PRODUCT_FLAGS = frozenset({"amx_int8", "avx512_vnni", "avx_vnni", "asimddp"})


def cpu_flags(cpuinfo=None):
    """The CPU's feature flags, as Linux lists them (`flags` on x86, `Features` on Arm).

    Args:
        cpuinfo: None or str. The file to read; None reads `CPUINFO`
            (`/proc/cpuinfo`). Defaults to None.

    Returns:
        frozenset of str, empty where the file cannot be read or lists no flags.
    """
    return _read_flags(CPUINFO if cpuinfo is None else cpuinfo)


@functools.cache
def _read_flags(cpuinfo):
    try:
        with open(cpuinfo) as file:
            for line in file:
                key, _, value = line.partition(":")
                if key.strip() in ("flags", "Features"):
                    return frozenset(value.split())
    except OSError:
        pass
    return frozenset()


def bfloat16_units(flags=None):
    """Whether the CPU computes bfloat16 dot products natively.

    Args:
        flags: None or a set of str. The flags to judge; None reads
            `cpu_flags()`. Defaults to None.

    Returns:
        True or False, or None where the flags are unknown.
    """
    return _any_of(BFLOAT16_FLAGS, flags)


def int8_dot_products(flags=None):
    """Whether the CPU sums int8 products in 32 bits natively (VNNI and kin).

    Args:
        flags: None or a set of str. The flags to judge; None reads
            `cpu_flags()`. Defaults to None.

    Returns:
        True or False, or None where the flags are unknown.
    """
    return _any_of(INT8_DOT_PRODUCT_FLAGS, flags)


def _any_of(wanted, flags):
    """Whether `flags` (None: this CPU's) hold any of `wanted`; None where they are unknown."""
    flags = cpu_flags() if flags is None else flags
    return bool(flags & wanted) if flags else None


def cpu_kind(flags=None):
    """A short name of the CPU's widest arithmetic, for reports and benchmark tables.

    Args:
        flags: None or a set of str. The flags to judge; None reads
            `cpu_flags()`. Defaults to None.

    Returns:
        str: `"AMX"`, `"AVX-512 with bf16"`, `"AVX-512 with VNNI"`, `"AVX-512"`,
        `"AVX2 with VNNI"`, `"AVX2"`, `"Arm"`, `"other"`, or `"unknown"`.
    """
    flags = cpu_flags() if flags is None else flags
    if not flags:
        return "unknown"
    for kind, needed in (
        ("AMX", {"amx_bf16"}),
        ("AVX-512 with bf16", {"avx512f", "avx512_bf16"}),
        ("AVX-512 with VNNI", {"avx512f", "avx512_vnni"}),
        ("AVX-512", {"avx512f"}),
        ("AVX2 with VNNI", {"avx2", "avx_vnni"}),
        ("AVX2", {"avx2"}),
        ("Arm", {"asimd"}),
    ):
        if needed <= flags:
            return kind
    return "other"
