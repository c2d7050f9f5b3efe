"""The MLP activations of the ViT family, by the names `ViTConfig.activation` takes.

- `"gelu_tanh"`: GELU's tanh approximation, as the original implementation
  (`flax.linen.gelu`), big_vision and SigLIP compute it.
- `"gelu"`: the exact, erf-based GELU of timm, DeiT and DINOv2.
- `"quick_gelu"`: OpenAI CLIP's `x * sigmoid(1.702 x)`.
- `"swiglu"`: a gated MLP (DINOv2-g): the first `Dense` is twice as wide and
  its output splits in a gate and a value, `silu(gate) * value`, as timm's
  `SwiGLUPacked` and transformers' `Dinov2SwiGLUFFN` compute it.
"""

from keras import ops

ACTIVATIONS = ("gelu_tanh", "gelu", "quick_gelu", "swiglu")
# Activations whose MLP's first Dense computes a gate and a value.
GATED = ("swiglu",)


def expansion(activation):
    """How many `mlp_dim`-wide halves the MLP's first `Dense` outputs: 2 for a gated MLP."""
    return 2 if activation in GATED else 1


def mlp_activation(hidden, activation):
    """`activation` (one of `ACTIVATIONS`) applied to the MLP's hidden layer."""
    if activation == "gelu_tanh":
        return ops.gelu(hidden, approximate=True)
    if activation == "gelu":
        return ops.gelu(hidden, approximate=False)
    if activation == "quick_gelu":
        return hidden * ops.sigmoid(ops.cast(1.702, hidden.dtype) * hidden)
    if activation == "swiglu":
        half = hidden.shape[-1] // 2
        return ops.silu(hidden[..., :half]) * hidden[..., half:]
    raise ValueError(f"`activation` must be one of {ACTIVATIONS}. Received: activation={activation!r}")


def upgrade_config(config):
    """`config` (a layer's or a `ViTConfig`'s) with `approximate_gelu`, which
    `activation` replaced, turned into it: files saved before still load."""
    config = dict(config)
    if "approximate_gelu" in config:
        config["activation"] = "gelu_tanh" if config.pop("approximate_gelu") else "gelu"
    return config
