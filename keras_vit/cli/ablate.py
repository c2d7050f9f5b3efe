"""`keras-vit ablate`: the paper's position-embedding and pre-training ablations on any data."""

import dataclasses
import os
import sys
import time

from keras_vit.cli.common import add_training_flags, config_from_flags
from keras_vit.cli.demo import DEMO

HELP = "rerun the paper's position-embedding ablation and masked patch pre-training on your data"
DESCRIPTION = (
    "Trains the same small ViT once per cell of the paper's position-embedding table (Appendix D.4: "
    "none, 1-D, 2-D and relative; after the stem, in every layer, or shared), then from scratch "
    "against masked patch pre-training plus fine-tuning on the same budget (Appendix B.1.2). Prints "
    "the table in the paper's layout and writes results.csv, results.md and ablation.png into --out. "
    "The defaults are the demo's ViT and recipe on the bundled digits; every `keras-vit train` flag "
    "applies to each run. --quick is a smoke run of a few minutes."
)
# A smoke run: one epoch of a two-block model per cell (with one block, the
# three placements compute the same function).
QUICK = dict(epochs=1, pretrain_epochs=1, hidden_dim=16, num_layers=2, num_heads=2, mlp_dim=32)


def add_arguments(ablate):
    ablate.add_argument("--out", default="runs/ablation", help="output directory")
    ablate.add_argument("--pretrain-epochs", type=int,
                        help="epochs of masked patch pre-training; defaults to --epochs")
    ablate.add_argument("--pretrain-learning-rate", type=float, default=1e-3,
                        help="Adam's peak rate for pre-training (the paper's 2e-4 at batch 4096 "
                             "scales to too little for a small data set)")
    ablate.add_argument("--no-pretraining", action="store_true", help="only the position-embedding table")
    ablate.add_argument("--quick", action="store_true",
                        help="smoke run: 1 epoch each, a two-block ViT (overrides those flags)")
    add_training_flags(ablate, defaults={**DEMO, "model": "ViT"})
    ablate.set_defaults(run=run)


def run(args):
    import keras

    from keras_vit import ablation

    if args.quick:
        for name, value in QUICK.items():
            setattr(args, name, value)
    config = dataclasses.replace(config_from_flags(args), verbose=0)
    sizes = ", ".join(f"{k}={v}" for k, v in config.model_kwargs.items())
    print(
        f"keras-vit ablate: {len(ablation.CELLS)} position-embedding cells"
        f"{'' if args.no_pretraining else ' and masked patch pre-training'} of ViT ({sizes}) on "
        f"{config.data}, {config.epochs} epoch(s) each, seed {config.seed}, {keras.backend.backend()} "
        f"backend, into {config.out}/",
        flush=True,
    )
    start = time.perf_counter()
    rows = ablation.run_position_ablation(config)
    if not args.no_pretraining:
        pretrain_config = dataclasses.replace(
            config, epochs=args.pretrain_epochs or config.epochs, recipe="masked_patch",
            learning_rate=args.pretrain_learning_rate, weight_decay=None, label_smoothing=0.0,
        )
        scratch = next(r for r in rows if (r.position_embedding, r.placement) == ("learned_1d", "stem"))
        rows += ablation.run_pretraining_ablation(config, pretrain_config, scratch=scratch)
    _write(rows, config.out, time.perf_counter() - start)


def _write(rows, out, seconds):
    from keras_vit import ablation
    from keras_vit.ablation.report import text_table

    print()
    print(text_table(ablation.position_table(rows)))
    os.makedirs(out, exist_ok=True)
    paths = [os.path.join(out, name) for name in ("results.csv", "results.md", "ablation.png")]
    ablation.write_csv(rows, paths[0])
    with open(paths[1], "w", encoding="utf-8") as file:
        file.write(ablation.markdown_tables(rows))
    try:
        ablation.plot_ablation(rows, paths[2])
    except ImportError as error:
        print(f"skipped {paths[2]}: {error}", file=sys.stderr)
        paths.pop()
    for row in rows:
        if row.experiment == "pretraining":
            print(f"{row.name}: test accuracy {row.test_accuracy:.4f}")
    print(f"{len(rows)} runs in {seconds:.0f} s; wrote {', '.join(paths)}")
