"""The BiT ResNetV2 stem of the hybrid Vision Transformer (paper Section 3.1, "Hybrid Architecture").

Computed as the original implementation does: weight-standardised convolutions
without bias, GroupNorm with 32 groups and epsilon 1e-6, TensorFlow-style SAME
padding (one more row and column at the bottom and right when a stride-2 window
does not fit evenly) and post-activation bottleneck units. `StdConv2D` and
`group_norm` also take BiT's formulas, for the ResNet baseline (`resnet_v2.py`).
"""

import math

import keras
from keras import ops

from keras_vit.layers.fast_path import convolve
from keras_vit.utils.validation import check_choice, check_image_size, check_positive_int

GROUPS = 32
GROUP_NORM_EPSILON = 1e-6
PADDINGS = ("same", "symmetric")
STANDARDIZATIONS = ("std", "variance")


def same_padding(size, kernel_size, stride):
    """The `(before, after)` padding of TensorFlow's SAME for one spatial axis.

    An unknown `size` (a graph traced for any image size) is taken as
    divisible by `stride`, the only sizes a dynamic-size hybrid accepts; the
    padding is then `kernel_size - stride` whatever the size.
    """
    if not isinstance(size, int):  # None, or a symbol in a JAX export
        total = max(kernel_size - stride, 0)
    else:
        total = max((math.ceil(size / stride) - 1) * stride + kernel_size - size, 0)
    return total // 2, total - total // 2


def _pad_same(inputs, kernel_size, stride, constant=0.0):
    pads = [same_padding(size, kernel_size, stride) for size in inputs.shape[1:3]]
    if not any(before or after for before, after in pads):
        return inputs
    return ops.pad(inputs, [(0, 0), *pads, (0, 0)], constant_values=constant)


def symmetric_padding(kernel_size, stride):
    """PyTorch's fixed padding on both sides, as timm and HF's BiT pad by default."""
    return ((stride - 1) + (kernel_size - 1)) // 2


def _symmetric_output_size(size, kernel_size, stride):
    if size is None:
        return None
    return (size + 2 * symmetric_padding(kernel_size, stride) - kernel_size) // stride + 1


def _same_output_shape(input_shape, strides, channels):
    rows, cols = (None if s is None else math.ceil(s / strides) for s in input_shape[1:3])
    return (input_shape[0], rows, cols, channels)


def group_norm(name, dtype, zero_scale=False, epsilon=GROUP_NORM_EPSILON):
    """GroupNorm with 32 groups; epsilon 1e-6 as the original's `flax.linen.GroupNorm()`."""
    return keras.layers.GroupNormalization(
        groups=GROUPS,
        epsilon=epsilon,
        gamma_initializer="zeros" if zero_scale else "ones",
        name=name,
        dtype=dtype,
    )


def _check_filters(filters):
    filters = check_positive_int("filters", filters)
    if filters % GROUPS:
        raise ValueError(
            f"`filters` must be a multiple of {GROUPS}, the GroupNorm groups. "
            f"Received: filters={filters!r}"
        )
    return filters


def _check_image_shape(layer, shape):
    if len(shape) != 4 or shape[-1] is None:
        raise ValueError(
            f"{layer} expects inputs of shape (batch, height, width, channels). "
            f"Received: input_shape={tuple(shape)}"
        )


