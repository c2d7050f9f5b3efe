"""`remat=True`: every Transformer block computed again in the backward pass, with the same numbers.

Gradients come from each backend's own autodiff (`jax.value_and_grad` over
`stateless_call`, `tf.GradientTape`, torch's `loss.backward()`), and a spy on
the backend's rematerialization (`jax.checkpoint`, `tf.recompute_grad`,
`torch.utils.checkpoint.checkpoint`) shows that the flag reaches it.
"""

import importlib

import keras
import numpy as np
import pytest

import keras_vit
from keras_vit.layers import names
from keras_vit.models import ViTConfig, builders

TINY = dict(image_size=16, patch_size=4, hidden_dim=16, num_layers=2, num_heads=2, mlp_dim=32, num_classes=3)
# The function `keras.remat` calls on each backend, as (module, attribute).
BACKEND_REMAT = {
    "jax": ("jax", "checkpoint"),
    "tensorflow": ("tensorflow", "recompute_grad"),
    "torch": ("torch.utils.checkpoint", "checkpoint"),
}


def _images(batch=2):
    return np.random.default_rng(1).uniform(0, 255, (batch, 16, 16, 3)).astype("float32")


def _pair(**kwargs):
    """The same random weights (and seed states) without and with remat."""
    plain = keras_vit.ViT(**{**TINY, **kwargs})
    remat = keras_vit.ViT(**{**TINY, **kwargs}, remat=True)
    rng = np.random.default_rng(0)
    for variable in plain.trainable_variables:  # a random head too: its zero init stops every gradient
        variable.assign(rng.normal(0.0, 0.3, variable.shape).astype("float32"))
    for source, target in zip(plain.variables, remat.variables, strict=True):
        target.assign(source)
    return plain, remat


def _loss(outputs):
    targets = keras.ops.convert_to_tensor(np.arange(outputs.shape[-1], dtype="float32"))
    return keras.ops.mean(keras.ops.square(outputs - targets))


def _loss_and_gradients(model, images):
    """The loss of a training call and its gradient for every trainable variable, as NumPy."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        def loss(trainable, non_trainable):
            outputs, non_trainable = model.stateless_call(trainable, non_trainable, images, training=True)
            return _loss(outputs), non_trainable  # the seed states, as a train step keeps them

        (value, _), gradients = jax.jit(jax.value_and_grad(loss, has_aux=True))(
            [v.value for v in model.trainable_variables], [v.value for v in model.non_trainable_variables]
        )
    elif backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            value = _loss(model(images, training=True))
        gradients = tape.gradient(value, model.trainable_variables)
    else:
        for variable in model.trainable_variables:
            variable.value.grad = None
        value = _loss(model(images, training=True))
        value.backward()
        gradients = [v.value.grad for v in model.trainable_variables]
    return float(keras.ops.convert_to_numpy(value)), [keras.ops.convert_to_numpy(g) for g in gradients]


def _assert_same_gradients(plain, remat, images):
    # Keras' torch Dropout without a seed draws from torch's global generator.
    keras.utils.set_random_seed(0)
    loss, gradients = _loss_and_gradients(plain, images)
    keras.utils.set_random_seed(0)
    remat_loss, remat_gradients = _loss_and_gradients(remat, images)
    assert remat_loss == pytest.approx(loss, abs=1e-6)
    largest = 0.0
    for variable, expected, got in zip(plain.trainable_variables, gradients, remat_gradients, strict=True):
        assert np.abs(expected).max() > 0, f"{variable.path} gets no gradient: the test would prove nothing"
        np.testing.assert_allclose(got, expected, atol=1e-5, err_msg=variable.path)
        largest = max(largest, float(np.abs(got - expected).max()))
    print(f"{keras.backend.backend()}: largest gradient difference {largest:.2e}")


@pytest.fixture
def spy(monkeypatch):
    """Counts the calls of the backend function `keras.remat` wraps a block's call in."""
    module_name, attribute = BACKEND_REMAT[keras.backend.backend()]
    module = importlib.import_module(module_name)
    original, calls = getattr(module, attribute), []

    def counted(*args, **kwargs):
        calls.append(attribute)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, attribute, counted)
    return calls


def test_gradients_equal_those_without_remat_and_go_through_the_backend_remat(spy):
    plain, remat = _pair()
    _assert_same_gradients(plain, remat, keras.ops.convert_to_tensor(_images()))
    assert len(spy) == TINY["num_layers"], spy  # one call per block of `remat`, none from `plain`


def test_gradients_with_dropout_and_stochastic_depth_equal_those_without_remat():
    # The recomputation draws the masks of the forward pass again; one block has all three kinds.
    plain, remat = _pair(num_layers=1, dropout_rate=0.2, attention_dropout_rate=0.2, stochastic_depth_rate=0.3)
    _assert_same_gradients(plain, remat, keras.ops.convert_to_tensor(_images(batch=4)))


