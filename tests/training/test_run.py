"""How `train` turns a `TrainConfig` into an optimizer, without training."""

import pytest

from keras_vit.training import RECIPES, TrainConfig
from keras_vit.training.run import _optimizer


def _peak(config):
    return _optimizer(config, steps=1000)._learning_rate.peak_learning_rate


@pytest.mark.parametrize("recipe", sorted(RECIPES))
def test_the_recipes_rate_is_scaled_to_the_runs_batch_size(recipe):
    config = TrainConfig(model="ViT", out="unused", recipe=recipe, batch_size=128)
    assert _peak(config) == pytest.approx(RECIPES[recipe].learning_rate * 128 / RECIPES[recipe].batch_size)


def test_an_explicit_learning_rate_is_used_as_given():
    config = TrainConfig(model="ViT", out="unused", batch_size=128, learning_rate=0.02)
    assert _peak(config) == pytest.approx(0.02)