@keras.saving.register_keras_serializable(package="keras_vit")
class StdConv2D(keras.layers.Layer):
    """Convolution with weight standardisation (BiT; Kolesnikov et al., 2020).

    Before every convolution the kernel is standardised over its spatial and
    input axes, `(w - mean) / (std + epsilon)` with the biased standard
    deviation, as the original hybrid computes it, or with
    `standardization="variance"` `(w - mean) / sqrt(var + epsilon)`, as BiT
    in timm and HF transformers does. There is no bias. Padding is
    TensorFlow's SAME on every backend, or with `padding="symmetric"`
    PyTorch's fixed `((strides - 1) + (kernel_size - 1)) // 2` on every side.
    The kernel keeps its `(k, k, C_in, filters)` layout and is standardised
    in float32.

    Args:
        filters: int. Output channels.
        kernel_size: int. Side of the square kernel.
        strides: int. Stride in both directions. Defaults to 1.
        epsilon: float. Added to the standard deviation (or the variance).
            Defaults to 1e-5.
        size_multiple: int or None. Refuse inputs whose height or width this
            does not divide: the root convolution of a hybrid built with
            `dynamic_image_size=True` refuses, with the pixels per patch token,
            an image that SAME padding would round into a feature map the
            patches do not tile. Defaults to None.
        padding: str. `"same"` (TensorFlow's) or `"symmetric"` (PyTorch's).
            Defaults to `"same"`.
        standardization: str. `"std"` divides by `std + epsilon`,
            `"variance"` by `sqrt(var + epsilon)`. Defaults to `"std"`.
        **kwargs: Base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: Float tensor of shape `(batch, height, width, channels)`; an
            unknown height or width is taken as divisible by `strides`.

    Input shape:
        `(batch, height, width, channels)`.

    Output shape:
        `(batch, ceil(height / strides), ceil(width / strides), filters)`.

    Example:

    >>> conv = StdConv2D(filters=8, kernel_size=3, strides=2)
    >>> keras.ops.shape(conv(keras.ops.ones((1, 7, 8, 3))))
    (1, 4, 4, 8)
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        epsilon=1e-5,
        size_multiple=None,
        padding="same",
        standardization="std",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.padding = check_choice("padding", padding, PADDINGS)
        self.standardization = check_choice("standardization", standardization, STANDARDIZATIONS)
        self.filters = check_positive_int("filters", filters)
        self.kernel_size = check_positive_int("kernel_size", kernel_size)
        self.strides = check_positive_int("strides", strides)
        if not epsilon > 0:
            raise ValueError(f"`epsilon` must be positive. Received: epsilon={epsilon!r}")
        self.epsilon = float(epsilon)
        self.size_multiple = None if size_multiple is None else check_positive_int("size_multiple", size_multiple)

    def build(self, input_shape):
        _check_image_shape("StdConv2D", input_shape)
        size = self.kernel_size
        self.kernel = self.add_weight(
            name="kernel",
            shape=(size, size, input_shape[-1], self.filters),
            initializer="lecun_normal",
        )

    def standardized_kernel(self):
        """The kernel the convolution uses: standardised over `(k, k, C_in)`."""
        kernel = ops.cast(self.kernel, "float32")
        centered = kernel - ops.mean(kernel, axis=(0, 1, 2), keepdims=True)
        variance = ops.mean(ops.square(centered), axis=(0, 1, 2), keepdims=True)
        if self.standardization == "variance":
            return centered / ops.sqrt(variance + self.epsilon)
        return centered / (ops.sqrt(variance) + self.epsilon)

    def call(self, inputs):
        if self.size_multiple is not None:
            check_image_size(inputs.shape, self.size_multiple, "patch_size times the ResNet stem's stride")
        kernel = ops.cast(self.standardized_kernel(), self.compute_dtype)
        if self.padding == "same":
            inputs = _pad_same(inputs, self.kernel_size, self.strides)
        elif pad := symmetric_padding(self.kernel_size, self.strides):
            inputs = ops.pad(inputs, [(0, 0), (pad, pad), (pad, pad), (0, 0)])
        return convolve(inputs, kernel, self.strides)

    def compute_output_shape(self, input_shape):
        if self.padding == "same":
            return _same_output_shape(input_shape, self.strides, self.filters)
        rows, cols = (_symmetric_output_size(s, self.kernel_size, self.strides) for s in input_shape[1:3])
        return (input_shape[0], rows, cols, self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters,
            kernel_size=self.kernel_size,
            strides=self.strides,
            epsilon=self.epsilon,
        )
        if self.size_multiple is not None:
            config.update(size_multiple=self.size_multiple)
        # Only BiT's convolutions differ here; the hybrids' configs stay as they were.
        if self.padding != "same":
            config.update(padding=self.padding)
        if self.standardization != "std":
            config.update(standardization=self.standardization)
        return config


@keras.saving.register_keras_serializable(package="keras_vit")
class MaxPooling2DSame(keras.layers.Layer):
    """Max pooling with TensorFlow's SAME padding on every backend.

    The padding holds `-inf`, as `flax.linen.max_pool(..., padding="SAME")`
    pads, and sits at the bottom and right when the windows do not fit evenly.

    Args:
        pool_size: int. Side of the square window. Defaults to 3.
        strides: int. Stride in both directions. Defaults to 2.
        **kwargs: Base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Input shape:
        `(batch, height, width, channels)`; an unknown height or width is taken
        as divisible by `strides`.

    Output shape:
        `(batch, ceil(height / strides), ceil(width / strides), channels)`.

    Example:

    >>> pool = MaxPooling2DSame(pool_size=3, strides=2)
    >>> keras.ops.shape(pool(keras.ops.ones((1, 8, 7, 4))))
    (1, 4, 4, 4)
    """

    def __init__(self, pool_size=3, strides=2, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = check_positive_int("pool_size", pool_size)
        self.strides = check_positive_int("strides", strides)

    def call(self, inputs):
        inputs = _pad_same(inputs, self.pool_size, self.strides, float("-inf"))
        return ops.max_pool(inputs, self.pool_size, strides=self.strides, padding="valid")

    def compute_output_shape(self, input_shape):
        return _same_output_shape(input_shape, self.strides, input_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(pool_size=self.pool_size, strides=self.strides)
        return config


@keras.saving.register_keras_serializable(package="keras_vit")
class BottleneckUnit(keras.layers.Layer):
    """A post-activation ResNetV2 bottleneck unit, as in the original hybrid.

    `conv1 1x1 -> gn1 -> relu -> conv2 3x3 (strides) -> gn2 -> relu -> conv3 1x1
    -> gn3`, added to the shortcut and passed through ReLU. The shortcut is
    `conv_proj 1x1 (strides) -> gn_proj` when the unit changes the width or the
    resolution, else the input. `gn3`'s scale starts at zero, so a fresh unit
    passes its shortcut through.

    Args:
        filters: int. Width of the bottleneck; the unit outputs `4 * filters`
            channels. A multiple of 32, the GroupNorm groups.
        strides: int. Stride of `conv2` and `conv_proj`. Defaults to 1.
        **kwargs: Base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Input shape:
        `(batch, height, width, channels)`; an unknown height or width is taken
        as divisible by `strides`.

    Output shape:
        `(batch, ceil(height / strides), ceil(width / strides), 4 * filters)`.

    Example:

    >>> unit = BottleneckUnit(filters=32, strides=2)
    >>> keras.ops.shape(unit(keras.ops.ones((1, 8, 8, 64))))
    (1, 4, 4, 128)
    """

    def __init__(self, filters, strides=1, **kwargs):
        super().__init__(**kwargs)
        self.filters = _check_filters(filters)
        self.strides = check_positive_int("strides", strides)

    def build(self, input_shape):
        _check_image_shape("BottleneckUnit", input_shape)
        policy, width, out = self.dtype_policy, self.filters, 4 * self.filters
        self.conv1 = StdConv2D(width, 1, name="conv1", dtype=policy)
        self.gn1 = group_norm("gn1", policy)
        self.conv2 = StdConv2D(width, 3, self.strides, name="conv2", dtype=policy)
        self.gn2 = group_norm("gn2", policy)
        self.conv3 = StdConv2D(out, 1, name="conv3", dtype=policy)
        self.gn3 = group_norm("gn3", policy, zero_scale=True)
        self.has_projection = input_shape[-1] != out or self.strides != 1
        if self.has_projection:
            self.conv_proj = StdConv2D(out, 1, self.strides, name="conv_proj", dtype=policy)
            self.gn_proj = group_norm("gn_proj", policy)
        reduced = _same_output_shape(input_shape, self.strides, width)
        for layer, shape in self._sublayers(input_shape, reduced):
            layer.build(shape)

    def _sublayers(self, input_shape, reduced):
        full = (*input_shape[:3], self.filters)
        pairs = [
            (self.conv1, input_shape), (self.gn1, full), (self.conv2, full),
            (self.gn2, reduced), (self.conv3, reduced), (self.gn3, (*reduced[:3], 4 * self.filters)),
        ]
        if self.has_projection:
            pairs += [(self.conv_proj, input_shape), (self.gn_proj, (*reduced[:3], 4 * self.filters))]
        return pairs

    def call(self, inputs):
        shortcut = inputs
        if self.has_projection:
            shortcut = self.gn_proj(self.conv_proj(inputs))
        residual = ops.relu(self.gn1(self.conv1(inputs)))
        residual = ops.relu(self.gn2(self.conv2(residual)))
        residual = self.gn3(self.conv3(residual))
        return ops.relu(shortcut + residual)

    def compute_output_shape(self, input_shape):
        return _same_output_shape(input_shape, self.strides, 4 * self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, strides=self.strides)
        return config


@keras.saving.register_keras_serializable(package="keras_vit")
class ResNetStage(keras.layers.Layer):
    """A stage of bottleneck units `unit1 ... unitN`; the first one strides.

    Args:
        num_units: int. Number of bottleneck units.
        filters: int. Bottleneck width; the stage outputs `4 * filters` channels.
        strides: int. Stride of the first unit. Defaults to 1.
        **kwargs: Base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Input shape:
        `(batch, height, width, channels)`; an unknown height or width is taken
        as divisible by `strides`.

    Output shape:
        `(batch, ceil(height / strides), ceil(width / strides), 4 * filters)`.

    Example:

    >>> stage = ResNetStage(num_units=2, filters=32, strides=2)
    >>> keras.ops.shape(stage(keras.ops.ones((1, 8, 8, 32))))
    (1, 4, 4, 128)
    """

    # The unit class a stage stacks; subclasses stack other units.
    unit_class = BottleneckUnit

    def __init__(self, num_units, filters, strides=1, **kwargs):
        super().__init__(**kwargs)
        self.num_units = check_positive_int("num_units", num_units)
        self.filters = _check_filters(filters)
        self.strides = check_positive_int("strides", strides)

    def build(self, input_shape):
        _check_image_shape(type(self).__name__, input_shape)
        self.units = []
        shape = input_shape
        for index in range(self.num_units):
            unit = self.unit_class(
                self.filters,
                self.strides if index == 0 else 1,
                name=f"unit{index + 1}",
                dtype=self.dtype_policy,
            )
            unit.build(shape)
            shape = unit.compute_output_shape(shape)
            self.units.append(unit)

    def call(self, inputs):
        for unit in self.units:
            inputs = unit(inputs)
        return inputs

    def compute_output_shape(self, input_shape):
        return _same_output_shape(input_shape, self.strides, 4 * self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(num_units=self.num_units, filters=self.filters, strides=self.strides)
        return config


def resnet_stem(images, resnet_layers, width, size_multiple=None):
    """The hybrid's ResNetV2 stem, built into a functional graph.

    The root (`conv_root`: StdConv 7x7 stride 2, `gn_root`, ReLU, 3x3 stride-2
    max-pool) and one stage `block{s}` per entry of `resnet_layers`, of width
    `width * 2**(s - 1)`, the first stage at stride 1 and every later one at
    stride 2. Layer names are the original checkpoint's module names.

    Args:
        images: symbolic tensor `(batch, height, width, channels)`.
        resnet_layers: tuple of int. Units per stage; `()` keeps the root only.
        width: int. Channels of the root, `64 * width_factor`.
        size_multiple: int or None. For a dynamic-size hybrid, the pixels per
            patch token: `conv_root` refuses images it does not divide.
            Defaults to None.

    Returns:
        The feature map: `4 * width * 2**(S - 1)` channels after `S` stages,
        `width` channels for the root alone.
    """
    features = StdConv2D(width, 7, strides=2, size_multiple=size_multiple, name="conv_root")(images)
    features = group_norm("gn_root", None)(features)
    features = keras.layers.ReLU(name="root_relu")(features)
    features = MaxPooling2DSame(3, 2, name="root_pool")(features)
    for index, num_units in enumerate(resnet_layers):
        features = ResNetStage(
            num_units,
            width * 2**index,
            strides=1 if index == 0 else 2,
            name=f"block{index + 1}",
        )(features)
    return features
