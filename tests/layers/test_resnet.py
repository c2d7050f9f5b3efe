"""The ResNetV2 stem's layers: the shared contract, and their numerics against NumPy."""

import keras
import numpy as np
import pytest

from keras_vit.layers import BottleneckUnit, MaxPooling2DSame, ResNetStage, StdConv2D
from keras_vit.layers.resnet import group_norm, same_padding
from tests import reference
from tests.harness import run_layer_test


@pytest.mark.parametrize(
    "layer_cls, kwargs, input_shape, output_shape",
    [
        (StdConv2D, {"filters": 8, "kernel_size": 3, "strides": 2}, (2, 7, 8, 3), (2, 4, 4, 8)),
        (MaxPooling2DSame, {"pool_size": 3, "strides": 2}, (2, 7, 8, 4), (2, 4, 4, 4)),
        (BottleneckUnit, {"filters": 32, "strides": 2}, (2, 5, 6, 32), (2, 3, 3, 128)),
        # The unit's shapes again, so that compiled kernels are shared.
        (ResNetStage, {"num_units": 1, "filters": 32, "strides": 2}, (2, 5, 6, 32), (2, 3, 3, 128)),
    ],
    ids=["std_conv", "max_pool", "unit", "stage"],
)
def test_layer_contract(tmp_path, layer_cls, kwargs, input_shape, output_shape):
    run_layer_test(layer_cls, kwargs, input_shape, output_shape, tmp_path)


def _numpy(tensor):
    return np.asarray(keras.ops.convert_to_numpy(tensor), np.float64)


def _inputs(shape, seed=0, scale=1.0):
    return (np.random.default_rng(seed).normal(size=shape) * scale).astype("float32")


def test_same_padding_is_tensorflows():
    # TensorFlow's SAME puts the odd row at the bottom: ResNet's root at 224 pads (2, 3).
    assert same_padding(224, 7, 2) == (2, 3)
    assert same_padding(112, 3, 2) == (0, 1)
    assert same_padding(7, 3, 2) == (1, 1)
    assert same_padding(14, 1, 2) == (0, 0)
    assert same_padding(5, 3, 1) == (1, 1)


def test_an_open_size_pads_as_a_size_divisible_by_the_stride():
    # What a dynamic-size hybrid's graph computes for every size it accepts.
    for kernel_size, stride in ((7, 2), (3, 2), (1, 2), (3, 1)):
        assert same_padding(None, kernel_size, stride) == same_padding(8 * stride, kernel_size, stride)
    conv = StdConv2D(4, 3, strides=2)
    images = np.random.default_rng(0).normal(size=(1, 8, 12, 3)).astype("float32")
    open_model = keras.Model(inputs := keras.Input((None, None, 3)), conv(inputs))
    assert open_model.output_shape == (None, None, None, 4)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(open_model(images)), keras.ops.convert_to_numpy(conv(images))
    )


@pytest.mark.parametrize("kernel_size, strides, size", [(7, 2, 12), (3, 2, 8), (1, 2, 9)])
def test_std_conv_matches_the_original_equations(kernel_size, strides, size):
    # Height even, width odd: SAME pads (k - 2, ...) and (k - 1, ...) differently.
    conv = StdConv2D(filters=5, kernel_size=kernel_size, strides=strides)
    x = _inputs((2, size, size + 1, 3))
    conv.build(x.shape)
    kernel = np.random.default_rng(1).normal(loc=0.3, size=conv.kernel.shape)
    conv.kernel.assign(kernel.astype("float32"))
    outputs = _numpy(conv(x))
    np.testing.assert_allclose(outputs, reference.std_conv(x.astype(np.float64), kernel, strides), atol=1e-4)
    if kernel_size == 3:
        # PyTorch-style symmetric padding gives other numbers.
        standardized = _numpy(conv.standardized_kernel())
        symmetric = reference.conv_same(x.astype(np.float64), standardized, 2, pads=[(1, 1), (1, 1)])
        assert np.abs(outputs - symmetric[:, :4, :5]).max() > 0.1


def test_weight_standardisation_is_the_originals_not_timms():
    conv = StdConv2D(filters=5, kernel_size=3)
    conv.build((None, 8, 9, 3))
    kernel = np.random.default_rng(2).normal(scale=1e-3, size=conv.kernel.shape)
    conv.kernel.assign(kernel.astype("float32"))
    centered = kernel - kernel.mean(axis=(0, 1, 2))
    original = centered / (centered.std(axis=(0, 1, 2)) + 1e-5)
    timm = centered / np.sqrt(centered.var(axis=(0, 1, 2)) + 1e-8)
    standardized = _numpy(conv.standardized_kernel())
    np.testing.assert_allclose(standardized, original, rtol=1e-4)
    assert np.abs(standardized - timm).max() > 1e-3


