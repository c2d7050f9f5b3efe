"""The Keras backend a command will run on, checked before Keras is imported.

Keras fails on a backend name it does not know, or one not installed, with a
long traceback from deep inside its import ("Unable to import backend : tf",
"No module named 'tensorflow.python'"); a command says in one line instead
which backends there are and which are installed. Installed means importable:
`importlib.util.find_spec` answers that without importing anything.
"""

import json
import os

from keras_vit.utils.install import install_hint, installed

BACKENDS = ("jax", "tensorflow", "torch")


def check_backend(command):
    """Raises a `ValueError` of one line if Keras could not start on the chosen backend."""
    name, setting = chosen_backend()
    available = installed_backends()
    if name not in BACKENDS:
        raise ValueError(
            f"{setting} is not a Keras backend keras_vit runs on: set KERAS_BACKEND to jax, "
            f"tensorflow or torch ({_installed_text(available)})."
        )
    if name not in available:
        raise ValueError(_missing_backend(command, name, setting, available))


def chosen_backend():
    """The backend Keras will pick, and the setting that chose it as text (None
    for Keras' default): `KERAS_BACKEND`, else the "backend" of Keras' config
    file, else TensorFlow, as Keras decides."""
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"], f"KERAS_BACKEND={os.environ['KERAS_BACKEND']}"
    path = os.path.join(_keras_home(), "keras.json")
    try:
        with open(path, encoding="utf-8") as file:
            name = json.load(file).get("backend")
    except (OSError, ValueError, AttributeError):
        name = None
    if name:
        return name, f'"backend": "{name}" in {path}'
    return "tensorflow", None


def installed_backends():
    """The backends among `BACKENDS` that are installed."""
    return [name for name in BACKENDS if installed(name)]


def _missing_backend(command, name, setting, installed):
    if not installed:
        hints = " or ".join(install_hint(extra) for extra in ("jax", "tensorflow-cpu", "torch"))
        return f"no Keras backend is installed: install one, e.g. {hints}."
    if setting is None:
        return (
            f"Keras runs on TensorFlow unless KERAS_BACKEND names another backend, and TensorFlow is "
            f"not installed: set KERAS_BACKEND to an installed one ({', '.join(installed)}), e.g. "
            f"KERAS_BACKEND={installed[0]} keras-vit {command}"
        )
    extra = "tensorflow-cpu" if name == "tensorflow" else name
    return (
        f"{setting}, but {name} is not installed: {install_hint(extra)}, or set KERAS_BACKEND to an "
        f"installed backend ({', '.join(installed)})."
    )


def _installed_text(installed):
    return f"installed: {', '.join(installed)}" if installed else "none is installed"


def _keras_home():
    # Where Keras looks for keras.json (keras/src/backend/config.py).
    if "KERAS_HOME" in os.environ:
        return os.environ["KERAS_HOME"]
    home = os.path.expanduser("~")
    return os.path.join(home if os.access(home, os.W_OK) else "/tmp", ".keras")
