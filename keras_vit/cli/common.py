"""Flags shared by `keras-vit train` and `keras-vit demo`, and the run summary."""

import dataclasses
import sys

from keras_vit.cli.choices import DECAYS, LORA_DEFAULT_TARGETS, LORA_TARGETS, PRECISIONS, RECIPES
from keras_vit.cli.model_source import add_image_size_argument, image_size
from keras_vit.variants import SIZE_FIELDS

DEFAULT_BATCH_SIZE = 64
SHOWN_CLASSES = 10


def add_training_flags(parser, defaults=None):
    """Adds the `TrainConfig` flags to `parser`, with `defaults` overriding ours."""
    defaults = defaults or {}
    group = parser.add_argument_group("data")
    group.add_argument("--data", default="digits", help='"digits" (bundled), "tfds:NAME", or an image folder')
    group.add_argument("--data-dir", help="tensorflow-datasets data directory")
    add_image_size_argument(group, "input size, N or HEIGHT WIDTH (position embeddings are resampled)")
    group.add_argument("--crop-fraction", type=float, default=0.875, help="evaluation centre crop")
    group = parser.add_argument_group("model")
    group.add_argument("--weights", help="registry name or checkpoint path to start from")
    group.add_argument("--input-channels", type=int, default=3, metavar="N",
                       help="channels of the images: 1 reads grayscale data as it is (an RGB checkpoint's "
                            "input kernel is summed, as timm's in_chans)")
    for flag in SIZE_FIELDS:
        group.add_argument("--" + flag.replace("_", "-"), type=int, help="size of a --model ViT")
    group.add_argument("--dropout", type=float, default=0.0)
    group.add_argument("--stochastic-depth", type=float, default=0.0)
    group.add_argument("--remat", action="store_true",
                       help="recompute each Transformer block in the backward pass: less memory, ~1/3 more compute")
    group = parser.add_argument_group("optimisation")
    group.add_argument("--epochs", type=int, default=10)
    group.add_argument("--batch-size", type=int,
                       help=f"default {DEFAULT_BATCH_SIZE}, or the largest power of two the training split fills")
    group.add_argument("--recipe", choices=RECIPES, default="finetune",
                       help="finetune: SGD 0.9, cosine, clip 1 (paper 4.1); pretrain: AdamW, wd 0.1, linear (B.1); "
                            "masked_patch: Adam, cosine (B.1.2)")
    group.add_argument("--learning-rate", type=float)
    group.add_argument("--weight-decay", type=float)
    group.add_argument("--warmup-steps", type=int)
    group.add_argument("--decay", choices=DECAYS)
    group.add_argument("--label-smoothing", type=float, default=0.0)
    group.add_argument("--precision", choices=PRECISIONS, default="float32")
    group = parser.add_argument_group("augmentation")
    group.add_argument("--crop-area", type=float, nargs=2, metavar=("LOW", "HIGH"), default=(0.05, 1.0),
                       help="Inception crop area range")
    group.add_argument("--no-crop", action="store_true", help="resize whole images instead of random crops")
    group.add_argument("--no-flip", action="store_true", help="no random left-right flips")
    group.add_argument("--randaugment", type=int, default=0, help="RandAugment operations per image")
    group.add_argument("--mixup", type=float, default=0.0, help="MixUp alpha")
    group.add_argument("--cutmix", type=float, default=0.0, help="CutMix factor")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--overwrite", action="store_true", help="train again into a finished run's --out")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(**defaults)


def add_lora_flags(parser):
    """Adds the `TrainConfig.lora_*` flags (`keras-vit train` only: other
    commands would ignore them)."""
    group = parser.add_argument_group("LoRA", "fine-tune low-rank adapters and the head, the rest frozen")
    group.add_argument("--lora-rank", type=int, metavar="R", help="rank of the adapters; none: train every weight")
    group.add_argument("--lora-targets", nargs="+", choices=LORA_TARGETS, metavar="LAYER",
                       help=f"layers of every block to adapt, of {', '.join(LORA_TARGETS)} "
                       f"(default: {' '.join(LORA_DEFAULT_TARGETS)})")
    group.add_argument("--lora-alpha", type=float, metavar="A",
                       help="the adapters' scale is alpha / rank (default: the rank)")


