"""`keras-vit convert`: a checkpoint or a keras_vit `.keras` file to a `.weights.h5` or `.keras` file."""

import os

from keras_vit.cli.model_source import add_image_size_argument, image_size


HELP = "convert a checkpoint or a .keras file to a .weights.h5 or .keras file"


def add_arguments(parser):
    parser.add_argument(
        "source", help="original .npz, timm .safetensors/.pth/.bin, a HF model folder, or a keras_vit .keras file"
    )
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
    _check_source(args)
    overrides = {
        "image_size": image_size(args.image_size), "num_classes": args.num_classes, "num_heads": args.num_heads
    }
    model = from_checkpoint(args.source, **{key: value for key, value in overrides.items() if value is not None})
    _save(model, args.dest)
    print(f"{args.source} -> {args.dest}: {model.count_params():,} parameters, input {model.input_shape}")


def _check_source(args):
    """Refuses what no conversion reads: a `.weights.h5` (no architecture), and
    `--num-heads` with a `.keras` file (which states its own)."""
    if args.source.endswith(".weights.h5"):
        raise ValueError(
            f"{args.source} holds weights without their architecture, which convert needs: pass the .keras "
            "file saved with it, or load it into a model (keras-vit predict --model B/16 --weights "
            f"{args.source})."
        )
    if args.source.endswith(".keras") and args.num_heads is not None:
        raise ValueError(
            f"--num-heads is for timm files, whose fused kernels hide the heads; {args.source} is a .keras "
            f"file, which states its own. Received: --num-heads {args.num_heads}"
        )


def _save(model, dest):
    """Writes `model` to `dest` (weights alone for `.weights.h5`), whole or not at all."""
    partial = dest + ".partial" + (".weights.h5" if dest.endswith(".weights.h5") else ".keras")
    try:
        if dest.endswith(".weights.h5"):
            model.save_weights(partial)
        else:
            model.save(partial)
        os.replace(partial, dest)
    finally:
        if os.path.exists(partial):
            os.remove(partial)
