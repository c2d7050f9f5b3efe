"""Running several experiments in one go, and writing their report.

`run_experiments` checks every argument before it trains anything, then runs
the named experiments in order; `write_report` writes `results.csv` (one line
per run), `report.md` (every table, each figure linked) and the figures.
"""

import dataclasses
import os
import sys

from keras_vit.ablation import families, figures, report
from keras_vit.ablation.experiments import (
    DEFAULT_FRACTIONS,
    POOLINGS,
    check_fractions,
    check_rates,
    head_learning_rates,
    run_data_size_ablation,
    run_head_ablation,
    run_scaling_ablation,
)
from keras_vit.ablation.result_row import PAPER_SHOTS
from keras_vit.ablation.runner import CELLS, check_cell, check_config, run_position_ablation, run_pretraining_ablation
from keras_vit.ablation.seeds import LEGEND, cells as seed_cells
from keras_vit.evaluation.sampling import check_class_sizes, check_shots
from keras_vit.utils.progress import Steps
from keras_vit.utils.validation import check_positive_int

EXPERIMENTS = ("position", "pretraining", "data-size", "scaling", "head")
ALL = "all"
FIGURES = {
    "position": "ablation.png",
    "data-size": "data_size.png",
    "scaling": "scaling.png",
    "head": "head.png",
}


def check_experiments(experiments):
    """`experiments` (names, or `"all"`) as a tuple of known names in the order of `EXPERIMENTS`."""
    names = (experiments,) if isinstance(experiments, str) else tuple(experiments)
    unknown = [name for name in names if name not in (*EXPERIMENTS, ALL)]
    if not names or unknown:
        raise ValueError(
            f"`experiments` must name experiments among {', '.join(EXPERIMENTS)}, or {ALL!r}. "
            f"Received: experiments={experiments!r}"
        )
    return EXPERIMENTS if ALL in names else tuple(name for name in EXPERIMENTS if name in names)


def run_experiments(config, experiments=ALL, seeds=1, pretrain_config=None, fractions=DEFAULT_FRACTIONS,
                    learning_rates=None, cells=CELLS, data_size_models=None, scaling_models=None, log=print,
                    after_each=None):
    """Runs the named experiments on `config`'s data and recipe.

    Every argument, the data's smallest class against the few-shot counts
    included, is checked before the first model trains.

    Args:
        config: `TrainConfig` of a `"ViT"` model; its `few_shot` shots are
            reported beside the 5-shot accuracy every row has.
        experiments: names among `EXPERIMENTS`, or `"all"`. Defaults to all.
        seeds: int >= 1. Runs per cell. Defaults to 1.
        pretrain_config: `TrainConfig` of masked patch pre-training, needed
            for `"pretraining"`.
        fractions: the data-size experiment's subset fractions, in (0, 1].
        learning_rates: the head experiment's rates, or None for its default.
        cells: the position experiment's cells. Defaults to `CELLS`.
        data_size_models: `families.ModelSpec`s of the data-size experiment,
            or None for its default (`families.data_size_models`).
        scaling_models: `families.ModelSpec`s of the scaling experiment, or
            None for its default (`families.scaling_ladder`).
        log: callable taking a line of progress: each run's number of all
            the runs, with the time so far and an estimate of the time left,
            and its result. Defaults to `print`.
        after_each: callable or None. Called with the rows so far after each
            experiment, e.g. to write the report as it grows. Defaults to None.

    Returns:
        A list of `AblationRow`, experiment by experiment.
    """
    names = check_experiments(experiments)
    check_positive_int("seeds", seeds)
    check_config(config)
    fractions = check_fractions(fractions)
    cells = [check_cell(cell) for cell in cells]
    if learning_rates is not None:
        learning_rates = check_rates(learning_rates)
    if "pretraining" in names and pretrain_config is None:
        raise ValueError("The pretraining experiment needs `pretrain_config`, the masked patch pre-training run.")
    _check_shots(config)
    # One count of the runs over every experiment, so that each says how many are left.
    per_seed = _runs_per_seed(config, names, cells, fractions, learning_rates, data_size_models, scaling_models)
    steps = Steps(seeds * sum(per_seed[name] for name in names), log)
    rows = []
    for name in names:
        log(f"== {name} ==")
        if name == "position":
            rows += run_position_ablation(config, cells, seeds=seeds, log=log, steps=steps)
        elif name == "pretraining":
            scratch = [r for r in rows if r.name == "learned_1d/stem"]
            rows += run_pretraining_ablation(config, pretrain_config, scratch=scratch, seeds=seeds, log=log,
                                             steps=steps)
        elif name == "data-size":
            rows += run_data_size_ablation(config, fractions, data_size_models, seeds=seeds, log=log, steps=steps)
        elif name == "scaling":
            rows += run_scaling_ablation(config, scaling_models, seeds=seeds, log=log, steps=steps)
        else:
            rows += run_head_ablation(config, learning_rates, seeds=seeds, log=log, steps=steps)
        if after_each is not None:
            after_each(list(rows))
    return rows


