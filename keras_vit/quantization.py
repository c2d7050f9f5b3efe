"""Quantization of keras_vit models, in one place.

Post-training weight quantization with Keras' `model.quantize` (`quantize`,
`quantized_layers`); the dtype policies that make a block's quantized
projections save and load quantized (`sublayer_policy`,
`quantized_dtype_config`); and which exporters cannot take a quantized model
(`check_exportable`).
"""

import contextlib
import gc
import warnings

import keras
from keras.dtype_policies import DTypePolicyMap

# Keras 3.15's modes for Dense and EinsumDense that need no calibration data.
# "gptq" and "awq" also exist; they calibrate on data and take Keras' own
# `GPTQConfig`/`AWQConfig` through `model.quantize(config=...)`.
QUANTIZATION_MODES = ("int8", "float8", "int4")


def quantize(model, mode="int8"):
    """Quantizes every `Dense` and `EinsumDense` layer of `model`, in place.

    That is each block's query, key, value and output projections and MLP,
    the head and the pre-logits layer; the patch embedding, LayerNorms,
    class token and position embeddings (relative ones included) stay float.
    This is Keras' `model.quantize(mode)` with its arguments checked first
    and without its warning for every layer it cannot quantize.

    - `"int8"`: int8 weights with a float scale per output channel, and
      inputs quantized to int8 per token at call time.
    - `"int4"`: int4 weights (two per byte) with a scale per output channel
      and group of 128 input rows (Keras' default sub-channel blocks); float
      activations.
    - `"float8"`: float8 (e4m3) weights and inputs with scales meant to be
      trained (Keras' delayed scaling); fine-tune briefly after quantizing.

    The model saves and loads as `.keras` with its layers quantized (see
    `keras_vit.layers.TransformerBlock`).

    Args:
        model: a built `keras.Model`, not quantized yet.
        mode: str. `"int8"`, `"float8"` or `"int4"`. Defaults to `"int8"`.

    Returns:
        `model`, quantized.

    Example:

    >>> import keras_vit
    >>> model = keras_vit.ViT(image_size=32, patch_size=8, hidden_dim=16,
    ...                       num_layers=1, num_heads=2, mlp_dim=32, num_classes=10)
    >>> quantize(model, "int8").get_layer("head").quantization_mode
    'int8'
    """
    if mode not in QUANTIZATION_MODES:
        extra = (
            "; for GPTQ and AWQ, which calibrate on data, call model.quantize(config=...) "
            "with Keras' GPTQConfig or AWQConfig"
            if mode in ("gptq", "awq")
            else ""
        )
        raise ValueError(
            f"`mode` must be one of {', '.join(map(repr, QUANTIZATION_MODES))}{extra}. "
            f"Received: mode={mode!r}"
        )
    if not isinstance(model, keras.Model) or not model.built:
        raise ValueError(f"`model` must be a built keras.Model. Received: model={model!r}")
    quantized = quantized_layers(model)
    if quantized:
        path, already = next(iter(quantized.items()))
        raise ValueError(
            f"`model` is already quantized ({len(quantized)} layers, such as {path} in "
            f"{already}); quantize a float model, once. Received: mode={mode!r}"
        )
    with warnings.catch_warnings(), _one_garbage_collection():
        # Keras warns for every layer without a `quantize` method.
        warnings.filterwarnings("ignore", message=".*does not have a `quantize` method")
        model.quantize(mode)
    return model


@contextlib.contextmanager
def _one_garbage_collection():
    """Runs Python's full garbage collection once, on leaving, instead of at
    every float kernel `model.quantize` drops.

    Keras' `Layer.__delattr__` calls `gc.collect()` for each variable it
    deletes, so that the device frees the buffer. Each takes 0.1-1 s in a
    process holding a model and a framework or three, once per quantized
    layer: most of the time quantizing takes. The buffers are freed all the
    same by the one collection at the end. `gc.collect` is replaced for the
    duration, so a collection another thread asks for meanwhile is left to
    that one at the end.
    """
    collect = gc.collect
    gc.collect = lambda generation=2: 0
    try:
        yield
    finally:
        gc.collect = collect
        gc.collect()


