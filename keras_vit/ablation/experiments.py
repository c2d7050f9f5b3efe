"""The paper's data and compute experiments: data size (Figures 3, 4), scaling (Figure 5),
class token against global average pooling (Appendix D.3, Figure 9)."""

import dataclasses

from keras_vit.ablation.families import data_size_models, scaling_ladder
from keras_vit.ablation.result_row import out_dir, run_cell
from keras_vit.ablation.seeds import seeds_of
from keras_vit.data.subset import check_fraction
from keras_vit.utils.progress import Steps

DEFAULT_FRACTIONS = (0.1, 0.3, 1.0)
# The paper's Figure 9: the class token at 8e-4, global average pooling at
# 8e-4 and at 3e-4, the rate it needs.
GAP_RATE_RATIO = 3 / 8
POOLINGS = ("token", "gap")


def check_fractions(fractions):
    """`fractions` as increasing distinct floats in (0, 1]; a `ValueError` names a bad one."""
    try:
        values = tuple(fractions)
    except TypeError:
        values = (fractions,)
    if not values:
        raise ValueError(f"`fractions` must hold at least one fraction in (0, 1]. Received: fractions={fractions!r}")
    for value in values:
        check_fraction("fractions", value)
    return tuple(sorted({float(value) for value in values}))


def run_data_size_ablation(config, fractions=DEFAULT_FRACTIONS, models=None, seeds=1, log=print, steps=None):
    """ViT, ResNet and hybrid trained on nested, class-stratified subsets of the training data.

    Each model (`families.data_size_models(config)` by default: `config`'s
    ViT, BiT's smallest ResNetV2 and the ViT on a one-stage ResNet stem) is
    trained once per fraction and seed on that share of every class
    (`TrainConfig.train_fraction`; for one seed the subsets are nested). Every
    run sees the same number of images: a subset is repeated to the whole
    split's size, so only the number of distinct examples changes. Rows carry
    the test accuracy and the few-shot linear accuracy, whose pool is always
    the whole training split.

    Args:
        config: `TrainConfig` of a `"ViT"` model: the recipe, data and ViT.
        fractions: floats in (0, 1]. Defaults to `(0.1, 0.3, 1.0)`.
        models: `families.ModelSpec`s, or None for the three above.
        seeds: int >= 1. Runs per cell. Defaults to 1.
        log: callable taking a line of progress. Defaults to `print`.
        steps: `keras_vit.utils.progress.Steps` numbering the runs, or None
            for one of this experiment's runs, writing to `log`. Defaults to None.

    Returns:
        A list of `AblationRow`, named `"LABEL/FRACTION"`.
    """
    fractions = check_fractions(fractions)
    models = models or data_size_models(config)
    runs = [(spec, fraction, seed) for spec in models for fraction in fractions for seed in seeds_of(config, seeds)]
    steps = steps or Steps(len(runs), log)
    rows = []
    for spec, fraction, seed in runs:
        steps.next(f"{spec.label} on {fraction:g} of the training data, seed {seed}")
        run = dataclasses.replace(spec.apply(config), seed=seed, train_fraction=fraction)
        run = dataclasses.replace(run, out=out_dir(run, "data-size", spec.label, f"fraction_{fraction:g}"))
        rows.append(run_cell(run, "data-size", f"{spec.label}/{fraction:g}", model=spec.family,
                             train_fraction=fraction))
        _log_row(log, rows[-1])
    return rows


def run_scaling_ablation(config, models=None, seeds=1, log=print, steps=None):
    """A ladder of ViT, ResNet and hybrid sizes on the same data and recipe (the paper's Figure 5).

    Each row holds the model's forward FLOPs per image
    (`keras_vit.models.count_flops`) and the images it trained on; their
    product times 3 is the training compute (`AblationRow.training_flops`).

    Args:
        config: `TrainConfig` of a `"ViT"` model: the recipe, data, and the
            patch size and other arguments of the ladder's ViTs.
        models: `families.ModelSpec`s, or None for `families.scaling_ladder(config)`.
        seeds: int >= 1. Runs per model. Defaults to 1.
        log: callable taking a line of progress. Defaults to `print`.
        steps: `keras_vit.utils.progress.Steps` numbering the runs, or None
            for one of this experiment's runs, writing to `log`. Defaults to None.

    Returns:
        A list of `AblationRow`, named by the models' labels.
    """
    models = models or scaling_ladder(config)
    runs = [(spec, seed) for spec in models for seed in seeds_of(config, seeds)]
    steps = steps or Steps(len(runs), log)
    rows = []
    for spec, seed in runs:
        steps.next(f"{spec.label}, seed {seed}")
        run = dataclasses.replace(spec.apply(config), seed=seed)
        run = dataclasses.replace(run, out=out_dir(run, "scaling", spec.label))
        rows.append(run_cell(run, "scaling", spec.label, model=spec.family))
        _log_row(log, rows[-1])
    return rows


def head_learning_rates(config):
    """The head experiment's two rates: `config.learning_rate` and 3/8 of it (the
    paper's 8e-4 and 3e-4); without one, the recipe's rate at `config.batch_size`."""
    from keras_vit.training.recipes import RECIPES

    rate = config.learning_rate
    if rate is None:
        recipe = RECIPES[config.recipe]
        rate = recipe.learning_rate * config.batch_size / recipe.batch_size
    return (rate, rate * GAP_RATE_RATIO)


def run_head_ablation(config, learning_rates=None, seeds=1, log=print, steps=None):
    """The class token against global average pooling, each at two learning
    rates (the paper's Appendix D.3, Figure 9).

    Args:
        config: `TrainConfig` of a `"ViT"` model.
        learning_rates: two or more floats > 0, or None for
            `head_learning_rates(config)`.
        seeds: int >= 1. Runs per cell. Defaults to 1.
        log: callable taking a line of progress. Defaults to `print`.
        steps: `keras_vit.utils.progress.Steps` numbering the runs, or None
            for one of this experiment's runs, writing to `log`. Defaults to None.

    Returns:
        A list of `AblationRow`, named `"POOLING/lr=RATE"`, each with its
        validation accuracy after every epoch in `curve`.
    """
    rates = check_rates(head_learning_rates(config) if learning_rates is None else learning_rates)
    runs = [(pooling, rate, seed) for pooling in POOLINGS for rate in rates for seed in seeds_of(config, seeds)]
    steps = steps or Steps(len(runs), log)
    rows = []
    for pooling, rate, seed in runs:
        steps.next(f"pooling={pooling!r}, learning rate {rate:g}, seed {seed}")
        run = dataclasses.replace(config, seed=seed, learning_rate=rate,
                                  model_kwargs=dict(config.model_kwargs, pooling=pooling))
        run = dataclasses.replace(run, out=out_dir(run, "head", f"{pooling}-lr{rate:g}"))
        rows.append(run_cell(run, "head", f"{pooling}/lr={rate:g}", pooling=pooling, learning_rate=rate))
        _log_row(log, rows[-1])
    return rows


def check_rates(rates):
    values = tuple(rates) if isinstance(rates, (tuple, list)) else ()
    if not values or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in values):
        raise ValueError(
            f"`learning_rates` must be a sequence of positive floats. Received: learning_rates={rates!r}"
        )
    return tuple(float(v) for v in values)


def _log_row(log, row):
    log(f"    test accuracy {row.test_accuracy:.4f}, 5-shot {row.few_shot[5]:.4f} ({row.seconds:.0f} s)")
