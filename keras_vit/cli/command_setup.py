"""What a command does before its own work, and how it reports a module that is not installed."""

import logging
import sys

from keras_vit.cli.backend import check_backend
from keras_vit.cli.framework_output import WITHOUT_KERAS, quiet_start
from keras_vit.cli.requirements import check_modules
from keras_vit.utils.install import extra_for, missing_text


def prepare(args):
    """Checks the backend and every optional module the command line `args`
    needs, then loads the frameworks quietly; importing Keras registers
    keras_vit's saved classes (`keras_vit.serialization`)."""
    command = args.command
    if command in WITHOUT_KERAS:
        return
    check_backend(command)
    check_modules(args)
    quiet_start(command)
    _show_notes()


def _show_notes():
    """Prints keras_vit's notes (a new head, a resampled position table), which
    it logs at INFO: below Python's default threshold, so unseen otherwise."""
    logger = logging.getLogger("keras_vit")
    for handler in [h for h in logger.handlers if getattr(h, "keras_vit_notes", False)]:
        # A later command in the same process (main() called again) may have another stderr.
        logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("note: %(message)s"))
    handler.keras_vit_notes = True
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


def missing_module(error):
    """The message for a `ModuleNotFoundError`: the extra that provides the module, if one does."""
    module = (error.name or "").split(".")[0]
    if extra_for(module) is None:
        return str(error)
    return missing_text([module])
