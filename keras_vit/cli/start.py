"""What a command does before its own work, and how it reports a module that is not installed."""

from keras_vit.cli.backend import check_backend
from keras_vit.cli.quiet import WITHOUT_KERAS, quiet_start
from keras_vit.utils.install import extra_for, install_hint


def prepare(command):
    """Checks the backend, loads the frameworks quietly, and registers keras_vit's
    saved classes: `keras-vit` imports keras_vit lazily, which registers none,
    and a `.keras` file that names one (a model `train` compiled names its
    learning-rate schedule) loads only after."""
    if command in WITHOUT_KERAS:
        return
    check_backend(command)
    quiet_start(command)
    from keras_vit import serialization

    serialization.register()


def missing_module(error):
    """The message for a `ModuleNotFoundError`: the extra that provides the module, if one does."""
    module = (error.name or "").split(".")[0]
    extra = extra_for(module)
    if extra is None:
        return str(error)
    return f"the module {module!r} is not installed; it comes with the {extra!r} extra: {install_hint(extra)}"
