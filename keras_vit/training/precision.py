"""Choosing the dtype policy: bfloat16 mixed precision where the device computes it fast."""

import keras

POLICIES = ("auto", "float32", "mixed_bfloat16", "mixed_float16")


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
    # oneDNN's own check for AVX512-BF16 / AMX; private in torch, so looked up defensively.
    supported = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
    return bool(torch.backends.mkldnn.is_available() and supported is not None and supported())


def _tensorflow_bfloat16():
    import tensorflow as tf

    if tf.config.list_logical_devices("TPU"):
        return True
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return False
    capability = tf.config.experimental.get_device_details(gpus[0]).get("compute_capability", (0, 0))
    return capability[0] >= 8
