"""Class names kept with an exported model, so `keras-vit predict` prints "tabby cat", not "class 2".

A SavedModel folder holds them in `assets/classes.txt`; a `.tflite` or `.onnx`
file has them beside it, in `<file>.classes.txt` (`vit.tflite.classes.txt`).
Either is plain text, one name a line in the order of the model's outputs: the
format of the `classes.txt` that `keras-vit train` writes beside `model.keras`,
and of the label files mobile runtimes read.
"""

import os

FILE_NAME = "classes.txt"


def class_names_path(artifact):
    """Where the class names of the artifact at `artifact` are kept."""
    if os.path.isdir(artifact):
        return os.path.join(artifact, "assets", FILE_NAME)
    return f"{artifact}.{FILE_NAME}"


def check_class_names(class_names, model):
    """`class_names` as a tuple of str, one per output of `model`; None stays None."""
    if class_names is None:
        return None
    names = tuple(class_names) if not isinstance(class_names, str) else None
    outputs = model.output_shape[-1]
    if names is None or len(names) != outputs or not all(isinstance(n, str) and n and "\n" not in n for n in names):
        shown = class_names if names is None else f"{len(names)} names"
        raise ValueError(
            f"`class_names` must hold one non-empty, single-line name per output of the model "
            f"({outputs} outputs). Received: class_names={shown!r}"
        )
    return names


def write_class_names(artifact, class_names):
    """Writes `class_names` with the artifact; None removes names a previous export left."""
    path = class_names_path(artifact)
    if class_names is None:
        if os.path.isfile(path):
            os.remove(path)
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    partial = path + ".partial"
    with open(partial, "w", encoding="utf-8") as file:
        file.write("".join(f"{name}\n" for name in class_names))
    os.replace(partial, path)


def read_class_names(artifact):
    """The class names kept with the artifact at `artifact`, or None if it has none."""
    path = class_names_path(artifact)
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as file:
        return file.read().splitlines()
