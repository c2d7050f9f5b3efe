"""LoRA with Keras' own layer LoRA: what trains, that a pre-trained ViT learns a
new task through it while its frozen weights stay bit-identical, saving,
merging, resuming, bad input and `keras-vit train --lora-rank`."""

import types

import keras
import numpy as np
import pytest

from keras_vit import training
from keras_vit.cli import main
from keras_vit.export import export_model
from tests.training import digits_vit

RANK, ALPHA = 4, 8.0


def _numpy(variable):
    return np.array(keras.ops.convert_to_numpy(variable))


def _parity(split):
    """The digits relabelled even (0) / odd (1): a task the backbone never saw."""
    images, labels = digits_vit.digits()[split]
    return images, labels % 2


@pytest.fixture(scope="module")
def finetuned(tmp_path_factory):
    # A digits classifier's weights, loaded under a new two-class head, which
    # keras_vit starts from zero.
    path = tmp_path_factory.mktemp("pretrained") / "digits.weights.h5"
    digits_vit.pretrained().save_weights(str(path))
    model = digits_vit.build(num_classes=2, weights=str(path))
    summary = training.enable_lora(model, RANK, alpha=ALPHA)
    frozen = {weight.path: _numpy(weight) for weight in model.weights if not weight.trainable}
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    before = model.evaluate(*_parity("test"), verbose=0, return_dict=True)
    history = model.fit(*_parity("train"), batch_size=64, epochs=6, verbose=0).history
    after = model.evaluate(*_parity("test"), verbose=0, return_dict=True)
    return types.SimpleNamespace(
        model=model, summary=summary, frozen=frozen, before=before, after=after, history=history
    )


def test_lora_fine_tuning_learns_while_the_frozen_weights_stay_put(finetuned):
    print(f"{keras.backend.backend()}: {finetuned.summary}; test before {finetuned.before}, after {finetuned.after}")
    assert finetuned.history["loss"][-1] < 0.5 * finetuned.history["loss"][0]
    assert finetuned.after["loss"] < 0.5 * finetuned.before["loss"]
    assert finetuned.after["accuracy"] >= 0.9 > finetuned.before["accuracy"] + 0.2
    for weight in finetuned.model.weights:
        if weight.path in finetuned.frozen:
            np.testing.assert_array_equal(_numpy(weight), finetuned.frozen[weight.path], err_msg=weight.path)
    factors_b = [w for w in finetuned.model.trainable_weights if w.path.endswith("lora_kernel_b")]
    assert len(factors_b) == 4 and all(np.abs(_numpy(b)).max() > 0 for b in factors_b)


def test_only_the_adapters_and_the_classifier_train():
    model = digits_vit.build(representation_size=8)
    inputs = digits_vit.digits()["test"][0][:8]
    outputs = digits_vit.predict(model, inputs)
    summary = training.enable_lora(model, 2, targets=["value", "mlp_fc2"])
    assert summary.layers == (
        "encoderblock_0/attn/value", "encoderblock_0/mlp_fc2", "encoderblock_1/attn/value", "encoderblock_1/mlp_fc2"
    )
    adapters = {f"{layer}/lora_kernel_{ab}" for layer in summary.layers for ab in "ab"}
    classifier = {"pre_logits/kernel", "pre_logits/bias", "head/kernel", "head/bias"}
    assert {weight.path for weight in model.trainable_weights} == adapters | classifier
    # value's a: (hidden_dim, heads, rank), b: (rank, head_dim); mlp_fc2's a: (mlp_dim, rank), b: (rank, hidden_dim).
    per_block = 32 * 2 * 2 + 2 * 16 + 64 * 2 + 2 * 32
    assert summary.trainable_params == 2 * per_block + (32 * 8 + 8) + (8 * 10 + 10)
    assert summary.total_params == model.count_params()
    assert str(summary).startswith(f"LoRA rank 2 (alpha 2) on 4 layers: {summary.trainable_params:,} of ")
    # The factor b starts at zero: enabling LoRA changes nothing yet.
    np.testing.assert_allclose(digits_vit.predict(model, inputs), outputs, atol=1e-6)


def test_saved_lora_model_reloads_with_the_same_outputs(finetuned, tmp_path):
    images = _parity("test")[0][:64]
    path = str(tmp_path / "lora.keras")
    finetuned.model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    # Keras saves LoRA layers merged: the file holds a plain model.
    assert not [weight.path for weight in loaded.weights if "lora" in weight.path]
    np.testing.assert_allclose(
        digits_vit.predict(loaded, images), digits_vit.predict(finetuned.model, images), atol=1e-5
    )


def test_merge_lora_folds_the_factors_into_the_kernels(finetuned):
    images = _parity("test")[0][:64]
    merged = training.merge_lora(finetuned.model)
    assert not [weight.path for weight in merged.weights if "lora" in weight.path]
    assert len(merged.weights) == len(finetuned.model.weights) - 2 * len(finetuned.summary.layers)
    assert all(weight.trainable for weight in merged.weights)
    np.testing.assert_allclose(
        digits_vit.predict(merged, images), digits_vit.predict(finetuned.model, images), atol=1e-5
    )
    weights = {weight.path: _numpy(weight) for weight in finetuned.model.weights}
    layer = "encoderblock_1/attn/query"
    expected = weights[f"{layer}/kernel"] + (ALPHA / RANK) * np.matmul(
        weights[f"{layer}/lora_kernel_a"], weights[f"{layer}/lora_kernel_b"]
    )
    kernel = next(_numpy(w) for w in merged.weights if w.path == f"{layer}/kernel")
    np.testing.assert_allclose(kernel, expected, atol=1e-6)


