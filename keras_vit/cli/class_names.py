"""The names of a model's classes, wherever the command line can find them.

A model `keras-vit train` wrote has `classes.txt` beside its `model.keras` (its
checkpoints, in `checkpoints/`, share their run's); an exported model has the
names `keras-vit export` kept with it (`keras_vit.export.labels`); a head of
1000 or 21843 classes is ImageNet's. Elsewhere classes are only numbers.
"""

import os

from keras_vit.classes import FILES


def run_class_names(model, num_classes):
    """The names of a `.keras` file's classes from its run's `classes.txt`, or None.

    Args:
        model: str. A `.keras` file or a hub handle of one, or a variant or
            builder name (which has no file of names).
        num_classes: int. The head's size; a file of another length is ignored.
    """
    from keras_vit.training.run import CLASS_NAMES_FILE
    from keras_vit.training.run_folder import run_folder_of
    from keras_vit.weights import hub

    model = hub.local_path(model)  # a hub handle's files are cached by now
    if not model.endswith(".keras"):
        return None
    names = _read_lines(os.path.join(run_folder_of(model), CLASS_NAMES_FILE))
    return names if names is not None and len(names) == num_classes else None


def imagenet_class_names(num_classes):
    """ImageNet-1k's or ImageNet-21k's class names for a head of their size, else None."""
    if num_classes not in FILES:
        return None
    from keras_vit.classes import imagenet_classes

    return [f"{name} ({synset})" for synset, name in imagenet_classes(num_classes)]


def or_numbers(names, num_classes):
    """`names` if there is one per class, else "class 0", "class 1", ..."""
    if names is not None and len(names) == num_classes:
        return list(names)
    return [f"class {index}" for index in range(num_classes)]


def _read_lines(path):
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as file:
        return file.read().splitlines()
