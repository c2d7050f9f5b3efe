"""The optional packages a command line needs, all named at once before any slow work.

Without this, a command finds a missing package where it first imports it:
`demo` in a torch-only environment would ask for TensorFlow, then on the
next run for scikit-learn, and `inspect` would compute its attention maps
before finding that matplotlib is missing. Export's own packages depend on the
format and backend; `keras_vit.export.check_request` names those.
"""

from keras_vit.cli.framework_output import USES_TENSORFLOW
from keras_vit.utils.install import installed, missing_text

READS_IMAGES = ("predict", "inspect")
DRAWS_FIGURES = ("inspect", "ablate")
PURPOSES = {
    "tensorflow": "the tf.data input pipelines, on every backend",
    "sklearn": "the bundled digits",
    "PIL": "reading images",
    "tensorflow_datasets": "tensorflow-datasets data",
    "matplotlib": "the figures",
}


def needed_modules(args):
    """The optional modules the parsed command line `args` will import, in order."""
    command = args.command
    modules = []
    if command in USES_TENSORFLOW:
        modules += ["tensorflow", *_data_modules(getattr(args, "data", None))]
    if command in READS_IMAGES or getattr(args, "calibration_images", None):
        modules.append("PIL")
    if command in DRAWS_FIGURES:
        modules.append("matplotlib")
    return tuple(dict.fromkeys(modules))


def _data_modules(data):
    if data == "digits":
        return ("sklearn", "PIL")  # scikit-learn's scans, resized with PIL
    if isinstance(data, str) and data.startswith("tfds:"):
        return ("tensorflow_datasets",)
    return ("PIL",) if data else ()  # an image folder


def check_modules(args):
    """Raises an `ImportError` of one line naming every module `args` needs and
    lacks, what each is for, and the command that installs them."""
    missing = tuple(module for module in needed_modules(args) if not installed(module))
    if not missing:
        return
    raise ImportError(missing_text(missing, PURPOSES))
