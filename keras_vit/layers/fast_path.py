"""The encoder block's projections, LayerNorms and attention product, with one
fused PyTorch call each on the torch backend.

Keras' portable layers cost the torch backend, which runs eagerly and fuses
nothing, about a third of a ViT-B/16 forward pass in bf16 on a CPU with AMX
(the profile is in benchmarks/README.md): a separate addition after every
projection's matmul, a `bmm` for every `EinsumDense`, a float32 copy of the
tokens into and out of every LayerNorm, and a contiguous copy of the query,
key and value before the fused attention. Each function here computes what
its portable path computes (tests compare the two on every backend, to float
rounding) and takes the fused call only on torch, while
`keras_vit.config.fused_ops_enabled()`; JAX and TensorFlow compile the portable
path and fuse it themselves.

On a CPU without bfloat16 units torch emulates bfloat16 products, slowly: on
AVX2 its reference kernel runs a ViT-B/16 MLP projection at about 10 GFLOP/s
with the weight laid out as `nn.Linear` keeps it (what autocast gets), and at
0.5-0.8 GFLOP/s with Keras' `(in, out)` kernel, against about 40 in float32
(benchmarks/README.md); a convolution or an attention `einsum` falls 15x
behind float32. There (`bfloat16_emulated()`) the projections, the
attention, the convolutions and the attention's explicit products
(`contract`) multiply the bfloat16 values in float32 and round the result
to bfloat16 once: what bfloat16 units compute (exact products summed in
float32), at float32's rate.

Which layers are fused is an allow-list that fails closed: the layer's exact
Keras class, and every argument of its constructor either known to leave the
call's computation alone, holding the one value the fused call reproduces, or
at its default. A layer feature Keras adds later shows up as a constructor
argument set to something else, and the layer is called as it is. The decision
is kept on the layer while what Keras changes in place (quantization, LoRA, the
dtype policy, its variables) stays the same.
"""

import functools
import inspect
import math

import keras
from keras import ops

from keras_vit import config
from keras_vit.utils.cpu import bfloat16_units

# The attention projections' equations that are a matmul of the input's
# trailing axes with the kernel's leading axes, and how many axes they contract.
_CONTRACTED_AXES = {"btd,dhk->bthk": 1, "bthk,hkd->btd": 2}


# Constructor arguments that do not change what a call computes (names, sizes the
# weights already have, the weights' initializers, regularizers and constraints),
# and what the fused call needs of the others. Any other argument must hold its
# default: a feature Keras adds later is an argument the fused call knows nothing of.
_INERT = {
    "units", "equation", "output_shape", "bias_axes", "epsilon",
    *(f"{weight}_{part}" for weight in ("kernel", "bias", "gamma", "beta")
      for part in ("initializer", "regularizer", "constraint")),
}
_LINEAR = (None, keras.activations.linear)
_REQUIRED = {
    keras.layers.Dense: {"activation": _LINEAR, "use_bias": (True,)},
    keras.layers.EinsumDense: {"activation": _LINEAR},
    keras.layers.LayerNormalization: {"axis": (-1, [-1], (-1,)), "center": (True,), "scale": (True,),
                                      "rms_scaling": (False,)},
}
_DECISION = "_keras_vit_fused"


def _on_torch():
    return keras.config.backend() == "torch" and config.fused_ops_enabled()


def _allowed(layer):
    """Whether `layer` is an exact Keras class whose arguments the fused call reproduces,
    cached on the layer while its mutable state stays the same."""
    state = (layer.quantization_mode, getattr(layer, "lora_enabled", False), type(layer.dtype_policy),
             layer.dtype_policy.name, len(layer.weights))
    decision = layer.__dict__.get(_DECISION)
    if decision is None or decision[0] != state:
        decision = (state, _arguments_allowed(layer))
        object.__setattr__(layer, _DECISION, decision)  # not a tracked Keras attribute
    return decision[1]


def _arguments(layer_class):
    """`{name: inspect.Parameter}` of `layer_class`'s constructor."""
    return dict(inspect.signature(layer_class.__init__).parameters)


