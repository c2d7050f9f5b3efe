"""keras_vit's saved models (`.keras` files): checked whole and a keras_vit
model, then loaded uncompiled.

A `.keras` file is a zip archive of `config.json`, `metadata.json` and
`model.weights.h5`. Keras says `File not found` for one that is cut short and
lets `zipfile.BadZipFile` out as a traceback for a damaged member; `check`
says what is wrong in one line that names the file before Keras reads it.
"""

import json
import os
import zipfile

from keras_vit.utils.file_checks import AGAIN, check_zip_archive, reason

KIND = "a .keras file Keras wrote"
MEMBERS = ("config.json", "model.weights.h5")
# keras_vit's model classes, and the keyword under which each saves its architecture.
SAVED_CONFIGS = {"VisionTransformer": "vit_config", "ResNetV2Model": "resnet_config"}


def check(path, models=("VisionTransformer",)):
    """Checks that `path` is a whole `.keras` file of a keras_vit model.

    Args:
        path: str. The file.
        models: tuple of str. The model classes accepted, keys of
            `SAVED_CONFIGS`. Defaults to `("VisionTransformer",)`.

    Returns:
        dict: the model's saved config (`config.json`'s `"config"`), which
        holds its architecture (`vit_config` or `resnet_config`).

    Raises:
        ValueError: naming the file, if it is missing, empty, not a zip
            archive, truncated, has a member that fails its checksum, lacks
            `config.json` or `model.weights.h5`, or holds another model.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ValueError(f"Model file {path!r} does not exist.")
    check_zip_archive(path, KIND)
    with zipfile.ZipFile(path) as archive:
        missing = [name for name in MEMBERS if name not in archive.namelist()]
        if missing:
            raise ValueError(
                f"{path} is not {KIND}: it has no {' and no '.join(missing)} (it holds "
                f"{', '.join(archive.namelist()) or 'nothing'})."
            )
        raw = archive.read("config.json")
    try:
        saved = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path} is damaged: its config.json is not JSON ({error}). {AGAIN}") from None
    return _model_config(path, saved if isinstance(saved, dict) else {}, models)


def _model_config(path, saved, models):
    """`saved["config"]` if `config.json` describes one of `models` with its architecture."""
    config = saved.get("config") if isinstance(saved.get("config"), dict) else {}
    class_name = saved.get("class_name")
    if class_name in models and SAVED_CONFIGS[class_name] in config:
        return config
    layers = [layer for layer in config.get("layers") or [] if isinstance(layer, dict)]
    if any(str(layer.get("registered_name", "")).startswith("keras_vit>") for layer in layers):
        raise ValueError(
            f"{path} was saved by a keras_vit from before models kept their config, which this "
            "version no longer reads: rebuild the model with this version."
        )
    raise ValueError(f"{path} holds a {class_name}, not a keras_vit {' or '.join(models)}.")


def load(path, models=("VisionTransformer",)):
    """Loads a keras_vit `.keras` file, checked first, uncompiled.

    The model comes back as a builder's does, without the compile config it
    was saved with: that (optimizer, loss, `jit_compile`) belongs to the run
    that trained it. Under the torch backend a saved `jit_compile=True` sends
    every call through TorchDynamo, tens of seconds for a handful of images;
    `keras-vit train` compiles the model itself, and `keras.saving.load_model`
    restores a training run's state where that is wanted.

    Args:
        path: str. The file.
        models: tuple of str. The model classes accepted, as `check` takes
            them. Defaults to `("VisionTransformer",)`.

    Returns:
        The model it holds (a `keras_vit.models.VisionTransformer` by default).
    """
    import keras

    path = os.fspath(path)
    check(path, models)
    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except ImportError:
        raise
    except Exception as error:  # Keras raises many kinds for a file its own checks pass
        raise ValueError(f"{path} cannot be loaded by Keras ({type(error).__name__}: {reason(error)}).") from None