def test_group_norm_is_flaxs():
    # Small activations make the epsilon visible: 1e-6 here, Keras' default is 1e-3.
    x = _inputs((2, 3, 4, 64), scale=0.01)
    layer = group_norm("gn", None)
    layer.build(x.shape)
    scale, bias = _inputs((64,), seed=1), _inputs((64,), seed=2)
    layer.set_weights([scale, bias])
    expected = reference.group_norm(x.astype(np.float64), scale, bias)
    np.testing.assert_allclose(_numpy(layer(x)), expected, atol=1e-4)


def test_max_pool_pads_with_minus_infinity():
    x = _inputs((2, 7, 8, 3)) - 5.0  # all negative: zero padding would win at the border
    np.testing.assert_allclose(_numpy(MaxPooling2DSame()(x)), reference.max_pool_same(x.astype(np.float64)))


def _randomize(layer, seed=3):
    rng = np.random.default_rng(seed)
    for variable in layer.weights:
        loc = 1.0 if variable.path.endswith("gamma") else 0.0
        variable.assign(rng.normal(loc=loc, scale=0.3, size=variable.shape).astype("float32"))


def _original_keys(layer):
    """The layer's weights under the original checkpoint's names (`conv1/kernel`, `gn1/scale`)."""
    names = {"gamma": "scale", "beta": "bias"}
    result = {}
    for variable in layer.weights:
        key = variable.path.split("/", 1)[1]
        stem, leaf = key.rsplit("/", 1)
        result[f"{stem}/{names.get(leaf, leaf)}"] = _numpy(variable)
    return result


@pytest.mark.parametrize(
    "strides, input_shape", [(2, (2, 7, 6, 64)), (1, (2, 5, 5, 128))], ids=["projection", "identity"]
)
def test_bottleneck_unit_matches_the_original_equations(strides, input_shape):
    unit = BottleneckUnit(filters=32, strides=strides)
    x = _inputs(input_shape)
    unit.build(x.shape)
    _randomize(unit)
    params = _original_keys(unit)
    assert ("conv_proj/kernel" in params) == (strides == 2)
    expected = reference.bottleneck_unit(x.astype(np.float64), params, "", strides)
    np.testing.assert_allclose(_numpy(unit(x)), expected, atol=1e-4)


def test_stage_names_its_units_as_the_checkpoints():
    stage = ResNetStage(num_units=3, filters=32, strides=2, name="block2")
    stage.build((None, 8, 8, 128))
    paths = {v.path for v in stage.weights}
    assert {"block2/unit1/conv_proj/kernel", "block2/unit3/gn3/gamma"} <= paths
    assert "block2/unit2/conv_proj/kernel" not in paths
    assert [unit.strides for unit in stage.units] == [2, 1, 1]


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: StdConv2D(filters=0, kernel_size=3), r"`filters` must be a positive integer. Received: filters=0"),
        (lambda: StdConv2D(4, 3, epsilon=0), r"`epsilon` must be positive. Received: epsilon=0"),
        (lambda: StdConv2D(4, 3, size_multiple=0), r"`size_multiple` must be a positive integer. Received: size_multiple=0"),
        (lambda: BottleneckUnit(filters=48), r"`filters` must be a multiple of 32, the GroupNorm groups. Received: filters=48"),
        (lambda: ResNetStage(num_units=0, filters=32), r"`num_units` must be a positive integer. Received: num_units=0"),
        (lambda: BottleneckUnit(32).build((None, 8, 32)), r"BottleneckUnit expects inputs of shape \(batch, height"),
    ],
    ids=["filters", "epsilon", "size_multiple", "groups", "units", "rank"],
)
def test_bad_arguments_are_named(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_a_root_with_a_size_multiple_refuses_sizes_it_would_round():
    conv = StdConv2D(4, 7, strides=2, size_multiple=8)
    assert keras.ops.shape(conv(np.zeros((1, 16, 24, 3), "float32"))) == (1, 8, 12, 4)
    with pytest.raises(ValueError, match=r"Image width 20 is not divisible by 8, the pixels per patch token "
                                         r"\(patch_size times the ResNet stem's stride\). Received: images.shape=\(1, 16, 20, 3\)"):
        conv(np.zeros((1, 16, 20, 3), "float32"))
    assert StdConv2D.from_config(conv.get_config()).size_multiple == 8
    assert "size_multiple" not in StdConv2D(4, 3).get_config()  # configs as before for every other conv