def _arguments_allowed(layer):
    """The allow-list, read off the layer's attributes (its `get_config()` would
    serialize the initializers, which makes Keras import TensorFlow)."""
    required = _REQUIRED.get(type(layer))
    if required is None or layer.quantization_mode is not None or getattr(layer, "lora_enabled", False):
        return False
    if type(layer.dtype_policy) is not keras.DTypePolicy or layer.activity_regularizer is not None:
        return False
    missing = object()
    for name, allowed in required.items():
        if not any(getattr(layer, name, missing) is value or getattr(layer, name, missing) == value
                   for value in allowed):
            return False
    for name, parameter in _arguments(type(layer)).items():
        if name == "self" or name in _INERT or name in required:
            continue
        if parameter.kind in (parameter.VAR_KEYWORD, parameter.VAR_POSITIONAL):
            continue
        if getattr(layer, name, missing) != parameter.default:
            return False
    return True


def project(layer, inputs):
    """`layer(inputs)` for a built `Dense` or attention `EinsumDense` projection.

    On torch, a float projection with a bias and no activation runs as one
    `torch.nn.functional.linear` on the tokens as they are (eagerly one
    `addmm`, the bias added inside the matmul; in a `.pt2` program compiled
    with weight freezing, a oneDNN matmul that also takes a GELU after it
    into its epilogue, which it does not through a reshape). The inputs, kernel and
    bias are cast to the layer's compute dtype as Keras' call casts them under
    a mixed precision policy, and the result has the layer's output shape and
    dtype. Every other case calls the layer: other backends, quantized layers,
    layers with LoRA enabled, and layers without a bias or with an activation.

    Args:
        layer: A built `keras.layers.Dense`, or a built
            `keras.layers.EinsumDense` with equation `"btd,dhk->bthk"` or
            `"bthk,hkd->btd"` (any other equation is called as is).
        inputs: The layer's input tensor.

    Returns:
        The layer's output for `inputs`.
    """
    contracted = _fused_axes(layer)
    if contracted is None:
        return layer(inputs)
    import torch

    inputs = _torch_tensor(inputs, layer.compute_dtype)
    kernel = _torch_tensor(layer.kernel, layer.compute_dtype)
    bias = _torch_tensor(layer.bias, layer.compute_dtype)
    depth = math.prod(kernel.shape[:contracted])
    leading = inputs.shape[:-contracted]
    if contracted > 1:
        inputs = inputs.reshape(*leading, depth)
    # linear(x, w, b) is x @ w.T + b: the kernel's transpose view, no copy.
    weight, bias = kernel.reshape(depth, -1).t(), bias.reshape(-1)
    if _in_float32(inputs):
        outputs = torch.nn.functional.linear(inputs.float(), weight.float(), bias.float()).to(inputs.dtype)
    else:
        outputs = torch.nn.functional.linear(inputs, weight, bias)
    if kernel.ndim - contracted > 1:
        outputs = outputs.reshape(*leading, *kernel.shape[contracted:])
    return outputs


def _fused_axes(layer):
    """How many trailing input axes `layer` contracts, when it can run as one
    matmul; None when it must be called."""
    if not _on_torch() or not _allowed(layer) or layer.bias is None:
        return None
    if type(layer) is keras.layers.EinsumDense:
        contracted = _CONTRACTED_AXES.get(layer.equation)
    else:
        contracted = 1
    if contracted is None or tuple(layer.bias.shape) != tuple(layer.kernel.shape[contracted:]):
        return None
    return contracted


def normalize(layer, inputs):
    """`layer(inputs)` for a built `keras.layers.LayerNormalization` over the last axis.

    Keras computes the normalization in at least float32: a bfloat16 or
    float16 input is copied to float32 and the result copied back. On torch,
    `torch.nn.functional.layer_norm` takes the input in the layer's compute
    dtype with float32 scale and offset and accumulates in float32 itself,
    with no copies; the result differs from Keras' by at most one rounding of
    the output dtype. Every other case calls the layer: other backends, RMS
    scaling, layers without scale or offset, and other axes.
    """
    if not _fused_norm(layer):
        return layer(inputs)
    import torch

    inputs = _torch_tensor(inputs, layer.compute_dtype)
    return torch.nn.functional.layer_norm(
        inputs,
        inputs.shape[-1:],
        _torch_tensor(layer.gamma, "float32"),
        _torch_tensor(layer.beta, "float32"),
        layer.epsilon,
    )


def _fused_norm(layer):
    return _on_torch() and _allowed(layer)


