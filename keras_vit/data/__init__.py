"""Input pipelines for `model.fit`: the bundled digits, tensorflow-datasets, image folders, arrays."""

from keras_vit.data.digits import load_digits
from keras_vit.data.pipeline import (
    NO_AUGMENTATION,
    Augmentation,
    eval_pipeline,
    train_pipeline,
)
from keras_vit.data.sources import Source, check_labels, from_arrays, from_folder, load_source

__all__ = [
    "Augmentation",
    "NO_AUGMENTATION",
    "Source",
    "check_labels",
    "eval_pipeline",
    "from_arrays",
    "from_folder",
    "load_digits",
    "load_source",
    "train_pipeline",
]
