"""The `keras-vit` command line: `convert` checkpoints and list published `weights`."""

import argparse
import json
import os
import sys


def main(argv=None):
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        return args.run(args) or 0
    except (ValueError, OSError) as error:
        print(f"keras-vit {args.command}: {error}", file=sys.stderr)
        return 1


def _parser():
    parser = argparse.ArgumentParser(prog="keras-vit", description="Vision Transformers for Keras 3.")
    commands = parser.add_subparsers(dest="command")

    convert = commands.add_parser("convert", help="convert a checkpoint to a .weights.h5 or .keras file")
    convert.add_argument("source", help="original .npz, timm .safetensors/.pth/.bin, or a HF model folder")
    convert.add_argument("dest", help="output path ending in .weights.h5 or .keras")
    convert.add_argument("--image-size", type=int, nargs="+", help="resolution to resample the grid to")
    convert.add_argument("--num-classes", type=int, help="a new, zero-initialised head of this size")
    convert.add_argument("--num-heads", type=int, help="attention heads, for timm files of other sizes")
    convert.add_argument("--overwrite", action="store_true", help="replace an existing DEST")
    convert.set_defaults(run=_convert)

    weights = commands.add_parser("weights", help="published pretrained weights")
    weights_commands = weights.add_subparsers(dest="weights_command", required=True)
    listing = weights_commands.add_parser("list", help="list the registry")
    listing.add_argument("--variant", help="only this variant, e.g. B/16")
    listing.add_argument("--json", action="store_true", help="print the manifest as JSON")
    listing.set_defaults(run=_list_weights)
    return parser


def _convert(args):
    from keras_vit.weights import from_checkpoint

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


def _list_weights(args):
    from keras_vit.weights import manifest

    rows = [row for row in manifest() if args.variant in (None, row["variant"])]
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    print(f"{'variant':7s} {'name':30s} {'classes':>7s} {'size':>4s}  url")
    for row in rows:
        print(f"{row['variant']:7s} {row['name']:30s} {row['num_classes']:7d} {row['image_size']:4d}  {row['url']}")


if __name__ == "__main__":
    sys.exit(main())