def attend(query, key, value, bias, scale):
    """`keras.ops.dot_product_attention(query, key, value, bias=bias, scale=scale)`.

    Query, key and value have shape `(batch, tokens, heads, head_dim)`, the
    bias `(batch, heads, tokens, tokens)` or None. On torch, Keras makes each of
    the three contiguous in `(batch, heads, tokens, head_dim)` before the fused
    kernel; `torch.nn.functional.scaled_dot_product_attention` takes the
    strided views as they are, and the result is the same. Where bfloat16 is
    emulated (`bfloat16_emulated()`), the attention runs in float32 on the
    bfloat16 values and its output is rounded to bfloat16.
    """
    if _in_float32(query):
        widened = (None if tensor is None else ops.cast(tensor, "float32") for tensor in (query, key, value, bias))
        return ops.cast(attend(*widened, scale), query.dtype)
    if not _on_torch():
        return ops.dot_product_attention(query, key, value, bias=bias, scale=scale)
    import torch

    if bias is not None:
        bias = _torch_tensor(bias, query.dtype)
    mixed = torch.nn.functional.scaled_dot_product_attention(
        query.transpose(1, 2), key.transpose(1, 2), value.transpose(1, 2), attn_mask=bias, scale=scale
    )
    return mixed.transpose(1, 2)


def convolve(inputs, kernel, strides):
    """`keras.ops.conv(inputs, kernel, strides=strides, padding="valid")`, channels last.

    Where bfloat16 is emulated (`bfloat16_emulated()`), the convolution runs in
    float32 on the bfloat16 inputs and the kernel rounded to bfloat16, and
    its output is rounded to bfloat16.
    """
    if not _in_float32(inputs):
        return ops.conv(inputs, kernel, strides=strides, padding="valid")
    kernel = ops.cast(ops.cast(kernel, inputs.dtype), "float32")
    outputs = ops.conv(ops.cast(inputs, "float32"), kernel, strides=strides, padding="valid")
    return ops.cast(outputs, inputs.dtype)


def contract(equation, first, second):
    """`keras.ops.einsum(equation, first, second)`, for operands of one dtype.

    Where bfloat16 is emulated (`bfloat16_emulated()`), the products are
    computed in float32 and their sum rounded to bfloat16.
    """
    if not _in_float32(first):
        return ops.einsum(equation, first, second)
    outputs = ops.einsum(equation, ops.cast(first, "float32"), ops.cast(second, "float32"))
    return ops.cast(outputs, first.dtype)


def bfloat16_emulated():
    """Whether torch computes bfloat16 matrix products on this CPU without bfloat16 units.

    bfloat16 is native where both hold: the CPU has bfloat16 dot products
    (`keras_vit.utils.cpu.bfloat16_units()`, read off its flags), and torch's
    oneDNN may use them (`torch.ops.mkldnn._is_mkldnn_bf16_supported()`).
    The flags alone miss an `ONEDNN_MAX_CPU_ISA` that caps oneDNN below them;
    torch's answer alone misses AVX-512 CPUs without bfloat16 units, where
    oneDNN converts bfloat16 to float32 and runs at about half float32's rate.
    Where neither is known, bfloat16 is taken as native.

    Returns:
        bool. True where keras_vit multiplies bfloat16 in float32 on torch's CPU tensors.
    """
    return bfloat16_units() is False or not _onednn_bfloat16()


@functools.cache
def _onednn_bfloat16():
    """torch's answer: whether its CPU matmuls run bfloat16 in oneDNN (True where it cannot say)."""
    import torch

    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return True


def _in_float32(tensor):
    """Whether the products of `tensor` are computed in float32: a bfloat16
    torch tensor on a CPU where bfloat16 is emulated, outside a trace for
    export (the exported program keeps the model's bfloat16 products for the
    machine that runs it)."""
    if keras.config.backend() != "torch" or getattr(tensor, "dtype", None) is None:
        return False
    import torch

    if tensor.dtype != torch.bfloat16 or getattr(getattr(tensor, "device", None), "type", None) != "cpu":
        return False
    # torch.compiler.is_exporting is torch 2.6's; before, torch.export set is_compiling.
    exporting = getattr(torch.compiler, "is_exporting", torch.compiler.is_compiling)
    if exporting() or torch.jit.is_tracing():
        return False
    return bfloat16_emulated()


def _torch_tensor(value, dtype):
    """`value` (a tensor, array or Keras variable) as a torch tensor of `dtype`,
    with none of `keras.ops`' per-call dispatch (with the idle dropout layers
    the block no longer calls, that dispatch took a ViT-B/16 forward pass at
    32x32 pixels from 46 to 32 ms)."""
    import torch

    if isinstance(value, keras.Variable):
        value = value.value
    if not isinstance(value, torch.Tensor):
        value = ops.convert_to_tensor(value)
    dtype = getattr(torch, dtype) if isinstance(dtype, str) else dtype
    return value.to(dtype)
