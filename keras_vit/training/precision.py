"""Choosing the dtype policy (bfloat16 mixed precision where the device computes it fast), and
flushing denormal floats on the CPU."""

import warnings

import keras

from keras_vit.utils.cpu import bfloat16_units, cpu_kind

POLICIES = ("auto", "float32", "mixed_bfloat16", "mixed_float16")

# The names of a bfloat16 precision: Keras' policies and the export formats' `precision`.
BFLOAT16_PRECISIONS = ("bfloat16", "mixed_bfloat16", "bf16")


def set_mixed_precision(policy="auto"):
    """Sets Keras' global dtype policy and returns its name.

    `"auto"` picks `"mixed_bfloat16"` on a TPU, on a GPU of compute capability 8.0
    or newer (A100, H100, ...), and on a CPU with native bfloat16 under the
    PyTorch backend (measured faster than float32 there, while XLA on CPU runs
    bfloat16 slower than float32), and `"float32"` everywhere else. Weights stay
    float32 under a mixed policy; keras_vit's heads emit float32 logits.

    Call it before building the model.

    Args:
        policy: str. One of `"auto"`, `"float32"`, `"mixed_bfloat16"`,
            `"mixed_float16"`. Defaults to `"auto"`.

    Returns:
        The name of the policy set.
    """
    if policy not in POLICIES:
        raise ValueError(f"`policy` must be one of {POLICIES}. Received: policy={policy!r}")
    if policy == "auto":
        policy = "mixed_bfloat16" if bfloat16_is_fast() else "float32"
    keras.config.set_dtype_policy(policy)
    return policy


def bfloat16_note(precision):
    """A one-line note for the user when `precision` asks for bfloat16 on a CPU without bfloat16 units.

    Such a CPU (AVX2, or AVX-512 without AVX512-BF16) has no bfloat16 dot
    products: every backend emulates them, and float32 runs faster. Measured on
    a 2-core AVX2 CPU, ViT-B/16 at batch 8: JAX 1.87 and TensorFlow 1.36 img/s
    in `mixed_bfloat16` against 3.5 and 3.2 in float32; on torch, which keras_vit
    has multiply the bfloat16 values in float32 there, one encoder block took
    0.61 s against 0.51 s in float32 (torch capped to AVX2). Where the default
    device of the Keras backend is a GPU or TPU, or the CPU's flags are unknown,
    there is no note.

    Args:
        precision: str or None. A dtype policy name (`"mixed_bfloat16"`,
            `"bfloat16"`, ...) or an export precision (`"bfloat16"`).

    Returns:
        str or None. The note, such as `"note: this CPU has no bfloat16 units
        (AVX2): bfloat16 is emulated here and float32 is faster"`, or None.

    Example:

    >>> bfloat16_note("float32") is None
    True
    """
    if precision not in BFLOAT16_PRECISIONS or bfloat16_units() is not False or not _default_device_is_cpu():
        return None
    return f"note: this CPU has no bfloat16 units ({cpu_kind()}): bfloat16 is emulated here and float32 is faster"


def _default_device_is_cpu():
    """Whether the current Keras backend computes on the CPU by default."""
    backend = keras.backend.backend()
    if backend == "torch":
        import torch

        return not (torch.cuda.is_available() or torch.backends.mps.is_available())
    if backend == "jax":
        import jax

        return jax.devices()[0].platform == "cpu"
    if backend == "tensorflow":
        import tensorflow as tf

        return not (tf.config.list_physical_devices("GPU") or tf.config.list_logical_devices("TPU"))
    return True


def flush_denormals():
    """Makes the CPU flush denormal floats to zero under the PyTorch backend.

    TensorFlow's kernels and the CPU code XLA compiles for JAX flush denormal
    floats (magnitudes below 1.2e-38 in float32) to zero by default; PyTorch
    computes with them, and every operation on one costs the CPU a slow
    microcode assist. Training a ViT in float32 on torch makes them in the
    backward pass: a ViT-S/16 step at batch 16 took 6.2 s instead of 1.9 s on
    a Xeon with AMX, the attention's backward 169 ms a block instead of 13
    (benchmarks/README.md). Flushed, each such value becomes zero, a change
    below 1.2e-38.

    `keras_vit.training.train` and `keras_vit.pretraining.pretrain` call it;
    when you train on torch on a CPU yourself, call it first, before torch
    computes anything. It sets `torch.set_flush_denormal(True)`, which takes
    effect on the calling thread and on the worker threads torch starts after
    it; workers that already ran keep computing with denormals, and then it
    warns and returns False. It has no effect on GPUs.

    Returns:
        bool: whether every CPU thread of the backend flushes denormals now:
        True on TensorFlow and JAX; on torch, when the CPU supports it (x86
        with SSE3) and no worker thread started before the call.
    """
    if keras.backend.backend() != "torch":
        return True
    import torch

    if not torch.set_flush_denormal(True):
        return False
    if _torch_threads_flush():
        return True
    warnings.warn(
        "Denormal floats are flushed on this thread, but torch's worker threads had already "
        "started and still compute with them (float32 training runs about 3x slower). Call "
        "keras_vit.training.flush_denormals() (or torch.set_flush_denormal(True)) first in the "
        "process, before torch computes anything.",
        stacklevel=2,
    )
    return False


def _torch_threads_flush():
    """Whether a product below float32's smallest normal number comes out zero
    in every part of a multiplication that torch splits between its threads."""
    import torch

    size = 65536 * 4 * torch.get_num_threads()  # several of torch's 32768-element grains a thread
    product = torch.full((size,), 1e-30) * torch.full((size,), 1e-10)
    return not bool(torch.count_nonzero(product))


def bfloat16_is_fast():
    """Whether the default device of the current backend has fast bfloat16 math."""
    backend = keras.backend.backend()
    if backend == "jax":
        return _jax_bfloat16()
    if backend == "torch":
        return _torch_bfloat16()
    if backend == "tensorflow":
        return _tensorflow_bfloat16()
    return False


def _jax_bfloat16():
    import jax

    device = jax.devices()[0]
    if device.platform == "tpu":
        return True
    if device.platform == "gpu":
        return float(getattr(device, "compute_capability", "0")) >= 8.0
    return False


def _torch_bfloat16():
    import torch

    if torch.cuda.is_available():
        return torch.cuda.get_device_capability()[0] >= 8
    # Native bfloat16 dot products only (AMX, AVX512-BF16, Arm BF16), and a oneDNN that may use
    # them: oneDNN also runs bf16 on other AVX-512 CPUs by converting to float32, and on AVX2
    # keras_vit multiplies bf16 values in float32 (`keras_vit.layers.fast_path.bfloat16_emulated`).
    from keras_vit.layers.fast_path import bfloat16_emulated

    return bool(bfloat16_units()) and not bfloat16_emulated()


def _tensorflow_bfloat16():
    import tensorflow as tf

    if tf.config.list_logical_devices("TPU"):
        return True
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return False
    capability = tf.config.experimental.get_device_details(gpus[0]).get("compute_capability", (0, 0))
    return capability[0] >= 8
