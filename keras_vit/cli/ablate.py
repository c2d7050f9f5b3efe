"""`keras-vit ablate`: the paper's experiments, rerun on any data, with seeds."""

import dataclasses
import time

from keras_vit.cli.common import add_training_flags, config_from_flags
from keras_vit.cli.demo import DEMO

EXPERIMENT_NAMES = ("position", "pretraining", "data-size", "scaling", "head", "all")
HELP = "rerun the paper's experiments (position embeddings, pre-training, data size, scaling, head) on your data"
DESCRIPTION = (
    "Reruns the paper's experiments with the same small ViT and recipe: position (the position-embedding "
    "table, Appendix D.4), pretraining (from scratch against masked patch pre-training, Appendix B.1.2), "
    "data-size (ViT, BiT ResNet and hybrid on nested subsets of the training data, Figures 3 and 4), "
    "scaling (a ladder of sizes of each against training compute, Figure 5) and head (class token "
    "against global average pooling at two learning rates, Figure 9); `all` runs every one. Every cell "
    "reports test accuracy and the few-shot linear accuracy of its features; --seeds N repeats each cell "
    "and marks which differences lie within the seed noise. Writes results.csv, report.md and a figure "
    "per experiment into --out. The defaults are the demo's ViT and recipe on the bundled digits; every "
    "`keras-vit train` flag applies to each run. --quick is a smoke run."
)
# A smoke run: one epoch of a two-block model per cell (with one block, the
# three placements compute the same function).
QUICK = dict(epochs=1, pretrain_epochs=1, hidden_dim=16, num_layers=2, num_heads=2, mlp_dim=32)


def add_arguments(ablate):
    ablate.add_argument("--experiment", nargs="+", choices=EXPERIMENT_NAMES, default=["position", "pretraining"],
                        metavar="NAME", help=f"experiments to run, of {', '.join(EXPERIMENT_NAMES)} "
                        "(default: position pretraining)")
    ablate.add_argument("--seeds", type=int, default=1,
                        help="runs per cell, seeds --seed, --seed + 1, ...; the report gives mean ± std")
    ablate.add_argument("--few-shot", type=int, nargs="+", default=[], metavar="K",
                        help="few-shot counts reported beside 5-shot, the paper's")
    ablate.add_argument("--fractions", type=float, nargs="+", default=[0.1, 0.3, 1.0], metavar="F",
                        help="data-size: the shares of the training split, in (0, 1]")
    ablate.add_argument("--learning-rates", type=float, nargs="+", metavar="LR",
                        help="head: the learning rates of each head (default: --learning-rate and 3/8 of it)")
    ablate.add_argument("--out", default="runs/ablation", help="output directory")
    ablate.add_argument("--pretrain-epochs", type=int,
                        help="epochs of masked patch pre-training; defaults to --epochs")
    ablate.add_argument("--pretrain-learning-rate", type=float, default=1e-3,
                        help="Adam's peak rate for pre-training (the paper's 2e-4 at batch 4096 "
                             "scales to too little for a small data set)")
    ablate.add_argument("--no-pretraining", action="store_true", help="leave the pretraining experiment out")
    ablate.add_argument("--quick", action="store_true",
                        help="smoke run: 1 epoch each, a two-block ViT (overrides those flags)")
    add_training_flags(ablate, defaults={**DEMO, "model": "ViT"})
    ablate.set_defaults(run=run)


def run(args):
    import keras

    from keras_vit.ablation import suite

    if args.quick:
        for name, value in QUICK.items():
            setattr(args, name, value)
    config = dataclasses.replace(config_from_flags(args), verbose=0, few_shot=tuple(args.few_shot))
    experiments = [name for name in suite.check_experiments(args.experiment)
                   if not (args.no_pretraining and name == "pretraining")]
    pretrain_config = suite.pretrain_config_for(config, args.pretrain_epochs or config.epochs,
                                                args.pretrain_learning_rate)
    sizes = ", ".join(f"{k}={v}" for k, v in config.model_kwargs.items())
    print(
        f"keras-vit ablate: {', '.join(experiments)} with ViT ({sizes}) on {config.data}, {config.epochs} "
        f"epoch(s) per run, {args.seeds} seed(s) from {config.seed}, {keras.backend.backend()} backend, "
        f"into {config.out}/",
        flush=True,
    )
    start = time.perf_counter()
    # The report is rewritten after each experiment: a long run stopped
    # half-way keeps what it finished.
    rows = suite.run_experiments(config, experiments, args.seeds, pretrain_config, args.fractions,
                                 args.learning_rates, after_each=lambda done: suite.write_report(done, config.out))
    paths = suite.write_report(rows, config.out)
    print()
    print(_summary(rows))
    print(f"{len(rows)} runs in {time.perf_counter() - start:.0f} s; wrote {', '.join(paths)}")


def _summary(rows):
    """The position table in the terminal, and each other cell's mean accuracies."""
    from keras_vit.ablation import position_table
    from keras_vit.ablation.report import text_table
    from keras_vit.ablation.seeds import cells

    lines = []
    if any(row.experiment == "position" for row in rows):
        lines += [text_table(position_table(rows)), ""]
    for experiment in ("pretraining", "data-size", "scaling", "head"):
        for cell in cells(rows, experiment):
            lines.append(f"{experiment} {cell.name}: test accuracy {cell.text()}, 5-shot {cell.text(5)}")
    return "\n".join(lines).rstrip()