def add_distribution_flags(parser):
    """Adds the `TrainConfig` flags of training over several devices or processes
    (`keras-vit train` only)."""
    group = parser.add_argument_group(
        "several devices or processes",
        "JAX or TensorFlow; --batch-size stays the global batch, split between the replicas",
    )
    group.add_argument("--distribute", choices=("data", "model"),
                       help="data: every device a whole model and a share of each batch; "
                            "model (JAX): each block's weights split over --model-parallel devices")
    group.add_argument("--model-parallel", type=int, default=2, metavar="N",
                       help="devices sharing one model replica with --distribute model (default: 2)")
    group.add_argument("--multi-worker", action="store_true",
                       help="this process is one of a multi-process job (JAX): it reads KERAS_DISTRIBUTION_JOB_ADDRESSES, "
                            "_NUM_PROCESSES and _PROCESS_ID; process 0 writes --out")


def config_from_flags(args, **fixed):
    """A `TrainConfig` from parsed flags; `fixed` entries win."""
    from keras_vit.data.pipeline import Augmentation
    from keras_vit.training.run import TrainConfig

    augmentation = Augmentation(
        crop_area=None if args.no_crop else tuple(args.crop_area),
        flip=not args.no_flip,
        randaugment=args.randaugment,
        mixup=args.mixup,
        cutmix=args.cutmix,
    )
    sizes = {flag: getattr(args, flag) for flag in SIZE_FIELDS if getattr(args, flag) is not None}
    # Any named model takes another patch size: its weights' patch embedding is resampled (FlexiViT).
    patched = not (args.model.endswith(".keras") or args.model == "ResNetV2")
    fixed_sizes = [flag for flag in sizes if not (patched and flag == "patch_size")]
    if fixed_sizes and args.model != "ViT":
        raise ValueError(f"--{', --'.join(fixed_sizes).replace('_', '-')} apply to --model ViT only.")
    values = dict(
        model=args.model, out=args.out, data=args.data, data_dir=args.data_dir, weights=args.weights,
        image_size=image_size(args.image_size), input_channels=args.input_channels, model_kwargs=sizes,
        epochs=args.epochs,
        batch_size=args.batch_size or DEFAULT_BATCH_SIZE,
        recipe=args.recipe, learning_rate=args.learning_rate, weight_decay=args.weight_decay,
        warmup_steps=args.warmup_steps, decay=args.decay, label_smoothing=args.label_smoothing,
        dropout_rate=args.dropout, stochastic_depth_rate=args.stochastic_depth, remat=args.remat,
        augmentation=augmentation,
        crop_fraction=args.crop_fraction, precision=args.precision, seed=args.seed,
        overwrite=args.overwrite, verbose=_verbosity(args.quiet),
    )
    values.update(_lora_values(args))
    values.update(_distribution_values(args))
    values.update(fixed)
    return TrainConfig(**values)


def _distribution_values(args):
    """The distribution flags, where the command has them (`keras-vit demo` does not)."""
    if not hasattr(args, "distribute"):
        return {}
    return dict(distribute=args.distribute, model_parallel=args.model_parallel, multi_worker=args.multi_worker)


def _verbosity(quiet):
    # Keras' progress bar redraws itself with colour codes; into a file or a
    # pipe, one plain line per epoch reads better.
    if quiet:
        return 0
    return 1 if sys.stdout.isatty() else 2


def run_fitting_batch(run, config, args, command):
    """`run(config)`; when the training split is smaller than the default
    batch, runs again with one that fits and says so. A batch given with
    --batch-size is not changed: the error names the flag."""
    from keras_vit.data.pipeline import BatchSizeError

    try:
        return run(config)
    except BatchSizeError as error:
        fits = 2 ** max(error.size.bit_length() - 1, 0)
        if args.batch_size is not None:
            raise ValueError(
                f"--batch-size {error.batch_size} is more than the {error.size} training examples of "
                f"{config.data} (the last, partial batch is dropped): pass --batch-size {fits} or less."
            ) from None
        print(
            f"keras-vit {command}: {config.data} has {error.size} training examples, fewer than the "
            f"default batch of {config.batch_size}: training with batch {fits} (set it with --batch-size)",
            flush=True,
        )
        return run(dataclasses.replace(config, batch_size=fits))


