"""`kaggle://OWNER/MODEL/FRAMEWORK/VARIATION[/VERSION]`: a Kaggle Models version through `kagglehub`.

A Kaggle model variation holds one model (a keras-hub preset, as a rule), so
the whole version is fetched, as `keras_hub` itself does; `kagglehub` serves
a versioned handle from its cache (`KAGGLEHUB_CACHE`) without asking Kaggle.
A handle without a version asks Kaggle for the latest: without network that
fails, and the message names the versions the cache holds.
"""

import os

from keras_vit.weights import hub, hub_files
from keras_vit.weights.formats.hf_config import read_json_object


def fetch(spec, handle):
    """The local path of what `spec` holds (see `keras_vit.weights.hub.local_path`)."""
    try:
        import kagglehub
    except ImportError:
        raise hub.missing_package(spec, "kagglehub") from None
    try:
        folder = kagglehub.model_download(handle)
    except Exception as error:  # noqa: BLE001 - mapped to one line
        raise hub.HubError(_message(spec, handle, error)) from None
    names = [
        os.path.relpath(os.path.join(root, name), folder) for root, _, files in os.walk(folder) for name in files
    ]
    plan = hub_files.plan(names, lambda name: read_json_object(os.path.join(folder, name)), spec)
    return hub.readable_path(folder, plan, "kaggle--" + handle.replace("/", "--"))


def _message(spec, handle, error):
    status = getattr(getattr(error, "response", None), "status_code", None)
    if status == 404:
        return f"{spec}: no such model, variation or version on Kaggle Models: check the handle at https://www.kaggle.com/models."
    if status in (401, 403):
        return (
            f"{spec}: Kaggle refused access ({status}): accept the model's licence on its Kaggle page and set "
            "KAGGLE_USERNAME and KAGGLE_KEY (or ~/.kaggle/kaggle.json)."
        )
    versioned = len(handle.split("/")) == 5
    cached = _cached_versions(handle)
    if versioned:
        return f"{spec} is not in the kagglehub cache and Kaggle cannot be reached ({type(error).__name__}): run it once with network access."
    hint = f"; the cache holds version {', '.join(cached)}: name one, e.g. {spec}/{cached[-1]}" if cached else ""
    return f"{spec} names no version, and Kaggle cannot be reached to find the latest ({type(error).__name__}){hint}."


def _cached_versions(handle):
    """The versions of `handle`'s variation in the kagglehub cache, oldest first."""
    from kagglehub.config import get_cache_folder

    folder = os.path.join(get_cache_folder(), "models", *handle.split("/")[:4])
    if not os.path.isdir(folder):
        return []
    whole = (name for name in os.listdir(folder) if name.isdigit() and os.path.exists(os.path.join(folder, f"{name}.complete")))
    return sorted(whole, key=int)
