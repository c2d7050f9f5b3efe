import keras
import numpy as np
import pytest

import keras_vit
from keras_vit.models import intermediates


def test_every_block_and_its_attention_in_one_pass():
    model = keras_vit.ViT(image_size=16, patch_size=8, hidden_dim=8, num_layers=3, num_heads=2, mlp_dim=16, num_classes=4)
    rng = np.random.default_rng(0)
    for variable in model.weights:
        variable.assign(rng.normal(scale=0.3, size=variable.shape).astype("float32"))
    images = rng.uniform(0, 255, size=(2, 16, 16, 3)).astype("float32")
    outputs = intermediates(model)(images)
    blocks = keras.Model(model.input, [model.get_layer(f"encoderblock_{i}").output for i in range(3)])(images)
    assert len(outputs["attention"]) == 3
    for ours, expected in zip(outputs["blocks"], blocks):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(ours), keras.ops.convert_to_numpy(expected), atol=1e-5)
    attention = keras.ops.convert_to_numpy(outputs["attention"][2])
    assert attention.shape == (2, 2, 5, 5)
    np.testing.assert_allclose(attention.sum(axis=-1), 1.0, atol=1e-5)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(outputs["output"]), keras.ops.convert_to_numpy(model(images)), atol=1e-5
    )


def test_a_model_without_blocks_is_rejected():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)], name="mlp")
    with pytest.raises(ValueError, match="no layer named 'encoderblock_0'.*model.name='mlp'"):
        intermediates(model)