def _lora_values(args):
    rank, targets, alpha = (getattr(args, "lora_" + name, None) for name in ("rank", "targets", "alpha"))
    if rank is None:
        if targets is not None or alpha is not None:
            raise ValueError("--lora-targets and --lora-alpha apply with --lora-rank only.")
        return {}
    values = dict(lora_rank=rank, lora_alpha=alpha)
    if targets is not None:
        values["lora_targets"] = tuple(targets)
    return values


def precision_note(precision):
    """Prints, on stderr, the note of a bfloat16 precision on a CPU that only
    emulates it (`keras_vit.training.precision.bfloat16_note`), if there is one."""
    from keras_vit.training.precision import bfloat16_note

    note = bfloat16_note(precision)
    if note is not None:
        print(note, file=sys.stderr, flush=True)


def starter(command, doing="training"):
    """The `on_start` of `keras_vit.training.train` (and `pretrain`) that says
    in one line what the run will do, once its data and batch are known."""
    return lambda config, source: announce(command, config, source, doing)


def announce(command, config, source, doing="training"):
    """Says in one line what a run is about to do: the model, the data, the
    epochs, the batch it runs with and the options that change the run."""
    import keras

    model = config.model
    if config.model_kwargs:
        model += " (" + ", ".join(f"{k}={v}" for k, v in config.model_kwargs.items()) + ")"
    options = "".join(f", {option}" for option in _options(config))
    print(
        f"keras-vit {command}: {doing} {model} on {config.data} ({source.sizes['train']:,} training images) "
        f"for {plural(config.epochs, 'epoch')}, batch {config.batch_size}{options}, seed {config.seed}, "
        f"{keras.backend.backend()} backend, into {config.out}/",
        flush=True,
    )


def _options(config):
    """What the header names beyond the defaults."""
    if config.precision != "float32":
        yield config.precision
    if config.remat:
        yield "--remat (blocks recomputed in the backward pass)"
    if getattr(config, "lora_rank", None) is not None:
        yield f"LoRA rank {config.lora_rank}"
    if getattr(config, "distribute", None):
        yield f"--distribute {config.distribute}"
    if getattr(config, "input_channels", 3) != 3:
        yield f"{config.input_channels}-channel images"
    if getattr(config, "teacher", None):
        yield f"taught by {config.teacher} ({config.distillation or 'hard'} distillation)"
    if getattr(config, "train_fraction", 1.0) != 1.0:
        yield f"--train-fraction {config.train_fraction:g} (that share of them, repeated to the split's size)"


def plural(count, noun):
    """`1 epoch`, `3 epochs`."""
    return f"{count} {noun}" + ("" if count == 1 else "s")


def report(result):
    """Prints a finished run's summary, and its class names in the order of the model's outputs."""
    from keras_vit.cli.class_names import run_class_names

    epochs = len(next(iter(result.history.values()), [])) + result.resumed_from_epoch
    summary = (
        f"test accuracy {result.test_accuracy:.4f}, test loss {result.test_loss:.4f} after {plural(epochs, 'epoch')}"
    )
    placement = getattr(result, "placement", None)
    if placement is not None and not placement.writes:
        # One process of a multi-process job: process 0 writes the files and reports them.
        print(
            f"{summary} (process {placement.process_id} of {placement.num_processes}; "
            f"process 0 saves the model to {result.model_path})"
        )
        return
    print(f"{summary}; model saved to {result.model_path}")
    names = run_class_names(result.model_path, result.model.output_shape[-1])
    if names:
        shown = ", ".join(f"{index} {name}" for index, name in enumerate(names[:SHOWN_CLASSES]))
        more = f", ... ({len(names)} in all)" if len(names) > SHOWN_CLASSES else ""
        print(f"classes, in the order of the model's outputs: {shown}{more}")