def test_fit_trains_a_remat_model_with_dropout():
    _, model = _pair(num_layers=1, dropout_rate=0.2, stochastic_depth_rate=0.3)
    before = [keras.ops.convert_to_numpy(v) for v in model.trainable_variables]
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse")
    history = model.fit(_images(batch=4), np.ones((4, 3), "float32"), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert any(not np.array_equal(a, keras.ops.convert_to_numpy(v)) for a, v in zip(before, model.trainable_variables))


def test_inference_is_unchanged():
    plain, remat = _pair()
    images = _images()
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(remat(images)), keras.ops.convert_to_numpy(plain(images))
    )


def test_intermediates_read_a_remat_model():
    plain, remat = _pair()
    images = _images()
    got = keras_vit.models.intermediates(remat)(images)
    expected = keras_vit.models.intermediates(plain)(images)
    for key in ("output", "encoded"):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(got[key]), keras.ops.convert_to_numpy(expected[key]),
                                   atol=1e-6)


@pytest.mark.skipif(keras.backend.backend() != "jax", reason="reads the gradient's jaxpr")
def test_the_jax_gradient_holds_one_checkpoint_per_block():
    import jax

    def rematerialized(model):
        images = keras.ops.convert_to_tensor(_images())

        def loss(trainable, non_trainable):
            return _loss(model.stateless_call(trainable, non_trainable, images, training=True)[0])

        trainable = [v.value for v in model.trainable_variables]
        jaxpr = jax.make_jaxpr(jax.grad(loss))(trainable, [v.value for v in model.non_trainable_variables])
        # jax.checkpoint's primitive: "checkpoint" or "remat2", by JAX version.
        return [e for e in jaxpr.jaxpr.eqns if "remat" in e.primitive.name or "checkpoint" in e.primitive.name]

    plain, remat = _pair()
    assert rematerialized(plain) == []
    assert len(rematerialized(remat)) == TINY["num_layers"]


def test_remat_survives_a_keras_file(tmp_path, spy):
    _, model = _pair()
    path = str(tmp_path / "remat.keras")
    model.save(path)
    restored = keras.saving.load_model(path, safe_mode=True)
    assert restored.vit_config.remat is True and restored.vit_config == model.vit_config
    assert all(restored.get_layer(names.block(i)).remat for i in range(TINY["num_layers"]))
    images = keras.ops.convert_to_tensor(_images())
    expected = keras.ops.convert_to_numpy(model(images))
    spy.clear()
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(restored(images)), expected)
    assert len(spy) == TINY["num_layers"]


def test_every_builder_takes_remat(monkeypatch):
    hybrid = keras_vit.ViTHybrid(
        resnet_layers=(1,), resnet_width=0.5, image_size=32, patch_size=2, hidden_dim=16,
        num_layers=1, num_heads=2, mlp_dim=32, num_classes=3, remat=True,
    )
    assert hybrid.vit_config.remat and hybrid.get_layer(names.block(0)).remat
    assert not keras_vit.ViT(**TINY).get_layer(names.block(0)).remat
    # A named builder hands its keywords to keras_vit.ViT or ViTHybrid; a full size takes long to build.
    monkeypatch.setattr(builders, "ViT", lambda **kwargs: kwargs)
    monkeypatch.setattr(builders, "ViTHybrid", lambda **kwargs: kwargs)
    assert keras_vit.ViTB16(remat=True)["remat"] is True
    assert keras_vit.ViTR50B16(remat=True)["remat"] is True


def test_a_config_written_before_remat_loads_without_it():
    config = ViTConfig(remat=True).get_config()
    assert config["remat"] is True
    del config["remat"]
    assert ViTConfig.from_config(config).remat is False


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_a_bad_value_names_remat(value):
    with pytest.raises(ValueError, match=rf"`remat` must be True or False\. Received: remat={value!r}"):
        keras_vit.ViT(**TINY, remat=value)
    with pytest.raises(ValueError, match=r"`remat` must be True or False"):
        keras_vit.layers.TransformerBlock(2, 32, remat=value)


def test_keras_vit_train_remat_builds_a_remat_model():
    from keras_vit.cli import _parser
    from keras_vit.cli.common import config_from_flags
    from keras_vit.training.run import build_model_for

    sizes = ["--model", "ViT", "--image-size", "16", "--patch-size", "4", "--hidden-dim", "16",
             "--num-layers", "1", "--num-heads", "2", "--mlp-dim", "32"]
    for flags, expected in (([], False), (["--remat"], True)):
        config = config_from_flags(_parser("train").parse_args(["train", *sizes, *flags]))
        assert config.remat is expected
        assert build_model_for(config, num_classes=3).vit_config.remat is expected

