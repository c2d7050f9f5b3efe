"""What a command does before its own work, and how it reports a module that is not installed."""

import logging
import sys

from keras_vit.cli.backend import check_backend
from keras_vit.cli.framework_output import WITHOUT_KERAS, quiet_start
from keras_vit.utils.install import extra_for, install_hint


def prepare(command):
    """Checks the backend and loads the frameworks quietly; importing Keras
    registers keras_vit's saved classes (`keras_vit.serialization`)."""
    if command in WITHOUT_KERAS:
        return
    check_backend(command)
    quiet_start(command)
    _show_notes()


def _show_notes():
    """Prints keras_vit's notes (a new head, a resampled position table), which
    it logs at INFO: below Python's default threshold, so unseen otherwise."""
    logger = logging.getLogger("keras_vit")
    if any(getattr(handler, "keras_vit_notes", False) for handler in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("note: %(message)s"))
    handler.keras_vit_notes = True
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


def missing_module(error):
    """The message for a `ModuleNotFoundError`: the extra that provides the module, if one does."""
    module = (error.name or "").split(".")[0]
    extra = extra_for(module)
    if extra is None:
        return str(error)
    return f"the module {module!r} is not installed; it comes with the {extra!r} extra: {install_hint(extra)}"
