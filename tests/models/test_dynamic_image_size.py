"""`dynamic_image_size=True`: one model for any input size, equal to the static models.

At its built size a dynamic model must compute what the static model computes;
at another size, what a static model built for that size computes with the
dynamic model's weights resampled by the loader (the same method, done in
NumPy in float64 there, in the graph in float32 here).
"""

import keras
import numpy as np
import pytest

import keras_vit
from keras_vit import inspect
from keras_vit.models import feature_maps
from keras_vit.weights import load_weights
from tests.models.test_position_embeddings import _randomize

TINY = dict(patch_size=8, hidden_dim=16, num_layers=2, num_heads=2, mlp_dim=24, num_classes=5)
BUILT, OTHER = (24, 24), (32, 40)  # 3x3 and 4x5 patch grids
CASES = [
    ("none", "stem", "zoom"),
    ("learned_1d", "stem", "zoom"),
    ("learned_1d", "stem", "bicubic"),
    ("learned_1d", "every_layer", "zoom"),
    ("learned_2d", "stem", "bicubic"),
    ("learned_2d", "every_layer_shared", "zoom"),
    ("relative", "stem", "zoom"),
]


def _images(size, batch=2, seed=1):
    return np.random.default_rng(seed).uniform(0, 255, (batch, *size, 3)).astype("float32")


def _numpy(outputs):
    return keras.ops.convert_to_numpy(outputs)


def _static_twin(dynamic, builder, size, method, tmp_path, **kwargs):
    """A static model for `size`, loaded from `dynamic`'s weights by the loader."""
    path = tmp_path / f"dynamic_{size[0]}x{size[1]}.weights.h5"
    dynamic.save_weights(path)
    static = builder(image_size=size, **kwargs)
    load_weights(static, str(path), resample_method=method)
    return static


@pytest.mark.parametrize("kind,placement,method", CASES)
def test_equals_the_static_model_at_built_and_other_size(kind, placement, method, tmp_path):
    kwargs = dict(TINY, position_embedding=kind, position_embedding_placement=placement)
    dynamic = _randomize(keras_vit.ViT(image_size=BUILT, dynamic_image_size=True, resample_method=method, **kwargs))
    assert dynamic.input_shape == (None, None, None, 3)
    for size in (BUILT, OTHER):
        static = _static_twin(dynamic, keras_vit.ViT, size, method, tmp_path, **kwargs)
        images = _images(size)
        expected = _numpy(static(images))
        np.testing.assert_allclose(_numpy(dynamic(images)), expected, atol=1e-5, rtol=0)
        if size == BUILT:  # the resampling is the identity there: nothing to round
            np.testing.assert_array_equal(_numpy(dynamic(images)), expected)


def test_a_hybrid_takes_sizes_its_stem_stride_times_patch_divides(tmp_path):
    kwargs = dict(TINY, resnet_layers=(1,), resnet_width=0.5, patch_size=2)  # 4 x 2 pixels per token
    dynamic = _randomize(keras_vit.ViTHybrid(image_size=32, dynamic_image_size=True, **kwargs))
    for size in ((32, 32), (40, 24)):
        static = _static_twin(dynamic, keras_vit.ViTHybrid, size, "zoom", tmp_path, **kwargs)
        images = _images(size)
        np.testing.assert_allclose(_numpy(dynamic(images)), _numpy(static(images)), atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match=r"Image height 36 is not divisible by 8"):
        dynamic(_images((36, 32)))


def test_a_size_the_patch_does_not_divide_names_size_and_divisor():
    model = keras_vit.ViT(image_size=BUILT, dynamic_image_size=True, **TINY)
    with pytest.raises(ValueError, match=r"Image height 20 is not divisible by 8.*Received: images.shape=\(1, 20, 24, 3\)"):
        model(_images((20, 24), batch=1))


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(dynamic_image_size="yes"), r"`dynamic_image_size` must be True or False\. Received: dynamic_image_size='yes'"),
        (dict(resample_method="nearest"), r"`resample_method` must be one of 'zoom', 'bicubic', 'bicubic_antialias'\. Received: resample_method='nearest'"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        keras_vit.ViT(image_size=BUILT, **TINY, **kwargs)


def test_jit_compiled_predict_at_two_sizes_and_fit():
    model = keras_vit.ViT(image_size=BUILT, dynamic_image_size=True, position_embedding="relative", **TINY)
    eager = {size: _numpy(model(_images(size, batch=4))) for size in (BUILT, OTHER)}
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=True,
    )
    for size in (BUILT, OTHER):
        predicted = model.predict(_images(size, batch=4), verbose=0)
        np.testing.assert_allclose(predicted, eager[size], atol=1e-5, rtol=0)
    before = _numpy(model.get_layer("encoderblock_0").attn.relative_embedding)
    # Training at a size other than the built one; prediction above already switched sizes
    # under compilation (each further size compiles again: 20-50 s on torch here).
    labels = np.arange(8) % 5
    history = model.fit(_images(OTHER, batch=8), labels, batch_size=4, epochs=2, verbose=0)
    losses = history.history["loss"]
    assert np.isfinite(losses).all() and losses[1] < losses[0], losses
    assert not np.allclose(_numpy(model.get_layer("encoderblock_0").attn.relative_embedding), before)


def test_saves_and_reloads_as_a_dynamic_model(tmp_path):
    model = _randomize(keras_vit.ViT(image_size=BUILT, dynamic_image_size=True, position_embedding="learned_2d",
                                     resample_method="bicubic", **TINY))
    path = tmp_path / "dynamic.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)
    assert reloaded.input_shape == (None, None, None, 3)
    images = _images(OTHER)
    np.testing.assert_allclose(_numpy(reloaded(images)), _numpy(model(images)), atol=1e-6, rtol=0)


def test_feature_maps_follow_the_image_size():
    model = _randomize(keras_vit.ViT(image_size=BUILT, dynamic_image_size=True, **TINY))
    maps = feature_maps(model, blocks=(0, 1))
    for size in (BUILT, OTHER):
        outputs = maps(_images(size))
        grid = (size[0] // 8, size[1] // 8)
        assert {name: tuple(m.shape) for name, m in outputs.items()} == {
            "encoderblock_0": (2, *grid, 16),
            "encoderblock_1": (2, *grid, 16),
        }


def test_inspect_maps_follow_the_image_size():
    model = _randomize(keras_vit.ViT(image_size=BUILT, dynamic_image_size=True, **TINY))
    assert inspect.token_grid(model).grid_size == (3, 3)
    assert inspect.token_grid(model, OTHER).grid_size == (4, 5)
    images = _images(OTHER)
    assert [w.shape for w in inspect.attention_weights(model, images)] == [(2, 2, 21, 21)] * 2
    assert inspect.attention_rollout(model, images).shape == (2, *OTHER)
    assert inspect.mean_attention_distance(model, images).shape == (2, 2)
    with pytest.raises(ValueError, match=r"Image width 36 is not divisible by 8"):
        inspect.token_grid(model, (32, 36))
