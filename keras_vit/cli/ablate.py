"""`keras-vit ablate`: the paper's experiments, rerun on any data, with seeds."""

import dataclasses
import sys
import time

from keras_vit.cli.common import add_training_flags, config_from_flags, precision_note
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
    "`keras-vit train` flag applies to each run. --quick is a smoke run of a few cells of each experiment: "
    "`--quick --experiment all` takes about 4 minutes on 2 CPU cores, one experiment from half a minute "
    "(head) to two (data-size and scaling, which build and compile BiT's ResNet)."
)
# A smoke run of every experiment, end to end, on the fewest cells that keep
# each comparison (no position embedding against 1D and 2D at every layer, two
# subset sizes of ViT and ResNet, the smallest model of each family, each head
# at one learning rate): one epoch of a two-block ViT (with one block, the three
# placements compute the same function) on 8x8 images, in batches of 120 (a
# test split of 360 images is 3 whole batches: no smaller last batch compiles
# again). Compiling each model's steps takes most of a run; building BiT's
# ResNet compiles its initializers too, about a minute on 2 CPU cores.
QUICK = dict(epochs=1, pretrain_epochs=1, hidden_dim=16, num_layers=2, num_heads=2, mlp_dim=32, image_size=8,
             batch_size=120)
QUICK_CELLS = (("none", "stem"), ("learned_1d", "stem"), ("learned_2d", "every_layer"))
QUICK_FRACTIONS = (0.5, 1.0)


def add_arguments(ablate):
    ablate.add_argument("--experiment", nargs="+", choices=EXPERIMENT_NAMES, default=["position", "pretraining"],
                        metavar="NAME", help=f"experiments to run, of {', '.join(EXPERIMENT_NAMES)} "
                        "(default: position pretraining)")
    ablate.add_argument("--seeds", type=int, default=1,
                        help="runs per cell, seeds --seed, --seed + 1, ...; the report gives mean ± std")
    ablate.add_argument("--few-shot", type=int, nargs="+", default=[], metavar="K",
                        help="few-shot counts reported beside 5-shot, the paper's")
    ablate.add_argument("--fractions", type=float, nargs="+", metavar="F",
                        help="data-size: the shares of the training split, in (0, 1] (default: 0.1 0.3 1)")
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
                        help="smoke run: 1 epoch each of a two-block ViT on 8x8 images, and fewer cells: "
                             "3 position embeddings, 2 fractions of ViT and ResNet, the smallest model of "
                             "each family, one learning rate per head (overrides those flags, and "
                             "--image-size and --batch-size, except --fractions and --learning-rates)")
    add_training_flags(ablate, defaults={**DEMO, "model": "ViT"})
    ablate.set_defaults(run=run)


def run(args):
    import keras

    from keras_vit.ablation import suite
    from keras_vit.utils import progress

    if args.quick:
        for name, value in QUICK.items():
            setattr(args, name, value)
    config = dataclasses.replace(config_from_flags(args), verbose=0, few_shot=tuple(args.few_shot))
    precision_note(config.precision)
    experiments = [name for name in suite.check_experiments(args.experiment)
                   if not (args.no_pretraining and name == "pretraining")]
    pretrain_config = suite.pretrain_config_for(config, args.pretrain_epochs or config.epochs,
                                                args.pretrain_learning_rate)
    choices = _choices(args, config)
    sizes = ", ".join(f"{k}={v}" for k, v in config.model_kwargs.items())
    print(
        f"keras-vit ablate: {', '.join(experiments)} with ViT ({sizes}) on {config.data}, {config.epochs} "
        f"epoch(s) per run, {args.seeds} seed(s) from {config.seed}, {keras.backend.backend()} backend, "
        f"into {config.out}/",
        file=sys.stderr, flush=True,
    )
    start = time.perf_counter()
    # Progress (each run of how many, the time so far and left) goes to stderr,
    # the summary to stdout. The report is rewritten after each experiment: a
    # long run stopped half-way keeps what it finished.
    rows = suite.run_experiments(config, experiments, args.seeds, pretrain_config, log=progress.write,
                                 after_each=lambda done: suite.write_report(done, config.out),
                                 **choices)
    paths = suite.write_report(rows, config.out)
    print(_summary(rows))
    # The pretraining experiment's from-scratch row may be the position experiment's run.
    runs = len({row.path for row in rows})
    print(f"{runs} runs in {progress.duration(time.perf_counter() - start)}; wrote {', '.join(paths)}")


def _choices(args, config):
    """The cells, fractions, learning rates and models of each experiment: all of them, or --quick's few."""
    from keras_vit.ablation import families
    from keras_vit.ablation.experiments import DEFAULT_FRACTIONS, head_learning_rates
    from keras_vit.ablation.runner import CELLS

    if not args.quick:
        return dict(cells=CELLS, fractions=args.fractions or DEFAULT_FRACTIONS, learning_rates=args.learning_rates)
    ladder = families.scaling_ladder(config)
    return dict(
        cells=QUICK_CELLS,
        fractions=args.fractions or QUICK_FRACTIONS,
        learning_rates=args.learning_rates or head_learning_rates(config)[:1],
        data_size_models=families.data_size_models(config)[:2],
        scaling_models=[
            next(spec for spec in ladder if spec.family == family) for family in ("ViT", "ResNet", "hybrid")
        ],
    )


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
