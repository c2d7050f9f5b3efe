"""`keras-vit convert`: a checkpoint file to a `.weights.h5` or `.keras` file."""

import os


def register(commands):
    convert = commands.add_parser("convert", help="convert a checkpoint to a .weights.h5 or .keras file")
    convert.add_argument("source", help="original .npz, timm .safetensors/.pth/.bin, or a HF model folder")
    convert.add_argument("dest", help="output path ending in .weights.h5 or .keras")
    convert.add_argument("--image-size", type=int, nargs="+", help="resolution to resample the grid to")
    convert.add_argument("--num-classes", type=int, help="a new, zero-initialised head of this size")
    convert.add_argument("--num-heads", type=int, help="attention heads, for timm files of other sizes")
    convert.add_argument("--overwrite", action="store_true", help="replace an existing DEST")
    convert.set_defaults(run=run)


def run(args):
    from keras_vit.models import from_checkpoint

    if not args.dest.endswith((".weights.h5", ".keras")):
        raise ValueError(f"DEST must end in .weights.h5 or .keras. Received: {args.dest}")
    if os.path.exists(args.dest) and not args.overwrite:
        raise ValueError(f"{args.dest} exists; pass --overwrite to replace it.")
    overrides = {}
    if args.image_size:
        overrides["image_size"] = tuple(args.image_size) if len(args.image_size) == 2 else args.image_size[0]
    if args.num_classes:
        overrides["num_classes"] = args.num_classes
    if args.num_heads:
        overrides["num_heads"] = args.num_heads
    model = from_checkpoint(args.source, **overrides)
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