def test_merged_model_exports(finetuned, tmp_path):
    format = "onnx" if keras.backend.backend() == "torch" else "tf_saved_model"
    merged = training.merge_lora(finetuned.model)
    report = export_model(merged, tmp_path / ("merged.onnx" if format == "onnx" else "merged"), format,
                          verify=_parity("test")[0][:16])
    assert report.parity.max_abs_diff <= report.parity.tolerance


def test_lora_on_an_int8_model_merges_into_int8_kernels():
    model = training.quantize(digits_vit.pretrained(), "int8")
    summary = training.enable_lora(model, 2)
    assert summary.trainable_params == 4 * (32 * 2 * 2 + 2 * 16) + 10  # the int8 head keeps its bias only
    rng = np.random.default_rng(0)
    for weight in model.trainable_weights:
        if weight.path.endswith("lora_kernel_b"):
            weight.assign(rng.normal(scale=0.05, size=weight.shape).astype("float32"))
    images = digits_vit.digits()["test"][0][:64]
    merged = training.merge_lora(model)
    assert training.quantized_layers(merged) == training.quantized_layers(model)
    expected, outputs = digits_vit.predict(model, images), digits_vit.predict(merged, images)
    # Merged in float and quantized again: within the int8 model's own error.
    assert np.abs(outputs - expected).max() <= 0.2 * np.abs(expected).max()
    assert (outputs.argmax(-1) == expected.argmax(-1)).mean() >= 0.95


def test_merge_lora_needs_lora():
    with pytest.raises(ValueError, match="`model` has no LoRA-enabled layer to merge"):
        training.merge_lora(digits_vit.build())


def test_a_restored_lora_model_gets_a_factor_to_train_again(tmp_path):
    model = digits_vit.build()
    training.enable_lora(model, 2)
    path = str(tmp_path / "backup.weights.h5")
    model.save_weights(path)
    model.load_weights(path)  # as BackupAndRestore does: both factors come back zero
    query = model.get_layer("encoderblock_0").attn.query
    assert not np.any(_numpy(query.lora_kernel_a)) and not np.any(_numpy(query.lora_kernel_b))
    outputs = digits_vit.predict(model, digits_vit.digits()["test"][0][:8])
    restart = training.lora.RestartLoRA(seed=1)
    restart.set_model(model)
    restart.on_train_begin()
    assert np.any(_numpy(query.lora_kernel_a)) and not np.any(_numpy(query.lora_kernel_b))
    np.testing.assert_array_equal(digits_vit.predict(model, digits_vit.digits()["test"][0][:8]), outputs)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"rank": 0}, r"`rank` must be a positive integer. Received: rank=0"),
        ({"rank": 2.5}, r"`rank` must be a positive integer. Received: rank=2.5"),
        (
            {"rank": 2, "targets": ("query", "qkv")},
            r"`targets` must name one or more of 'query', .*'mlp_fc2'. Received: targets=\('query', 'qkv'\)",
        ),
        ({"rank": 2, "targets": ()}, r"Received: targets=\(\)"),
        ({"rank": 2, "alpha": -1}, r"`alpha` must be a positive number or None. Received: alpha=-1"),
    ],
)
def test_bad_arguments_are_refused_by_name(kwargs, message):
    model = digits_vit.build()
    with pytest.raises(ValueError, match=message):
        training.enable_lora(model, **kwargs)
    assert all(weight.trainable for weight in model.weights)


def test_a_model_without_blocks_is_refused():
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(2, name="head")(inputs), name="plain")
    with pytest.raises(ValueError, match=r"`model` has no keras_vit TransformerBlock.*Received: model.name='plain'"):
        training.enable_lora(model, 2)


def test_lora_is_enabled_once():
    model = digits_vit.build()
    training.enable_lora(model, 2)
    with pytest.raises(ValueError, match=r"LoRA is already enabled on encoderblock_0/attn/query"):
        training.enable_lora(model, 2, targets="query")


def _tiny_run(out):
    return ["train", "--model", "ViT", "--image-size", "16", "--patch-size", "8", "--hidden-dim", "16",
            "--num-layers", "1", "--num-heads", "2", "--mlp-dim", "32", "--epochs", "1", "--batch-size", "256",
            "--quiet", "--out", str(out)]


def test_train_command_fine_tunes_with_lora(tmp_path, capsys):
    assert main(_tiny_run(tmp_path) + ["--lora-rank", "2", "--lora-targets", "query", "out", "--lora-alpha", "4"]) == 0
    printed = capsys.readouterr()
    assert "keras_vit: LoRA rank 2 (alpha 4) on 2 layers: " in printed.err
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    assert not [weight.path for weight in loaded.weights if "lora" in weight.path]


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--lora-rank", "0"], "`lora_rank` must be a positive integer. Received: lora_rank=0"),
        (["--lora-targets", "query"], "--lora-targets and --lora-alpha apply with --lora-rank only"),
    ],
)
def test_train_command_refuses_bad_lora_flags(flags, message, tmp_path, capsys):
    assert main(_tiny_run(tmp_path) + flags) == 1
    assert message in capsys.readouterr().err
