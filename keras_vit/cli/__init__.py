"""The `keras-vit` command line.

Each sub-command lives in a module of its own in this package and exposes
`register(commands)`, which adds its parser to the `argparse` sub-parsers and sets
`run=function(args)` as its default. `COMMANDS` lists them in the order `--help`
shows them.
"""

import argparse
import importlib
import sys

COMMANDS = ("demo", "train", "predict", "export", "inspect", "convert", "weights")


def main(argv=None):
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        return args.run(args) or 0
    except (ValueError, OSError, ImportError) as error:
        print(f"keras-vit {args.command}: {error}", file=sys.stderr)
        return 1


def _parser():
    parser = argparse.ArgumentParser(prog="keras-vit", description="Vision Transformers for Keras 3.")
    commands = parser.add_subparsers(dest="command")
    for name in COMMANDS:
        importlib.import_module(f"keras_vit.cli.{name}").register(commands)
    return parser

