import math
import os
import subprocess
import sys
import warnings

import keras
import numpy as np
import pytest

from keras_vit import training
from keras_vit.training import FINETUNE, PRETRAIN, WarmupDecay
from keras_vit.utils import cpu


def _rates(schedule, steps):
    return np.array([float(schedule(step)) for step in steps])


@pytest.mark.parametrize("decay", ["cosine", "linear"])
def test_warmup_then_decay_follows_the_formula(decay):
    peak, total, warmup, end = 0.3, 50, 10, 0.01
    schedule = WarmupDecay(peak, total, warmup, decay, end_learning_rate=end)
    steps = np.arange(0, 60)
    expected = []
    for step in steps:
        if step < warmup:
            expected.append(peak * step / warmup)
            continue
        progress = min((step - warmup) / (total - warmup), 1.0)
        fraction = 0.5 * (1 + math.cos(math.pi * progress)) if decay == "cosine" else 1 - progress
        expected.append(end + (peak - end) * fraction)
    np.testing.assert_allclose(_rates(schedule, steps), expected, rtol=1e-5, atol=1e-7)


def test_schedule_round_trips_through_its_config():
    schedule = WarmupDecay(0.1, 100, 5, "linear")
    revived = keras.optimizers.schedules.deserialize(keras.optimizers.schedules.serialize(schedule))
    np.testing.assert_allclose(_rates(revived, range(0, 100, 7)), _rates(schedule, range(0, 100, 7)))


def test_finetune_optimizer_is_the_papers_sgd():
    optimizer = training.finetune_optimizer(steps=10_000)
    assert isinstance(optimizer, keras.optimizers.SGD)
    assert optimizer.momentum == 0.9 and optimizer.global_clipnorm == 1.0
    schedule = optimizer._learning_rate
    assert (schedule.peak_learning_rate, schedule.warmup_steps, schedule.decay) == (0.03, 500, "cosine")
    assert FINETUNE.batch_size == 512 and FINETUNE.weight_decay == 0.0


def test_pretrain_optimizer_is_the_papers_adam_with_decoupled_decay():
    optimizer = training.pretrain_optimizer(steps=100_000)
    assert isinstance(optimizer, keras.optimizers.AdamW)
    assert (optimizer.beta_1, optimizer.beta_2, optimizer.weight_decay) == (0.9, 0.999, 0.1)
    schedule = optimizer._learning_rate
    assert (schedule.warmup_steps, schedule.decay) == (10_000, "linear")
    assert PRETRAIN.batch_size == 4096


@pytest.mark.parametrize("recipe", [FINETUNE, PRETRAIN])
def test_learning_rate_is_scaled_linearly_to_the_runs_batch_size(recipe):
    steps = 4 * recipe.warmup_steps
    scaled = recipe.optimizer(steps, batch_size=64)._learning_rate
    peak = recipe.learning_rate * 64 / recipe.batch_size
    np.testing.assert_allclose(float(scaled(recipe.warmup_steps)), peak, rtol=1e-6)
    unscaled = recipe.optimizer(steps)._learning_rate
    np.testing.assert_allclose(float(unscaled(recipe.warmup_steps)), recipe.learning_rate, rtol=1e-6)
    optimizer = training.finetune_optimizer(steps, batch_size=1024, learning_rate=0.01)
    assert optimizer._learning_rate.peak_learning_rate == pytest.approx(0.01 * 1024 / 512)
    with pytest.raises(ValueError, match="`batch_size` must be a positive integer. Received: batch_size=0"):
        recipe.schedule(steps, batch_size=0)


def test_adamw_takes_beta_1_and_sgd_takes_momentum():
    adamw = PRETRAIN.replace(momentum=0.5, beta_1=0.8).optimizer(100)
    assert adamw.beta_1 == 0.8
    sgd = FINETUNE.replace(momentum=0.5, beta_1=0.8).optimizer(100)
    assert sgd.momentum == 0.5
    with pytest.raises(ValueError, match=r"`beta_1` must be a number in \[0, 1\). Received: beta_1=1.0"):
        PRETRAIN.replace(beta_1=1.0)


def test_decoupled_weight_decay_shrinks_weights_by_rate_times_decay():
    # With a zero gradient, one AdamW step is w -= learning_rate * weight_decay * w.
    optimizer = PRETRAIN.replace(warmup_steps=0, learning_rate=0.5, weight_decay=0.1).optimizer(10)
    weight = keras.Variable(np.full((3,), 2.0, "float32"))
    optimizer.apply_gradients([(keras.ops.zeros((3,)), weight)])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(weight), 2.0 - 0.5 * 0.1 * 2.0, rtol=1e-6)


def test_short_runs_get_a_tenth_of_their_steps_as_warmup():
    assert FINETUNE.schedule(100).warmup_steps == 10
    assert FINETUNE.schedule(1000).warmup_steps == 500


