"""`keras-vit evaluate`: few-shot linear accuracy of a model's frozen features."""

import sys

from keras_vit.cli.model_source import add_model_arguments, keras_model

# keras_vit.evaluation's defaults, copied because it imports Keras and
# `keras-vit evaluate --help` must not; tests/evaluation/test_cli.py holds them equal.
SHOTS = (1, 5, 10, 25)  # evaluation.DEFAULT_SHOTS
SEEDS = 3
L2_REG = 2.0**10  # evaluation.DEFAULT_L2_REG
BATCH_SIZE = 128
CROP_FRACTION = 0.875
DIGITS_SIZE = 32  # the digits' size for a model of non-square input, as `keras-vit train` loads them


HELP = "few-shot linear accuracy of a model's frozen features (paper Table 8, Figure 4)"
DESCRIPTION = (
    "Few-shot linear evaluation, as big_vision computes the paper's: the model's pre-logits features of "
    "K images per class, drawn from the data's train split by each seed, fit a closed-form ridge "
    "regression onto {-1, 1} one-hot targets, scored on the data's test split. Prints the accuracy per "
    "K, mean and standard deviation over the seeds."
)


def add_arguments(parser):
    add_model_arguments(parser)
    parser.add_argument(
        "--data", default="digits",
        help='"digits" (bundled), "tfds:NAME", or an image folder: K images per class are drawn from its '
             "train split and the accuracy is measured on its test split (default: digits)",
    )
    parser.add_argument("--data-dir", help="tensorflow-datasets data directory")
    parser.add_argument("--few-shot", type=int, nargs="+", default=list(SHOTS), metavar="K",
                        help=f"images per class (default: {' '.join(map(str, SHOTS))})")
    parser.add_argument("--seeds", type=int, default=SEEDS, help=f"draws per K, seeds 0 to N-1 (default: {SEEDS})")
    parser.add_argument("--l2-reg", type=float, default=L2_REG, help=f"ridge penalty (default: {L2_REG:g})")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE,
                        help=f"images per forward pass (default: {BATCH_SIZE})")
    parser.add_argument("--crop-fraction", type=float, default=CROP_FRACTION,
                        help=f"centre crop; big_vision resizes to 256 and crops 224 (default: {CROP_FRACTION})")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the split of data that comes without one (digits, a folder), "
                             "as train's --seed (default: 0)")
    parser.set_defaults(run=run)


def run(args):
    # The input pipeline runs in tf.data on every backend: TensorFlow was
    # imported quietly before (`framework_output.quiet_start`).
    from keras_vit.data.load import load_source
    from keras_vit.evaluation import few_shot, split_batches
    from keras_vit.models.vision_transformer import config_of

    model = keras_model(args)
    height, width = config_of(model).image_size
    digits_size = height if height == width else DIGITS_SIZE
    source = load_source(args.data, data_dir=args.data_dir, image_size=digits_size, seed=args.seed)
    print(
        f"keras-vit evaluate: {model.name} on {source.name}, {' '.join(map(str, args.few_shot))} images per "
        f"class of {source.sizes['train']} training images, tested on {source.sizes['test']}",
        file=sys.stderr, flush=True,
    )
    train, test = (
        split_batches(source, split, model, args.batch_size, args.crop_fraction) for split in ("train", "test")
    )
    result = few_shot(model, train, test, shots=args.few_shot, seeds=args.seeds, l2_reg=args.l2_reg)
    print(result)
