"""Mixed precision and XLA / torch.compile on every backend."""

import keras
import numpy as np
import pytest

import keras_vit
from tests.weights.original import images, original_arrays, original_forward

TINY = dict(image_size=16, patch_size=4, hidden_dim=16, num_layers=2, num_heads=2, mlp_dim=24, num_classes=3)


def _data(count=16):
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, size=(count, 16, 16, 3)).astype("float32")
    return images, (images[..., 0].mean(axis=(1, 2)) > 127.5).astype("int32")


@pytest.mark.parametrize("policy, tolerance", [("mixed_bfloat16", 0.1), ("mixed_float16", 0.02)])
def test_mixed_precision_predicts_and_trains(policy, tolerance):
    reference = keras_vit.ViT(**TINY)
    rng = np.random.default_rng(1)
    for variable in reference.weights:
        variable.assign(rng.normal(scale=0.1, size=variable.shape).astype("float32"))
    keras.config.set_dtype_policy(policy)
    model = keras_vit.ViT(**TINY)
    model.set_weights(reference.get_weights())
    images, labels = _data()
    assert model.get_layer("encoderblock_0").compute_dtype == policy.split("_")[1]
    assert all(variable.dtype == "float32" for variable in model.weights)
    outputs = model.predict(images, verbose=0)
    assert outputs.dtype == np.float32
    np.testing.assert_allclose(outputs, reference.predict(images, verbose=0), atol=tolerance)
    optimizer = keras.optimizers.Adam(1e-2)
    if policy == "mixed_float16":
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    model.compile(optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    _assert_learns(model, images, labels)
    assert all(variable.dtype == "float32" for variable in model.weights)


def test_bfloat16_policy_keeps_bfloat16_weights_and_predicts():
    # The fastest policy for inference: no weight is cast in any call.
    reference = keras_vit.ViT(**TINY)
    rng = np.random.default_rng(1)
    for variable in reference.weights:
        variable.assign(rng.normal(scale=0.1, size=variable.shape).astype("float32"))
    keras.config.set_dtype_policy("bfloat16")
    model = keras_vit.ViT(**TINY)
    model.set_weights(reference.get_weights())
    assert all(variable.dtype == "bfloat16" for variable in model.weights)
    images, _ = _data()
    outputs = model.predict(images, verbose=0)
    assert outputs.dtype == np.float32
    expected = reference.predict(images, verbose=0)
    np.testing.assert_allclose(outputs, expected, atol=0.1)
    assert (outputs.argmax(-1) == expected.argmax(-1)).mean() >= 0.9


def test_bfloat16_policy_loads_a_checkpoint(tmp_path):
    arrays = original_arrays()
    path = str(tmp_path / "ckpt.npz")
    np.savez(path, **arrays)
    keras.config.set_dtype_policy("bfloat16")
    model = keras_vit.from_checkpoint(path)
    assert all(variable.dtype == "bfloat16" for variable in model.weights)
    batch = images()
    np.testing.assert_allclose(model.predict(batch, verbose=0), original_forward(arrays, batch), atol=0.1)


def test_jit_compile_trains_and_predicts():
    if keras.backend.backend() != "jax":
        # XLA on TensorFlow and torch.compile on torch compile for 45-100 s here on two cores.
        pytest.skip(
            "tests/models/test_dynamic_image_size.py::test_jit_compiled_predict_at_two_sizes_and_fit compiles "
            "prediction and training with jit_compile=True on this backend; under JAX, where compiling is "
            "every fit's default, this test is cheap and checks the static model"
        )
    model = keras_vit.ViT(**TINY)
    images, labels = _data()
    eager_outputs = model.predict(images, verbose=0)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=True,
    )
    np.testing.assert_allclose(model.predict(images, verbose=0), eager_outputs, atol=1e-5)
    _assert_learns(model, images, labels)


def _assert_learns(model, images, labels):
    """Fitting the 16 images moves every trainable weight and lowers the loss epoch after epoch.

    A finite loss alone would pass a run whose updates are all skipped (a loss
    scale stuck on overflow) or lost (float16 copies updated instead of the
    float32 variables).
    """
    before = [keras.ops.convert_to_numpy(w).copy() for w in model.trainable_weights]
    losses = model.fit(images, labels, batch_size=8, epochs=6, shuffle=False, verbose=0).history["loss"]
    assert all(np.diff(losses) < 0) and losses[-1] < 0.8 * losses[0], losses
    unmoved = [w.path for b, w in zip(before, model.trainable_weights) if np.array_equal(b, keras.ops.convert_to_numpy(w))]
    assert not unmoved, unmoved
