"""`train`: how a `TrainConfig` becomes an optimizer, and a tiny run end to end."""

import warnings

import pytest

from keras_vit.data import NO_AUGMENTATION
from keras_vit.training import RECIPES, TrainConfig, train
from keras_vit.training.run import optimizer_for


def _peak(config):
    return optimizer_for(config, steps=1000)._learning_rate.peak_learning_rate


@pytest.mark.parametrize("recipe", sorted(RECIPES))
def test_the_recipes_rate_is_scaled_to_the_runs_batch_size(recipe):
    config = TrainConfig(model="ViT", out="unused", recipe=recipe, batch_size=128)
    assert _peak(config) == pytest.approx(RECIPES[recipe].learning_rate * 128 / RECIPES[recipe].batch_size)


def test_an_explicit_learning_rate_is_used_as_given():
    config = TrainConfig(model="ViT", out="unused", batch_size=128, learning_rate=0.02)
    assert _peak(config) == pytest.approx(0.02)


def test_a_run_fits_without_warnings_about_shuffling(tmp_path):
    sizes = dict(patch_size=8, hidden_dim=16, num_layers=1, num_heads=2, mlp_dim=32)
    config = TrainConfig(
        model="ViT", out=str(tmp_path), image_size=16, model_kwargs=sizes, epochs=1, batch_size=256,
        augmentation=NO_AUGMENTATION, verbose=0,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = train(config)
    assert result.resumed_from_epoch == 0 and len(result.history["loss"]) == 1
    assert not [str(w.message) for w in caught if "shuffle" in str(w.message)]
