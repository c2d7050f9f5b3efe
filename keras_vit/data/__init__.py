"""Input pipelines for `model.fit`: the bundled digits, tensorflow-datasets, image folders, arrays."""

from keras_vit.data.digits import load_digits
from keras_vit.data.pipeline import (
    NO_AUGMENTATION,
    Augmentation,
    eval_pipeline,
    train_pipeline,
)
from keras_vit.data.load import from_arrays, from_folder, load_source
from keras_vit.data.source import Source, check_labels, stratified_split

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
    "stratified_split",
    "train_pipeline",
]
