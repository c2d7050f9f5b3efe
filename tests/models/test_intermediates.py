import collections

import keras
import numpy as np
import pytest

import keras_vit
from keras_vit.layers import TransformerBlock
from keras_vit.models import feature_maps, intermediates


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
    with pytest.raises(ValueError, match="must be built by keras_vit.*model.name='mlp'"):
        intermediates(model)


def _counting_blocks(monkeypatch):
    """Counts TransformerBlock calls by block name."""
    calls = collections.Counter()
    original = TransformerBlock.call

    def call(self, *args, **kwargs):
        calls[self.name] += 1
        return original(self, *args, **kwargs)

    monkeypatch.setattr(TransformerBlock, "call", call)
    return calls


def _random(model, seed=0):
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        variable.assign(rng.normal(scale=0.3, size=variable.shape).astype("float32"))
    return model


@pytest.mark.parametrize("placement", ["stem", "every_layer", "every_layer_shared"])
def test_intermediates_runs_each_block_once(monkeypatch, placement):
    model = _random(keras_vit.ViT(image_size=16, patch_size=8, hidden_dim=8, num_layers=3, num_heads=2, mlp_dim=16,
                                  num_classes=4, position_embedding_placement=placement))
    images = np.random.default_rng(1).uniform(0, 255, size=(2, 16, 16, 3)).astype("float32")
    probe = intermediates(model)
    expected = keras.ops.convert_to_numpy(model(images))
    calls = _counting_blocks(monkeypatch)
    outputs = probe(images)
    assert dict(calls) == {f"encoderblock_{i}": 1 for i in range(3)}
    np.testing.assert_allclose(keras.ops.convert_to_numpy(outputs["output"]), expected, atol=1e-5)


def test_feature_maps_are_the_blocks_patch_tokens_on_the_grid(monkeypatch):
    model = _random(keras_vit.ViT(image_size=(16, 24), patch_size=8, hidden_dim=8, num_layers=4, num_heads=2,
                                  mlp_dim=16, num_classes=4, position_embedding="learned_2d",
                                  position_embedding_placement="every_layer"))
    images = np.random.default_rng(1).uniform(0, 255, size=(2, 16, 24, 3)).astype("float32")
    blocks = keras.Model(model.input, [model.get_layer(f"encoderblock_{i}").output for i in range(4)])(images)
    norm = model.get_layer("encoder_norm")
    probes = [feature_maps(model, blocks=(1, -1), norm=False), feature_maps(model, blocks=(0, 1), norm=True),
              feature_maps(model, blocks=2, stop_early=False)]
    calls = _counting_blocks(monkeypatch)   # counts calls on images, not while the probes were built
    maps = probes[0](images)
    assert list(maps) == ["encoderblock_1", "encoderblock_3"]
    assert dict(calls) == {f"encoderblock_{i}": 1 for i in range(4)}
    for ours, index in zip(maps.values(), (1, 3)):
        tokens = keras.ops.convert_to_numpy(blocks[index])
        assert tuple(ours.shape) == (2, 2, 3, 8)
        # Patch (row, col) is token 1 + 3 * row + col: the class token dropped, row-major.
        np.testing.assert_allclose(keras.ops.convert_to_numpy(ours)[:, 1, 2], tokens[:, 1 + 3 + 2], atol=1e-5)
        np.testing.assert_allclose(keras.ops.convert_to_numpy(ours).reshape(2, 6, 8), tokens[:, 1:], atol=1e-5)
    calls.clear()
    normed = probes[1](images)   # stops after block 1
    assert dict(calls) == {"encoderblock_0": 1, "encoderblock_1": 1}
    expected = keras.ops.convert_to_numpy(norm(blocks[1]))[:, 1:].reshape(2, 2, 3, 8)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(normed["encoderblock_1"]), expected, atol=1e-5)
    calls.clear()
    both = probes[2](images)   # the last two, and the output
    assert dict(calls) == {f"encoderblock_{i}": 1 for i in range(4)}
    assert list(both) == ["encoderblock_2", "encoderblock_3", "output"]
    np.testing.assert_allclose(keras.ops.convert_to_numpy(both["output"]), keras.ops.convert_to_numpy(model(images)),
                               atol=1e-5)


def test_feature_maps_of_a_hybrid_and_of_gap_pooling():
    hybrid = keras_vit.ViTHybrid(resnet_layers=(1,), resnet_width=0.5, patch_size=1, image_size=32, hidden_dim=16,
                                 num_layers=2, num_heads=2, mlp_dim=16, num_classes=3)
    maps = feature_maps(hybrid)(np.zeros((1, 32, 32, 3), "float32"))
    assert {name: tuple(m.shape) for name, m in maps.items()} == {"encoderblock_1": (1, 8, 8, 16)}
    gap = keras_vit.ViT(image_size=16, patch_size=4, hidden_dim=8, num_layers=1, num_heads=2, mlp_dim=8, pooling="gap")
    maps = feature_maps(gap)(np.zeros((3, 16, 16, 3), "float32"))
    assert tuple(maps["encoderblock_0"].shape) == (3, 4, 4, 8)


@pytest.mark.parametrize("blocks, message", [
    (0, r"1 to 2 for this model. Received: blocks=0"),
    (3, r"1 to 2 for this model. Received: blocks=3"),
    ((0, 2), r"distinct block indices in \[-2, 1\] for this model's 2 blocks. Received: blocks=\(0, 2\)"),
    ((1, -1), r"distinct block indices.*Received: blocks=\(1, -1\)"),
    ((), r"Received: blocks=\(\)"),
    ("last", r"Received: blocks='last'"),
])
def test_bad_block_choices_are_named(blocks, message):
    model = keras_vit.ViT(image_size=16, patch_size=8, hidden_dim=8, num_layers=2, num_heads=2, mlp_dim=16)
    with pytest.raises(ValueError, match=message):
        feature_maps(model, blocks=blocks)
