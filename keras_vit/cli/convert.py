"""`keras-vit convert`: a checkpoint file to a `.weights.h5` or `.keras` file."""

import os

from keras_vit.cli.model_source import add_image_size_argument, image_size


HELP = "convert a checkpoint to a .weights.h5 or .keras file"


def add_arguments(parser):
    parser.add_argument("source", help="original .npz, timm .safetensors/.pth/.bin, or a HF model folder")
    parser.add_argument("dest", help="output path ending in .weights.h5 or .keras")
    add_image_size_argument(parser, "resolution to resample the grid to: N or HEIGHT WIDTH")
    parser.add_argument("--num-classes", type=int, help="a new, zero-initialised head of this size")
    parser.add_argument("--num-heads", type=int, help="attention heads, for timm files of other sizes")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing DEST")
    parser.set_defaults(run=run)


def run(args):
    from keras_vit.models import from_checkpoint

    if not args.dest.endswith((".weights.h5", ".keras")):
        raise ValueError(f"DEST must end in .weights.h5 or .keras. Received: {args.dest}")
    if os.path.exists(args.dest) and not args.overwrite:
        raise ValueError(f"{args.dest} exists; pass --overwrite to replace it.")
    overrides = {"image_size": image_size(args.image_size), "num_classes": args.num_classes, "num_heads": args.num_heads}
    model = from_checkpoint(args.source, **{key: value for key, value in overrides.items() if value is not None})
    partial = args.dest + ".partial" + (".weights.h5" if args.dest.endswith(".weights.h5") else ".keras")
    try:
        if args.dest.endswith(".weights.h5"):
            model.save_weights(partial)
        else:
            model.save(partial)
        os.replace(partial, args.dest)
    finally:
        if os.path.exists(partial):
            os.remove(partial)
    print(f"{args.source} -> {args.dest}: {model.count_params():,} parameters, input {model.input_shape}")