def test_label_smoothing_matches_the_formula():
    logits = np.array([[2.0, -1.0, 0.5]], "float32")
    labels = np.array([[0.0, 1.0, 0.0]], "float32")
    smoothed = labels * 0.8 + 0.2 / 3
    log_probs = logits - np.log(np.exp(logits).sum())
    loss = training.classification_loss(0.2)(labels, logits)
    np.testing.assert_allclose(float(loss), -(smoothed * log_probs).sum(), rtol=1e-5)


def test_bad_recipe_values_are_rejected():
    with pytest.raises(ValueError, match="`warmup_steps` must be less than total_steps=10. Received: warmup_steps=10"):
        WarmupDecay(0.1, 10, 10)
    with pytest.raises(ValueError, match="`optimizer_name` must be one of 'sgd', 'adamw'. Received: optimizer_name='lamb'"):
        FINETUNE.replace(optimizer_name="lamb")
    with pytest.raises(ValueError, match="`learning_rate` must be positive"):
        training.finetune_optimizer(100, learning_rate=0)


def test_mixed_precision_helper_sets_the_policy():
    try:
        assert training.set_mixed_precision("mixed_bfloat16") == "mixed_bfloat16"
        assert keras.config.dtype_policy().name == "mixed_bfloat16"
        assert training.set_mixed_precision("auto") in ("float32", "mixed_bfloat16")
        with pytest.raises(ValueError, match="`policy` must be one of"):
            training.set_mixed_precision("float8")
    finally:
        keras.config.set_dtype_policy("float32")


def _accelerator():
    backend = keras.backend.backend()
    if backend == "torch":
        import torch

        return torch.cuda.is_available()
    if backend == "jax":
        import jax

        return jax.devices()[0].platform != "cpu"
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU") or tf.config.list_logical_devices("TPU"))


@pytest.mark.parametrize("flags, on_torch", [("avx2 fma", "float32"), ("avx2 avx512f avx512_bf16 amx_bf16", "mixed_bfloat16")])
def test_auto_precision_picks_bfloat16_on_a_cpu_only_where_it_has_bfloat16_units(flags, on_torch, tmp_path, monkeypatch):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nflags\t\t: {flags}\n")
    monkeypatch.setattr(cpu, "CPUINFO", str(cpuinfo))
    if _accelerator():
        pytest.skip("the accelerator decides; this checks the CPU's flags")
    # XLA on a CPU runs bfloat16 slower than float32 whatever the flags say.
    expected = on_torch if keras.backend.backend() == "torch" else "float32"
    assert training.set_mixed_precision("auto") == expected
    assert keras.config.dtype_policy().name == expected


def test_flush_denormals_makes_denormal_products_zero():
    # 1e-30 * 1e-10 = 1e-40 lies below float32's smallest normal number (1.2e-38). On torch,
    # earlier tests in this process may have started worker threads it cannot reach (it
    # then warns); this thread flushes either way.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        training.flush_denormals()
    tiny = keras.ops.multiply(keras.ops.convert_to_tensor(1e-30, "float32"), keras.ops.convert_to_tensor(1e-10, "float32"))
    assert float(keras.ops.convert_to_numpy(tiny)) == 0.0


FLUSH = """
import os, warnings
os.environ["KERAS_BACKEND"] = "torch"
import torch
if {work_first}:
    torch.full((1 << 20,), 2.0) * torch.full((1 << 20,), 3.0)  # starts torch's worker threads
from keras_vit import training
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    flushed = training.flush_denormals()
product = torch.full((1 << 22,), 1e-30) * torch.full((1 << 22,), 1e-10)
print(flushed, int(torch.count_nonzero(product)), [str(w.message) for w in caught])
"""


def _flush_in_a_fresh_torch_process(work_first):
    code = FLUSH.format(work_first=work_first)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    flushed, nonzero, messages = done.stdout.strip().splitlines()[-1].split(" ", 2)
    return flushed == "True", int(nonzero), messages


@pytest.mark.backend_independent("runs torch in a process of its own")
def test_flush_denormals_first_in_the_process_flushes_every_thread():
    flushed, nonzero, messages = _flush_in_a_fresh_torch_process(work_first=False)
    assert flushed and nonzero == 0 and messages == "[]"


@pytest.mark.backend_independent("runs torch in a process of its own")
@pytest.mark.skipif(os.cpu_count() < 2, reason="torch starts worker threads only with two or more cores")
def test_flush_denormals_after_torch_work_says_what_to_do():
    flushed, nonzero, messages = _flush_in_a_fresh_torch_process(work_first=True)
    assert not flushed and nonzero > 0
    assert "worker threads had already started" in messages and "first in the process" in messages
