"""BiT's pre-activation ResNetV2 units and stages (Kolesnikov et al., 2020), the
paper's ResNet baseline (Section 4.1, "ResNet (BiT)").

Computed as BiT in timm and HF transformers computes it: weight-standardised
convolutions `(w - mean) / sqrt(var + 1e-8)` without bias, PyTorch's symmetric
padding, GroupNorm with 32 groups and epsilon 1e-5, and pre-activation
bottleneck units whose projection shortcut reads the normalised input.
"""

import keras
from keras import ops

from keras_vit.layers.resnet import (
    ResNetStage,
    StdConv2D,
    _check_filters,
    _check_image_shape,
    _symmetric_output_size,
    group_norm,
)
from keras_vit.utils.validation import check_positive_int

# BiT's weight standardisation and GroupNorm epsilons, as timm and HF set them.
STANDARDIZATION_EPSILON = 1e-8
GROUP_NORM_EPSILON = 1e-5


def bit_conv(filters, kernel_size, strides=1, name=None, dtype=None):
    """A BiT convolution: `StdConv2D` with BiT's standardisation and padding."""
    return StdConv2D(
        filters,
        kernel_size,
        strides,
        epsilon=STANDARDIZATION_EPSILON,
        padding="symmetric",
        standardization="variance",
        name=name,
        dtype=dtype,
    )


def bit_group_norm(name, dtype=None):
    """BiT's GroupNorm: 32 groups, epsilon 1e-5."""
    return group_norm(name, dtype, epsilon=GROUP_NORM_EPSILON)


def _output_shape(input_shape, strides, channels):
    rows, cols = (_symmetric_output_size(size, 3, strides) for size in input_shape[1:3])
    return (input_shape[0], rows, cols, channels)


@keras.saving.register_keras_serializable(package="keras_vit")
class PreActBottleneckUnit(keras.layers.Layer):
    """A pre-activation ResNetV2 bottleneck unit, as in BiT.

    `gn1 -> relu` gives the pre-activation; then `conv1 1x1 -> gn2 -> relu ->
    conv2 3x3 (strides) -> gn3 -> relu -> conv3 1x1`, added to the shortcut,
    with no activation after the sum. The shortcut is `conv_proj 1x1
    (strides)` of the pre-activation when the unit changes the width or the
    resolution, else the input.

    Args:
        filters: int. Width of the bottleneck; the unit outputs `4 * filters`
            channels. A multiple of 32, the GroupNorm groups.
        strides: int. Stride of `conv2` and `conv_proj`. Defaults to 1.
        **kwargs: Base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Input shape:
        `(batch, height, width, channels)`; `channels` a multiple of 32.

    Output shape:
        `(batch, ceil(height / strides), ceil(width / strides), 4 * filters)`.

    Example:

    >>> unit = PreActBottleneckUnit(filters=32, strides=2)
    >>> keras.ops.shape(unit(keras.ops.ones((1, 8, 8, 64))))
    (1, 4, 4, 128)
    """

    def __init__(self, filters, strides=1, **kwargs):
        super().__init__(**kwargs)
        self.filters = _check_filters(filters)
        self.strides = check_positive_int("strides", strides)

    def build(self, input_shape):
        _check_image_shape("PreActBottleneckUnit", input_shape)
        policy, width, out = self.dtype_policy, self.filters, 4 * self.filters
        reduced = _output_shape(input_shape, self.strides, width)
        full = (*input_shape[:3], width)
        self.gn1 = bit_group_norm("gn1", policy)
        self.conv1 = bit_conv(width, 1, name="conv1", dtype=policy)
        self.gn2 = bit_group_norm("gn2", policy)
        self.conv2 = bit_conv(width, 3, self.strides, name="conv2", dtype=policy)
        self.gn3 = bit_group_norm("gn3", policy)
        self.conv3 = bit_conv(out, 1, name="conv3", dtype=policy)
        pairs = [
            (self.gn1, input_shape), (self.conv1, input_shape), (self.gn2, full),
            (self.conv2, full), (self.gn3, reduced), (self.conv3, reduced),
        ]
        self.has_projection = input_shape[-1] != out or self.strides != 1
        if self.has_projection:
            self.conv_proj = bit_conv(out, 1, self.strides, name="conv_proj", dtype=policy)
            pairs.append((self.conv_proj, input_shape))
        for layer, shape in pairs:
            layer.build(shape)

    def call(self, inputs):
        preactivation = ops.relu(self.gn1(inputs))
        shortcut = self.conv_proj(preactivation) if self.has_projection else inputs
        residual = self.conv1(preactivation)
        residual = self.conv2(ops.relu(self.gn2(residual)))
        residual = self.conv3(ops.relu(self.gn3(residual)))
        return shortcut + residual

    def compute_output_shape(self, input_shape):
        return _output_shape(input_shape, self.strides, 4 * self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, strides=self.strides)
        return config


@keras.saving.register_keras_serializable(package="keras_vit")
class PreActResNetStage(ResNetStage):
    """A stage of pre-activation bottleneck units `unit1 ... unitN`; the first one strides.

    Args:
        num_units: int. Number of units.
        filters: int. Bottleneck width; the stage outputs `4 * filters` channels.
        strides: int. Stride of the first unit. Defaults to 1.
        **kwargs: Base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Input shape:
        `(batch, height, width, channels)`; `channels` a multiple of 32.

    Output shape:
        `(batch, ceil(height / strides), ceil(width / strides), 4 * filters)`.

    Example:

    >>> stage = PreActResNetStage(num_units=2, filters=32, strides=2)
    >>> keras.ops.shape(stage(keras.ops.ones((1, 8, 8, 32))))
    (1, 4, 4, 128)
    """

    unit_class = PreActBottleneckUnit

    def compute_output_shape(self, input_shape):
        return _output_shape(input_shape, self.strides, 4 * self.filters)
