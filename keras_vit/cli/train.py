"""`keras-vit train`: train or fine-tune any model on any data source."""

import dataclasses

from keras_vit.cli.choices import DISTILLATIONS
from keras_vit.cli.common import (
    add_distribution_flags,
    add_lora_flags,
    add_training_flags,
    config_from_flags,
    precision_note,
    report,
    run_fitting_batch,
    starter,
)
from keras_vit.cli.model_source import image_size_hint


HELP = "train or fine-tune a model with model.fit"
DESCRIPTION = (
    "Train or fine-tune a ViT. Re-running with the same --out resumes an interrupted run from its "
    "last finished epoch."
)


def add_arguments(train):
    train.add_argument("--model", default="S/16", help='variant ("S/16"), builder ("ViTB16"), "ViT" for --patch-size etc., or a .keras file')
    train.add_argument("--out", default="runs/train", help="output directory (checkpoints, logs, model.keras)")
    add_training_flags(train)
    add_lora_flags(train)
    add_distribution_flags(train)
    train.add_argument("--few-shot", type=int, nargs="+", metavar="K",
                       help="after training, the few-shot linear accuracy of the model's features with K "
                            "training images per class, 3 seeds, on the test split (as keras-vit evaluate)")
    train.add_argument("--train-fraction", type=float, default=1.0, metavar="F",
                       help="train on this class-stratified share of the training split, repeated to its size "
                            "(the paper's data-size experiments); in (0, 1]")
    _add_distillation_flags(train)
    train.set_defaults(run=run)


def _add_distillation_flags(train):
    group = train.add_argument_group("distillation", "learn from a trained teacher as DeiT does")
    group.add_argument("--teacher", metavar="MODEL", help="a trained model's .keras file (any Keras model with "
                       "logits for the data's classes), frozen; the saved model is the student alone")
    group.add_argument("--distillation", choices=DISTILLATIONS,
                       help="hard: the teacher's argmax as the label (default with --teacher); "
                            "soft: KL of the temperature-scaled distributions")
    group.add_argument("--distillation-alpha", type=float, metavar="A",
                       help="weight of the distillation term in [0, 1] (default DeiT's: 0.5 hard, 0.1 soft)")
    group.add_argument("--distillation-temperature", type=float, default=3.0, metavar="T",
                       help="soft distillation's temperature (default 3, DeiT's)")
    group.add_argument("--distillation-token", action="store_true",
                       help="give the student DeiT's distillation token: its head learns the teacher's labels, "
                            "the class head the true ones")


def run(args):
    from keras_vit.training.run import train

    config = config_from_flags(
        args, few_shot=tuple(args.few_shot or ()), train_fraction=args.train_fraction, teacher=args.teacher,
        distillation=args.distillation, distillation_alpha=args.distillation_alpha,
        distillation_temperature=args.distillation_temperature,
    )
    if args.distillation_token:
        if args.model.endswith(".keras"):
            raise ValueError(f"--distillation-token builds a new student; {args.model} has its own tokens.")
        config = dataclasses.replace(config, model_kwargs={**config.model_kwargs, "distillation_token": True})
    precision_note(config.precision)
    with image_size_hint(args, "trains at", "the training images are resized to it"):
        result = run_fitting_batch(lambda fitted: train(fitted, on_start=starter("train")), config, args, "train")
    report(result)
    if result.few_shot is not None:
        print(result.few_shot)
