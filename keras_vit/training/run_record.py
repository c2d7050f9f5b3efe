"""`run.json`: what a finished training run was and what it scored, for its model card.

`keras-vit push` reads it beside `model.keras` to say where the weights came
from (the starting weights, the data, the recipe and its settings), how well
the model does (test accuracy and loss, few-shot accuracies) and the command
that made it.
"""

import dataclasses
import json
import os
import shlex
import sys

RECORD_FILE = "run.json"


def write_record(path, config, result):
    """Writes the record of a finished run (`TrainConfig` and `TrainResult`) to `path`, whole or not at all."""
    import keras

    from keras_vit import __version__

    record = {
        "config": _plain(dataclasses.asdict(config)),
        "test_accuracy": result.test_accuracy,
        "test_loss": result.test_loss,
        "epochs_run": len(result.history.get("loss", ())),
        "train_examples": result.train_examples,
        "few_shot": _few_shot(result.few_shot),
        "command": command(),
        "backend": keras.backend.backend(),
        "keras_vit_version": __version__,
        "keras_version": keras.__version__,
    }
    partial = path + ".partial"
    with open(partial, "w", encoding="utf-8") as file:
        json.dump(record, file, indent=2)
    os.replace(partial, path)


def read_record(path):
    """The record at `path`, or None if there is none or it is not readable."""
    try:
        with open(path, encoding="utf-8") as file:
            record = json.load(file)
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def command():
    """The `keras-vit` command line of this process, or None when it is not the console script."""
    if os.path.basename(sys.argv[0]) != "keras-vit":
        return None
    return shlex.join(["keras-vit", *sys.argv[1:]])


def _few_shot(result):
    if result is None:
        return None
    return {str(shots): {"mean": result.mean[shots], "std": result.std[shots]} for shots in result.shots}


def _plain(value):
    """`value` with tuples as lists and anything JSON has no type for as its string."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)
