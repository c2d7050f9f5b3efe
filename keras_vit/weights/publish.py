"""Publishing a trained model to the Hugging Face Hub or Kaggle Models (`keras-vit push`).

The folder uploaded holds the model (`model.keras`, or a keras-hub preset),
its class names and `run.json` where its run folder has them, and a model
card (`README.md`, `keras_vit.weights.model_card`). `--dry-run FOLDER` writes
that folder and uploads nothing; `keras_vit.from_checkpoint(FOLDER)` and
`weights=FOLDER` load it, as `hf://USER/REPO` does once it is uploaded.
"""

import os
import shutil
import tempfile

from keras_vit.weights import hub, hub_files
from keras_vit.weights.formats import keras_file
from keras_vit.weights.model_card import model_card

FORMATS = ("keras", "keras_hub")


def write_folder(model_path, folder, handle, format="keras"):
    """Writes what `push` uploads into `folder` (created; must be empty or new).

    Args:
        model_path: str. A keras_vit `.keras` file; `classes.txt` and
            `run.json` beside it (or one folder up, for a run's checkpoint)
            go with it.
        folder: str. Where to write.
        handle: str. Where it will be published, for the card.
        format: str. `"keras"` (the `.keras` file) or `"keras_hub"` (a
            keras-hub preset written by `keras_vit.export`). Defaults to
            `"keras"`.

    Returns:
        The list of files written, relative to `folder`.
    """
    from keras_vit.training.run import CLASS_NAMES_FILE
    from keras_vit.training.run_folder import run_folder_of
    from keras_vit.training.run_record import RECORD_FILE, read_record

    _check_handle(handle)
    _check_format(format)
    model = keras_file.load(model_path)
    run = run_folder_of(model_path)
    if os.path.exists(folder) and not (os.path.isdir(folder) and not os.listdir(folder)):
        raise ValueError(f"The folder to write must be new or empty, and {folder} is not: choose another.")
    if format == "keras":
        os.makedirs(folder, exist_ok=True)
        shutil.copyfile(model_path, os.path.join(folder, hub_files.KERAS_MODEL))
    else:
        from keras_vit.export import export_model

        if os.path.isdir(folder):
            os.rmdir(folder)  # the export writes the folder whole, or nothing
        export_model(model, folder, "keras_hub")
    names = _copy_if_present(run, folder, CLASS_NAMES_FILE)
    _copy_if_present(run, folder, RECORD_FILE)
    class_names = _lines(os.path.join(folder, CLASS_NAMES_FILE)) if names else None
    card = model_card(model, handle, read_record(os.path.join(run, RECORD_FILE)), class_names, format)
    with open(os.path.join(folder, "README.md"), "w", encoding="utf-8") as file:
        file.write(card)
    return sorted(os.path.relpath(os.path.join(root, name), folder) for root, _, files in os.walk(folder)
                  for name in files)


def push(model_path, handle, format="keras", private=False, message=None):
    """Uploads `model_path`'s folder (see `write_folder`) to `handle`; returns the repository's URL.

    Args:
        model_path: str. A keras_vit `.keras` file.
        handle: str. `hf://USER/REPO`, or `kaggle://OWNER/MODEL/FRAMEWORK/VARIATION`.
        format: str. `"keras"` or `"keras_hub"`. Defaults to `"keras"`.
        private: bool. Create the repository private (Hugging Face). Defaults to False.
        message: str or None. The commit message. Defaults to None.
    """
    with tempfile.TemporaryDirectory() as folder:
        write_folder(model_path, folder, handle, format)
        if handle.startswith(hub.HF_PREFIX):
            return _push_hf(folder, handle, private, message)
        return _push_kaggle(folder, handle, message)


def _push_hf(folder, handle, private, message):
    try:
        from huggingface_hub import HfApi
    except ImportError:
        raise hub.missing_package(handle, "huggingface_hub") from None
    repo_id, revision = hub.parse_hf(handle)
    api = HfApi(library_name="keras_vit")
    url = api.create_repo(repo_id, private=private, exist_ok=True)
    api.upload_folder(repo_id=repo_id, folder_path=folder, revision=revision,
                      commit_message=message or "Upload a keras_vit model with keras-vit push")
    return str(url)


def _push_kaggle(folder, handle, message):
    try:
        import kagglehub
    except ImportError:
        raise hub.missing_package(handle, "kagglehub") from None
    kagglehub.model_upload(handle[len(hub.KAGGLE_PREFIX):], folder, version_notes=message or "")
    return f"https://www.kaggle.com/models/{'/'.join(handle[len(hub.KAGGLE_PREFIX):].split('/')[:2])}"


def _check_handle(handle):
    if handle.startswith(hub.HF_PREFIX):
        hub.parse_hf(handle)
        return
    if handle.startswith(hub.KAGGLE_PREFIX) and len(hub.parse_kaggle(handle).split("/")) == 4:
        return
    raise ValueError(
        "push publishes to hf://USER/REPO or kaggle://OWNER/MODEL/FRAMEWORK/VARIATION (Kaggle numbers "
        f"the versions itself). Received: {handle!r}"
    )


def _check_format(format):
    if format not in FORMATS:
        raise ValueError(f"`format` must be one of {', '.join(FORMATS)}. Received: format={format!r}")


def _copy_if_present(source_folder, folder, name):
    source = os.path.join(source_folder, name)
    if not os.path.isfile(source):
        return False
    shutil.copyfile(source, os.path.join(folder, name))
    return True


def _lines(path):
    with open(path, encoding="utf-8") as file:
        return [line.rstrip("\n") for line in file if line.strip()]
