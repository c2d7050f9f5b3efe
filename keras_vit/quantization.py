"""Post-training quantization of a keras_vit model with Keras' `model.quantize` (`quantize`),
and which of a model's layers are quantized (`quantized_layers`).

What "quantize" means in keras_vit: Keras' int8, int4 or float8 layers, which
compute quantized on every backend and save as `.keras`. The conversions an
exported file makes on its own (float16, int8 in LiteRT or OpenVINO) are the
exporters' `precision=`. The dtype policies that let a block's quantized
projections save and load live in `keras_vit.layers.quantized_policy`; what each
export format cannot take quantized, in that format's module.
"""

import contextlib
import gc
import threading
import warnings

import keras

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


# `gc.collect` while a thread quantizes: a collection asked for by that thread is left
# to the one at the end, any other thread's runs as always.
_collect = gc.collect
_quantizing = threading.local()
_lock = threading.Lock()
_threads_quantizing = 0


def _collect_unless_quantizing(generation=2):
    if getattr(_quantizing, "active", False):
        return 0
    return _collect(generation)


@contextlib.contextmanager
def _one_garbage_collection():
    """Runs Python's full garbage collection once, on leaving, instead of at
    every float kernel `model.quantize` drops.

    Keras' `Layer.__delattr__` calls `gc.collect()` for each variable it
    deletes, so that the device frees the buffer. Each takes 0.1-1 s in a
    process holding a model and a framework or three, once per quantized
    layer: most of the time quantizing takes. The buffers are freed all the
    same by the one collection at the end. While any thread quantizes,
    `gc.collect` skips the calls of the threads that quantize and runs
    everyone else's; the last thread to finish puts the original back.
    """
    global _threads_quantizing
    with _lock:
        if _threads_quantizing == 0:
            gc.collect = _collect_unless_quantizing
        _threads_quantizing += 1
    _quantizing.active = True
    try:
        yield
    finally:
        _quantizing.active = False
        with _lock:
            _threads_quantizing -= 1
            if _threads_quantizing == 0:
                gc.collect = _collect
        _collect()


def quantized_layers(model):
    """`{layer path: quantization mode}` of `model`'s quantized layers, by path."""
    return dict(
        sorted(
            (layer.path, layer.quantization_mode)
            for layer in model._flatten_layers(include_self=False)
            if layer.quantization_mode is not None
        )
    )
