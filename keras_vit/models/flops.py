"""Forward FLOPs of a built model, read off its layers and their built shapes."""

import math
import string

import keras

from keras_vit.layers.attention import MultiHeadSelfAttention
from keras_vit.layers.attention_pooling import AttentionPooling
from keras_vit.layers.patch_embedding import PatchEmbedding
from keras_vit.layers.resnet import StdConv2D

# Layers whose kernel slides over an image: every output pixel costs the
# kernel's size in multiply-accumulates (the kernel holds C_in / groups).
_CONVOLUTIONS = (keras.layers.Conv2D, StdConv2D, PatchEmbedding)


def count_flops(model):
    """Forward FLOPs of one image through `model`: 2 x the multiply-accumulates of its products.

    Counted: every matmul and convolution, each multiply-accumulate as 2
    FLOPs (XLA's and fvcore's convention; timm and the paper's "GFLOPs"
    tables count 1 per multiply-accumulate, so halve this to compare). That
    is the patch embedding, a hybrid's or BiT's convolutions (the kernel
    standardisation, per weight not per image, is not counted), every
    attention projection and both attention products (`Q K^T` and the
    weights times `V`, `2 T^2 D` multiply-accumulates per block), the
    relative-position logits (`T (2T - 1) D`), the MLPs, an attention-pooling
    head's projections, product and MLP, the pre-logits layer, CLIP's
    projection and the head (both heads of a distilled DeiT). Not counted: softmax, LayerNorm and GroupNorm, GELU and
    other activations, residual and position-embedding additions, pooling,
    biases and the input rescaling, which add a few percent at ViT sizes.

    The count comes from the model's layers, found by type through nested
    layers (`Dense`, `EinsumDense`, convolutions, `MultiHeadSelfAttention`),
    and the shapes they were built for: the model's image size. A model
    built with `dynamic_image_size=True` is counted at its config's
    `image_size`. Each layer counts once, as keras_vit's models call each
    such layer once. For a `ViTConfig`, `count_flops(model) == 2 *
    keras_vit.models.macs(model.vit_config)`.

    Args:
        model: keras.Model. A built model: a keras_vit ViT, hybrid or
            ResNetV2, or any model of those layer types.

    Returns:
        int. FLOPs per image.

    Example:

    >>> model = keras_vit.ViT(image_size=32, patch_size=8, hidden_dim=16, num_layers=1,
    ...                       num_heads=2, mlp_dim=32, num_classes=10)
    >>> count_flops(model)
    186752
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"`model` must be a keras.Model. Received: model={model!r}")
    config = getattr(model, "vit_config", None)
    if config is not None and config.dynamic_image_size:
        return _static_flops(config)
    return 2 * sum(_macs(layer) for layer in model._flatten_layers(include_self=False))


def _static_flops(config):
    """A dynamic-size model counted as the fixed-size twin its config describes."""
    from keras_vit.models.vit_builder import build_vit

    with keras.StatelessScope():
        return count_flops(build_vit(config.replace(dynamic_image_size=False)))


def _macs(layer):
    if isinstance(layer, keras.layers.Dense):
        shape = _input_shape(layer)
        return _size(layer, shape[1:]) * layer.units
    if isinstance(layer, keras.layers.EinsumDense):
        return _einsum_macs(layer, _input_shape(layer))
    if isinstance(layer, _CONVOLUTIONS):
        output = layer.compute_output_shape(_input_shape(layer))
        return _size(layer, output[1:-1]) * math.prod(layer.kernel.shape)
    if isinstance(layer, AttentionPooling):
        _, tokens, width = _input_shape(layer)
        return 2 * _size(layer, (tokens,)) * width  # one query against every token
    if isinstance(layer, MultiHeadSelfAttention):
        _, tokens, width = _input_shape(layer)
        _size(layer, (tokens,))
        relative = tokens * (2 * tokens - 1) * width if layer.relative_position_tokens else 0
        return 2 * tokens * tokens * width + relative
    return 0


def _einsum_macs(layer, shape):
    """The product of every index of the equation but the batch: each
    combination of them is one multiply-accumulate."""
    inputs, rest = layer.equation.split(",")
    kernel, outputs = rest.split("->")
    sizes = dict(zip(inputs, shape))
    for letter, size in zip(outputs, layer.compute_output_shape(shape)):
        sizes.setdefault(letter, size)
    letters = set(inputs + kernel + outputs) & set(string.ascii_letters)
    return _size(layer, [sizes[letter] for letter in sorted(letters) if letter != inputs[0]])


def _input_shape(layer):
    config = layer.get_build_config() or {}
    shape = config.get("input_shape")
    if shape is None:
        raise ValueError(
            f"count_flops reads the shapes layers were built for, and layer {layer.name!r} "
            f"({type(layer).__name__}) is not built with one input: build the model first. "
            f"Received: build config {config!r}"
        )
    return tuple(shape)


def _size(layer, dims):
    if any(dim is None for dim in dims):
        raise ValueError(
            f"count_flops needs a model built for one image size, and layer {layer.name!r} "
            f"was built for an open size: pass a model with a fixed `image_size` (a "
            f"VisionTransformer built with dynamic_image_size=True is counted at its "
            f"config's). Received: shape {tuple(dims)}"
        )
    return math.prod(dims)
