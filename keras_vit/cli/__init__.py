"""The `keras-vit` command line.

Each sub-command lives in a module of its own in this package, with `HELP` (its
line in `--help`), optionally `DESCRIPTION`, and `add_arguments(parser)`, which
adds its flags and sets `run=function(args)` as the parser's default. Only the
command being run gets its flags (they may read library constants, which loads
Keras), so `keras-vit --help` answers at once. `COMMANDS` lists them in the
order `--help` shows them.
"""

import argparse
import importlib
import sys

from keras_vit.cli.command_setup import missing_module, prepare
from keras_vit.utils import progress

__all__ = ["COMMANDS", "main"]

COMMANDS = (
    "demo", "train", "pretrain", "ablate", "evaluate", "predict", "export", "inspect", "convert", "weights", "push",
)


def main(argv=None):
    """Runs `keras-vit ARGV` (the console script's entry point) and returns its exit status.

    Args:
        argv: list of str or None. The command line after `keras-vit`; None
            reads `sys.argv`. Defaults to None.

    Returns:
        int: 0 on success, 1 when the command failed (the error is printed to
        stderr in one line), 2 when no command was given.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = _parser(_chosen(argv))
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        prepare(args)
        # Long work says how far it got, on stderr; a library call from Python stays quiet.
        with progress.shown():
            return args.run(args) or 0
    except ModuleNotFoundError as error:
        print(f"keras-vit {args.command}: {missing_module(error)}", file=sys.stderr)
    except (ValueError, OSError, ImportError) as error:
        print(f"keras-vit {args.command}: {error}", file=sys.stderr)
    return 1


def _chosen(argv):
    """The command `argv` runs, or None (as for `keras-vit --help`)."""
    return next((word for word in argv if not word.startswith("-")), None)


def _parser(chosen):
    parser = argparse.ArgumentParser(prog="keras-vit", description="Vision Transformers for Keras 3.")
    commands = parser.add_subparsers(dest="command")
    for name in COMMANDS:
        module = importlib.import_module(f"keras_vit.cli.{name}")
        command = commands.add_parser(name, help=module.HELP, description=getattr(module, "DESCRIPTION", module.HELP))
        if name == chosen:
            module.add_arguments(command)
    return parser
