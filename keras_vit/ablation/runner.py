"""Training one model per cell of the paper's ablations, all else equal."""

import dataclasses
import time

from keras_vit.ablation.result_row import AblationRow, out_dir, run_cell
from keras_vit.ablation.seeds import seeds_of
from keras_vit.layers.position_embedding import POSITION_EMBEDDING_PLACEMENTS
from keras_vit.utils.progress import Steps

# The valid cells of the paper's Table 8 (Appendix D.4): "none" and "relative"
# add nothing to the tokens, so only their "stem" cell exists (the paper's N/A);
# then big_vision's fixed sin-cos embedding, beyond the paper, at the stem.
CELLS = (
    ("none", "stem"),
    *(("learned_1d", placement) for placement in POSITION_EMBEDDING_PLACEMENTS),
    *(("learned_2d", placement) for placement in POSITION_EMBEDDING_PLACEMENTS),
    ("relative", "stem"),
    ("sincos_2d", "stem"),
)


def run_position_ablation(config, cells=CELLS, seeds=1, log=print, steps=None):
    """Trains `config`'s model once per position-embedding cell and seed.

    Every run is `config` with the cell's `position_embedding` and
    `position_embedding_placement` added to its `model_kwargs`, its seed and
    its own output folder, `config.out/position/KIND-PLACEMENT/seed_S`; the
    data and recipe are the same for all. Each row carries the test accuracy
    and the 5-shot (and `config.few_shot`) linear accuracy of the trained
    encoder, the paper's measure in its Table 8.

    Args:
        config: `keras_vit.training.TrainConfig` of a `"ViT"` model.
        cells: pairs `(position_embedding, placement)`. Defaults to `CELLS`.
        seeds: int >= 1. Runs per cell, with seeds `config.seed`,
            `config.seed + 1`, ... Defaults to 1.
        log: callable taking a line of progress. Defaults to `print`.
        steps: `keras_vit.utils.progress.Steps` numbering the runs, or None
            for one of this experiment's runs, writing to `log`. Defaults to None.

    Returns:
        A list of `AblationRow`, cell by cell, each cell's seeds in order.
    """
    check_config(config)
    cells = [check_cell(cell) for cell in cells]
    runs = [(cell, seed) for cell in cells for seed in seeds_of(config, seeds)]
    steps = steps or Steps(len(runs), log)
    rows = []
    for (kind, placement), seed in runs:
        steps.next(f"position_embedding={kind!r}, placement={placement!r}, seed {seed}")
        run = _with_position(dataclasses.replace(config, seed=seed), kind, placement)
        rows.append(run_cell(run, "position", f"{kind}/{placement}"))
        log(f"    test accuracy {rows[-1].test_accuracy:.4f}, 5-shot {rows[-1].few_shot[5]:.4f} "
            f"({rows[-1].seconds:.0f} s)")
    return rows


def run_pretraining_ablation(config, pretrain_config, scratch=(), target="mean_color", seeds=1, log=print,
                             steps=None):
    """From scratch against masked patch pre-training, on the same fine-tuning budget.

    The pre-training run is `pretrain_config` (its own epochs and recipe; the
    labels unused); the fine-tuning run is `config` started from the
    pre-trained encoder. The from-scratch run is `config` itself, or a row of
    `scratch` (e.g. a position ablation's) that already trained it with the
    same seed. Both rows carry the test and few-shot linear accuracies.

    Args:
        config: `TrainConfig` of the supervised run (a `"ViT"` model).
        pretrain_config: `TrainConfig` of the pre-training run, same model.
        scratch: `AblationRow`s of finished runs of `config`, one per seed
            they reuse. Defaults to none (each trained here).
        target: str. The masked-patch target. Defaults to `"mean_color"`.
        seeds: int >= 1. Runs per cell, with seeds `config.seed`,
            `config.seed + 1`, ... Defaults to 1.
        log: callable taking a line of progress. Defaults to `print`.
        steps: `keras_vit.utils.progress.Steps` numbering the runs, or None
            for one of this experiment's runs, writing to `log`. Defaults to None.

    Returns:
        `AblationRow`s: per seed, `"scratch"` then `"masked_patch"`.
    """
    from keras_vit.pretraining.run import pretrain

    check_config(config)
    done = {row.seed: row for row in scratch}
    seed_list = seeds_of(config, seeds)
    steps = steps or Steps(sum(1 if seed in done else 2 for seed in seed_list), log)
    rows = []
    for seed in seed_list:
        run = dataclasses.replace(config, seed=seed)
        if seed in done:
            rows.append(dataclasses.replace(done[seed], experiment="pretraining", name="scratch"))
        else:
            steps.next(f"from scratch, seed {seed}")
            rows.append(run_cell(dataclasses.replace(run, out=out_dir(run, "pretraining", "scratch")),
                                 "pretraining", "scratch"))
        steps.next(f"masked patch pre-training ({pretrain_config.epochs} epoch(s)), then fine-tuning, seed {seed}")
        start = time.perf_counter()
        pretrained = pretrain(
            dataclasses.replace(pretrain_config, seed=seed, out=out_dir(run, "pretraining", "pretrain")),
            target=target,
        )
        fine_tune = dataclasses.replace(run, out=out_dir(run, "pretraining", "fine_tune"),
                                        weights=pretrained.encoder_path)
        rows.append(run_cell(fine_tune, "pretraining", "masked_patch", seconds=time.perf_counter() - start))
        log(f"    test accuracy {rows[-1].test_accuracy:.4f} (from scratch: {rows[-2].test_accuracy:.4f})")
    return rows


def _with_position(config, kind, placement):
    kwargs = dict(config.model_kwargs, position_embedding=kind, position_embedding_placement=placement)
    return dataclasses.replace(config, model_kwargs=kwargs, out=out_dir(config, "position", f"{kind}-{placement}"))


def check_config(config):
    if config.model != "ViT":
        raise ValueError(
            "An ablation builds its models with `keras_vit.ViT` and changes one builder "
            "argument at a time: `model` must be 'ViT', its size in `model_kwargs`. "
            f"Received: model={config.model!r}"
        )


def check_cell(cell):
    if tuple(cell) not in CELLS:
        expected = ", ".join(f"{kind}/{placement}" for kind, placement in CELLS)
        raise ValueError(f"`cells` must hold cells of the paper's table: {expected}. Received: {cell!r}")
    return tuple(cell)
