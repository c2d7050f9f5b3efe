"""Post-training weight quantization of a keras_vit model with Keras' `model.quantize`."""

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
    with warnings.catch_warnings():
        # Keras warns for every layer without a `quantize` method.
        warnings.filterwarnings("ignore", message=".*does not have a `quantize` method")
        model.quantize(mode)
    return model


def quantized_layers(model):
    """`{layer path: quantization mode}` of `model`'s quantized layers, by path."""
    return dict(
        sorted(
            (layer.path, layer.quantization_mode)
            for layer in model._flatten_layers(include_self=False)
            if layer.quantization_mode is not None
        )
    )
