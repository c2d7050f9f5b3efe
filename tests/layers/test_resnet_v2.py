"""BiT's pre-activation ResNetV2 layers: the shared contract, and the BiT options of `StdConv2D`.

Their numerics are checked against HF transformers' BiT in tests/models/test_resnet_v2.py.
"""

import keras
import numpy as np
import pytest

from keras_vit.layers import PreActBottleneckUnit, PreActResNetStage, StdConv2D
from keras_vit.layers.resnet import symmetric_padding
from tests.harness import run_layer_test


def test_layer_contract(tmp_path):
    # The stage, a list of these units, saves and loads inside the model in
    # tests/models/test_resnet_v2.py; the contract once is enough for CI's time.
    run_layer_test(PreActBottleneckUnit, {"filters": 32, "strides": 2}, (2, 5, 6, 32), (2, 3, 3, 128), tmp_path)


def test_a_stage_strides_in_its_first_unit_only():
    stage = PreActResNetStage(num_units=2, filters=32, strides=2)
    stage.build((None, 5, 6, 64))
    assert [unit.strides for unit in stage.units] == [2, 1]
    assert [unit.has_projection for unit in stage.units] == [True, False]
    assert stage.compute_output_shape((None, 5, 6, 64)) == (None, 3, 3, 128)


def test_symmetric_padding_is_pytorchs():
    # timm's get_padding: BiT's root pads 3 on every side, a 3x3 stride-2 conv 1, a 1x1 none.
    assert (symmetric_padding(7, 2), symmetric_padding(3, 2), symmetric_padding(3, 1)) == (3, 1, 1)
    assert symmetric_padding(1, 2) == 0
    conv = StdConv2D(4, 7, strides=2, padding="symmetric", standardization="variance", epsilon=1e-8)
    assert conv.compute_output_shape((1, 35, 40, 3)) == (1, 18, 20, 4)
    assert StdConv2D.from_config(conv.get_config()).get_config() == conv.get_config()


def test_variance_standardization():
    conv = StdConv2D(3, 1, padding="symmetric", standardization="variance", epsilon=0.5)
    conv.build((1, 2, 2, 2))
    kernel = np.arange(6, dtype="float32").reshape(1, 1, 2, 3) ** 2
    conv.kernel.assign(kernel)
    centered = kernel - kernel.mean(axis=(0, 1, 2), keepdims=True)
    expected = centered / np.sqrt(centered.var(axis=(0, 1, 2), keepdims=True) + 0.5)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(conv.standardized_kernel()), expected, rtol=1e-6)


def test_the_hybrid_convolution_keeps_its_config():
    config = StdConv2D(4, 3).get_config()
    assert "padding" not in config and "standardization" not in config


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match=r"`padding` must be one of 'same', 'symmetric'. Received: padding='valid'"):
        StdConv2D(4, 3, padding="valid")
    with pytest.raises(ValueError, match=r"`standardization` must be one of 'std', 'variance'"):
        StdConv2D(4, 3, standardization="var")