def quantized_layers(model):
    """`{layer path: quantization mode}` of `model`'s quantized layers, by path."""
    return dict(
        sorted(
            (layer.path, layer.quantization_mode)
            for layer in model._flatten_layers(include_self=False)
            if layer.quantization_mode is not None
        )
    )


def sublayer_policy(layer, path):
    """The dtype policy for `layer`'s sublayer at `path` (relative, such as
    `"attn/query"`): `layer`'s own policy or, when `layer` was loaded with
    a `DTypePolicyMap`, the policy that map holds for the path, a map of
    its own for a path with quantized sublayers below it."""
    policy = layer.dtype_policy
    if not isinstance(policy, DTypePolicyMap):
        return policy
    prefix = path + "/"
    below = {key[len(prefix) :]: policy[key] for key in policy if key.startswith(prefix)}
    if below:
        return DTypePolicyMap(policy.default_policy.name, below)
    return policy[path] if path in policy else policy.default_policy


def quantized_dtype_config(layer, sublayers):
    """`{"dtype": ...}`, a serialized `DTypePolicyMap` of the quantized layers
    among `sublayers` (`{relative path: layer}`) over `layer`'s float policy,
    or `{}` when none is quantized.

    Keras rebuilds a layer's sublayers from the layer's config alone; without
    the map, a quantized model's projections would come back float and their
    saved int8 kernels and scales would not fit them. The keys are relative to
    `layer`, not Keras paths, so they hold wherever the layer is nested.
    """
    quantized = {
        path: sublayer.dtype_policy
        for path, sublayer in sublayers.items()
        if sublayer.quantization_mode is not None
    }
    if not quantized:
        return {}
    policy = layer.dtype_policy
    if isinstance(policy, DTypePolicyMap):
        policy = policy.default_policy
    return {"dtype": keras.dtype_policies.serialize(DTypePolicyMap(policy.name, quantized))}


# Models quantized with `quantize` (Keras' `model.quantize`)
# that a converter or runtime cannot take, by (format, backend, mode), measured
# with the pinned Keras, tf2onnx, jax2onnx, LiteRT and onnxruntime.
EXPORT_UNSUPPORTED = {
    ("litert", "tensorflow", "int8"): "the LiteRT converter rejects the int8 BatchMatMul of Keras' int8 layers",
    ("litert", "tensorflow", "float8"): "LiteRT has no float8 kernels",
    ("onnx", "tensorflow", "float8"): "tf2onnx has no float8 operations",
    ("onnx", "jax", "int8"): "onnxruntime has no int8 Einsum",
    ("onnx", "torch", "int4"): "onnxruntime rejects the int8 - float Sub of Keras' int4 layers",
    ("openvino", "tensorflow", "int8"): "OpenVINO miscomputes the int8 matmuls of Keras' int8 layers "
    "from TensorFlow (outputs off by their whole scale)",
    ("openvino", "tensorflow", "float8"): "OpenVINO's CPU plugin has no kernel for the float8 casts",
    ("openvino", "torch", "float8"): "OpenVINO rounds the float8 casts otherwise than Keras "
    "(0.064 on outputs of 1.4, past the check)",
    ("openvino", "torch", "int4"): "OpenVINO's ONNX reader rejects the int8 - float Sub of Keras' int4 layers",
    **{
        ("openvino", "jax", mode): "OpenVINO misreads the quantized operations jax2onnx writes "
        "(outputs off by 0.14 to 1.9 on a scale of 1)"
        for mode in ("int8", "float8", "int4")
    },
}


def check_exportable(model, format):
    """Raises if a quantized layer of `model` is one that `format`'s converter or
    runtime cannot take from the running backend (`EXPORT_UNSUPPORTED`)."""
    backend = keras.backend.backend()
    for path, mode in quantized_layers(model).items():
        reason = EXPORT_UNSUPPORTED.get((format, backend, mode))
        if reason:
            raise ValueError(
                f"Cannot export {model.name!r} to {format} from the {backend} backend: it is "
                f"quantized to {mode} (layer {path}, with Keras' model.quantize) and {reason}. "
                "Export the float model instead (for a small LiteRT file: quantize="
                "'dynamic_int8'), or see the export docs' table of what each backend writes."
            )
