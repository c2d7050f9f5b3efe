"""The checks every keras_vit layer must pass, on whichever backend runs the tests."""

import keras
import numpy as np

MIXED_POLICIES = {"mixed_bfloat16": 5e-2, "mixed_float16": 1e-2}


def run_layer_test(layer_cls, init_kwargs, input_shape, expected_output_shape, tmp_path):
    """Config round trip, symbolic and eager calls, a training step, a `.keras`
    round trip with `safe_mode=True` and both mixed-precision policies.

    Args:
        layer_cls: the layer class.
        init_kwargs: dict of constructor arguments.
        input_shape: full input shape, batch included.
        expected_output_shape: full output shape, batch included.
        tmp_path: a directory for the saved model.
    """
    inputs = np.random.default_rng(0).normal(size=input_shape).astype("float32")
    _check_config_round_trip(layer_cls, init_kwargs)
    model = _check_symbolic_call(layer_cls(**init_kwargs), input_shape, expected_output_shape)
    outputs = _to_numpy(model(inputs))
    assert outputs.shape == tuple(expected_output_shape)
    assert np.isfinite(outputs).all()
    _check_training_step(model, inputs, outputs)
    _check_saved_model(model, inputs, tmp_path)
    for policy, tolerance in MIXED_POLICIES.items():
        _check_mixed_precision(model, layer_cls, init_kwargs, inputs, policy, tolerance)


def _check_config_round_trip(layer_cls, init_kwargs):
    config = layer_cls(**init_kwargs).get_config()
    revived = layer_cls.from_config(config)
    assert revived.get_config() == config
    # The config is plain JSON: only __init__ arguments, nothing derived.
    assert keras.utils.serialize_keras_object(revived)["config"] == config


def _check_symbolic_call(layer, input_shape, expected_output_shape):
    symbolic_inputs = keras.Input(input_shape[1:], batch_size=None)
    symbolic_outputs = layer(symbolic_inputs)
    assert tuple(symbolic_outputs.shape) == (None, *expected_output_shape[1:])
    return keras.Model(symbolic_inputs, symbolic_outputs)


def _check_training_step(model, inputs, outputs):
    before = [np.array(_to_numpy(w)) for w in model.trainable_weights]
    targets = np.random.default_rng(1).normal(size=outputs.shape).astype("float32")
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    loss = model.train_on_batch(inputs, targets)
    assert np.isfinite(loss)
    after = [_to_numpy(w) for w in model.trainable_weights]
    if before:
        assert any(not np.allclose(b, a) for b, a in zip(before, after))


def _check_saved_model(model, inputs, tmp_path):
    path = str(tmp_path / "layer_test.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(_to_numpy(loaded(inputs)), _to_numpy(model(inputs)), atol=1e-6)


def _check_mixed_precision(model, layer_cls, init_kwargs, inputs, policy, tolerance):
    layer = layer_cls(**init_kwargs, dtype=policy)
    mixed = keras.Model(model.input, layer(model.input))
    mixed.set_weights(model.get_weights())
    for variable in layer.weights:
        assert variable.dtype == "float32", f"{variable.path} is {variable.dtype}"
    outputs = mixed(inputs)
    assert keras.backend.standardize_dtype(outputs.dtype) == policy.split("_")[1]
    reference = _to_numpy(model(inputs))
    outputs = _to_numpy(outputs).astype("float32")
    scale = max(1.0, float(np.abs(reference).max()))
    np.testing.assert_allclose(outputs, reference, atol=tolerance * scale)


def _to_numpy(tensor):
    return np.asarray(keras.ops.convert_to_numpy(tensor))