def _runs_per_seed(config, names, cells, fractions, learning_rates, data_size_models, scaling_models):
    """How many models each experiment trains per seed."""
    return {
        "position": len(cells),
        # From scratch is the position experiment's learned_1d/stem run where it has one.
        "pretraining": 1 if "position" in names and ("learned_1d", "stem") in cells else 2,
        "data-size": len(data_size_models or families.data_size_models(config)) * len(fractions),
        "scaling": len(scaling_models or families.scaling_ladder(config)),
        "head": len(POOLINGS) * len(learning_rates or head_learning_rates(config)),
    }


def _check_shots(config):
    """The few-shot counts against the smallest class of the data's training split."""
    from keras_vit.data.load import load_source
    from keras_vit.data.subset import split_labels

    shots = check_shots((PAPER_SHOTS, *config.few_shot))
    source = load_source(config.data, data_dir=config.data_dir, image_size=config.image_size or 32, seed=config.seed)
    try:
        check_class_sizes(split_labels(source), shots[-1])
    except ValueError as error:
        raise ValueError(f"`few_shot`: {error} Received: few_shot={config.few_shot!r}") from None


def write_report(rows, out, paper=True):
    """Writes `results.csv`, `report.md` and a figure per experiment into `out`.

    Args:
        rows: `AblationRow`s of any experiments.
        out: str. The folder, made if missing.
        paper: bool. Include the paper's Table 8 in the report. Defaults to True.

    Returns:
        The list of the paths written. Without matplotlib the figures are
        skipped, with a line on stderr.
    """
    os.makedirs(out, exist_ok=True)
    paths = [os.path.join(out, "results.csv")]
    report.write_csv(rows, paths[0])
    drawn = {}
    for experiment, name in FIGURES.items():
        if not _has(rows, experiment):
            continue
        try:
            _plot(experiment, rows, os.path.join(out, name))
        except ImportError as error:
            print(f"skipped {name}: {error}", file=sys.stderr)
            continue
        drawn[experiment] = name
        paths.append(os.path.join(out, name))
    path = os.path.join(out, "report.md")
    with open(path, "w", encoding="utf-8") as file:
        file.write(markdown_report(rows, drawn, paper))
    return [path, *paths]


def _has(rows, experiment):
    names = ("position", "pretraining") if experiment == "position" else (experiment,)
    return any(row.experiment in names for row in rows)


def _plot(experiment, rows, path):
    plot = {
        "position": report.plot_ablation,
        "data-size": figures.plot_data_size,
        "scaling": figures.plot_scaling,
        "head": figures.plot_head,
    }[experiment]
    plot(rows, path)


def markdown_report(rows, drawn=None, paper=True):
    """Every experiment of `rows` as a Markdown section: its tables, and its
    figure where `drawn` (`{experiment: file name}`) has one."""
    drawn = drawn or {}
    seeds = max((len(c.rows) for e in EXPERIMENTS for c in seed_cells(rows, e)), default=1)
    parts = [
        "# keras_vit: the paper's experiments",
        "",
        f"{len(rows)} runs, {seeds} seed(s) per cell. Cells: {LEGEND}.",
    ]
    if _has(rows, "position"):
        parts += ["", f"## {_position_heading(rows)}", "",
                  report.markdown_tables(rows, paper, legend=False).rstrip()]
        parts += _figure(drawn, "position")
    if _has(rows, "data-size"):
        parts += ["", "## Data size (Figures 3 and 4)", "", "Test accuracy:", "",
                  report.markdown(figures.data_size_table(rows, markdown=True)), "",
                  f"{PAPER_SHOTS}-shot linear accuracy (pool: the whole training split):", "",
                  report.markdown(figures.data_size_table(rows, PAPER_SHOTS, markdown=True))]
        parts += _figure(drawn, "data-size")
    if _has(rows, "scaling"):
        parts += ["", "## Scaling: accuracy against training compute (Figure 5)", "",
                  report.markdown(figures.scaling_table(rows, markdown=True)), "",
                  "Training FLOPs are 3 x the forward FLOPs per image (`keras_vit.models.count_flops`) "
                  "x the images seen."]
        parts += _figure(drawn, "scaling")
    if _has(rows, "head"):
        parts += ["", "## Class token against global average pooling (Appendix D.3, Figure 9)", "",
                  "Test accuracy:", "", report.markdown(figures.head_table(rows, markdown=True)), "",
                  f"{PAPER_SHOTS}-shot linear accuracy:", "",
                  report.markdown(figures.head_table(rows, PAPER_SHOTS, markdown=True))]
        parts += _figure(drawn, "head")
    return "\n".join(parts) + "\n"


def _position_heading(rows):
    """The first section's heading, naming only the experiments that ran."""
    ran = {row.experiment for row in rows}
    if "pretraining" not in ran:
        return "Position embeddings"
    if "position" not in ran:
        return "Masked patch pre-training"
    return "Position embeddings and masked patch pre-training"


def _figure(drawn, experiment):
    return ["", f"![{experiment}]({drawn[experiment]})"] if experiment in drawn else []


def pretrain_config_for(config, epochs, learning_rate):
    """The masked patch pre-training run of the pretraining experiment."""
    return dataclasses.replace(config, epochs=epochs, recipe="masked_patch", learning_rate=learning_rate,
                               weight_decay=None, label_smoothing=0.0)
