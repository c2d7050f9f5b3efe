"""A checkpoint reused beyond its shape: another patch size (FlexiViT), other input channels."""

import logging
import pathlib

import keras
import numpy as np
import pytest

import keras_vit
from keras_vit.layers import PatchEmbedding
from keras_vit.utils import adapt_input_channels, resample_patch_embedding
from tests.weights.original import hybrid_arrays, original_arrays

TIMM = pathlib.Path(__file__).parent.parent / "data" / "timm"


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """An original-layout checkpoint: 8x8 patches on 32x32 RGB images, 2 blocks of width 16."""
    path = tmp_path_factory.mktemp("checkpoint") / "ViT-tiny.npz"
    np.savez(path, **original_arrays())
    return str(path)


@pytest.fixture(scope="module")
def rgb(checkpoint):
    return keras_vit.from_checkpoint(checkpoint)


def _numpy(tensor):
    return keras.ops.convert_to_numpy(tensor)


def test_the_flexivit_identity_holds_for_a_larger_patch():
    # A patch resized up, embedded with the kernel resampled the same way, is the original token.
    rng = np.random.default_rng(0)
    kernel = rng.normal(size=(4, 4, 3, 8)).astype("float32")
    patches = rng.normal(size=(5, 4, 4, 3)).astype("float32")
    small, large = PatchEmbedding(4, 8, use_bias=False), PatchEmbedding(6, 8, use_bias=False)
    small.build((None, 4, 4, 3))
    large.build((None, 6, 6, 3))
    small.kernel.assign(kernel)
    large.kernel.assign(resample_patch_embedding(kernel, 6))
    resized = keras.ops.image.resize(patches, (6, 6), interpolation="bicubic", antialias=True)
    np.testing.assert_allclose(_numpy(large(resized)), _numpy(small(patches)), rtol=0, atol=1e-4)


def test_a_checkpoint_loads_at_another_patch_size_and_keeps_it(checkpoint, tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="keras_vit"):
        model = keras_vit.from_checkpoint(checkpoint, patch_size=4)
    assert model.vit_config.patch_size == 4 and model.vit_config.grid_size == (8, 8)
    assert "embedding/kernel resampled from 8x8 to 4x4 patches (FlexiViT's pseudo-inverse resize)" in caplog.messages
    expected = resample_patch_embedding(original_arrays()["embedding/kernel"], 4)
    np.testing.assert_allclose(_numpy(model.get_layer("embedding").kernel), expected, atol=1e-6)
    assert model.get_layer("pos_embedding").weights[0].shape == (1, 65, 16)
    same = keras_vit.ViT(patch_size=4, hidden_dim=16, num_layers=2, num_heads=4, mlp_dim=24, weights=checkpoint)
    images = np.random.default_rng(1).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(_numpy(same(images)), _numpy(model(images)), atol=1e-5)
    model.save(tmp_path / "patch4.keras")
    loaded = keras.saving.load_model(tmp_path / "patch4.keras")
    assert loaded.vit_config.patch_size == 4
    np.testing.assert_allclose(_numpy(loaded(images)), _numpy(model(images)), atol=1e-5)


@pytest.mark.parametrize("channels", [1, 6])
def test_grayscale_gives_what_the_rgb_model_gives_on_its_copies(checkpoint, rgb, channels):
    # Exactly so for 1 channel and multiples of 3: 2 or 4 channels keep the scale, not the sum.
    model = keras_vit.from_checkpoint(checkpoint, input_channels=channels)
    assert model.input_shape == (None, 32, 32, channels)
    expected = adapt_input_channels(original_arrays()["embedding/kernel"], channels)
    np.testing.assert_allclose(_numpy(model.get_layer("embedding").kernel), expected, atol=1e-6)
    gray = np.random.default_rng(2).uniform(0, 255, (2, 32, 32, 1)).astype("float32")
    np.testing.assert_allclose(
        _numpy(model(np.repeat(gray, channels, -1))), _numpy(rgb(np.repeat(gray, 3, -1))), rtol=0, atol=1e-4
    )


def test_an_rgb_checkpoints_pixel_statistics_follow_the_channels():
    model = keras_vit.from_checkpoint(TIMM / "deit_tiny_distilled_patch16_224", input_channels=1)
    config = model.vit_config
    assert config.pixel_mean == pytest.approx((np.mean((0.485, 0.456, 0.406)),))
    assert config.pixel_std == pytest.approx((np.mean((0.229, 0.224, 0.225)),))
    assert model.input_shape[-1] == 1


def test_bad_channels_are_refused(checkpoint, tmp_path):
    with pytest.raises(ValueError, match=r"`input_channels` must be a positive integer. Received: input_channels=0"):
        keras_vit.from_checkpoint(checkpoint, input_channels=0)
    gray = original_arrays()
    gray["embedding/kernel"] = gray["embedding/kernel"][:, :, :1]
    np.savez(tmp_path / "gray.npz", **gray)
    with pytest.raises(ValueError, match=r"'embedding/kernel'.*\(8, 8, 1, 16\).*\(8, 8, 3, 16\).*RGB images"):
        keras_vit.from_checkpoint(tmp_path / "gray.npz", input_channels=3)


def test_a_saved_model_takes_other_channels_and_old_configs_load(tmp_path):
    config = keras_vit.models.ViTConfig(image_size=16, patch_size=8, hidden_dim=8, num_layers=1, num_heads=2,
                                        mlp_dim=8, pixel_mean=(0.2, 0.4, 0.6), pixel_std=(0.5, 0.5, 0.5))
    old = {**config.get_config(), "num_channels": 3}
    del old["input_channels"]
    assert keras_vit.models.ViTConfig.from_config(old) == config
    model = keras_vit.models.build_vit(config)
    model.save(tmp_path / "rgb.keras")
    gray = keras_vit.from_checkpoint(tmp_path / "rgb.keras", input_channels=1)
    assert gray.vit_config.pixel_mean == pytest.approx((0.4,)) and gray.vit_config.pixel_std == (0.5,)
    expected = adapt_input_channels(_numpy(model.get_layer("embedding").kernel), 1)
    np.testing.assert_allclose(_numpy(gray.get_layer("embedding").kernel), expected, atol=1e-6)


def test_a_hybrid_adapts_its_root_convolution_and_resamples_its_patches(tmp_path):
    arrays = hybrid_arrays(resnet_layers=(), patch=2, image=32)
    np.savez(tmp_path / "hybrid.npz", **arrays)
    model = keras_vit.from_checkpoint(tmp_path / "hybrid.npz", input_channels=1, patch_size=1)
    assert model.input_shape == (None, 32, 32, 1) and model.vit_config.patch_size == 1
    expected = adapt_input_channels(arrays["conv_root/kernel"], 1)  # as timm adapts a stem's raw kernel
    np.testing.assert_allclose(_numpy(model.get_layer("conv_root").kernel), expected, atol=1e-5)
    expected = resample_patch_embedding(arrays["embedding/kernel"], 1)
    np.testing.assert_allclose(_numpy(model.get_layer("embedding").kernel), expected, atol=1e-6)
