"""Hub handles: `hf://ORG/NAME[@REVISION]` and `kaggle://OWNER/MODEL/FRAMEWORK/VARIATION[/VERSION]`.

A handle becomes a local path that the readers take like any other: a folder
(transformers, timm, keras-hub preset) or a file (an original `.npz`, a
keras_vit `.keras`). Files come through `huggingface_hub` and `kagglehub`
(the `hub` extra), so their caches, tokens (`HF_TOKEN`, Kaggle credentials),
mirrors (`HF_ENDPOINT`) and offline modes (`HF_HUB_OFFLINE=1`) work as for
every other user of those libraries. From the Hugging Face Hub only the files
the repository's reader needs are fetched (`hub_files.plan`); each is checked
against the hash the Hub published for it before use.
"""

import os
import re

from keras_vit.weights import hub_files

HF_PREFIX = "hf://"
KAGGLE_PREFIX = "kaggle://"
_HF_HANDLE = re.compile(r"([\w.-]+)/([\w.-]+)(?:@([^@\s]+))?")
_KAGGLE_HANDLE = re.compile(r"([\w.-]+)/([\w.-]+)/([\w.-]+)/([\w.-]+)(?:/(\d+))?")


class HubError(OSError):
    """A hub handle could not be resolved: the message names it and says what to do."""


def is_handle(spec):
    """Whether `spec` is a hub handle (`hf://...` or `kaggle://...`)."""
    return isinstance(spec, str) and spec.startswith((HF_PREFIX, KAGGLE_PREFIX))


def local_path(spec):
    """`spec` itself, or for a hub handle the local file or folder it names.

    Args:
        spec: a path, a registry name or a hub handle.

    Returns:
        For a handle, the local path of what the repository holds: a folder
        (transformers, timm or keras-hub), or a file (an original `.npz`, a
        `.keras` model). A local folder that `keras-vit push` wrote (its
        `model.keras` beside the card) gives its `model.keras`; anything
        else is returned unchanged.

    Raises:
        HubError: the handle names no repository or revision that can be
            read, the repository is gated or private and no token is set, or
            nothing is cached while offline. The message names the handle.
        ValueError: a malformed handle, or a repository holding nothing
            keras_vit reads.
    """
    if not is_handle(spec):
        return pushed_model(spec)
    if spec.startswith(HF_PREFIX):
        from keras_vit.weights import hub_hf

        return hub_hf.fetch(spec, *parse_hf(spec))
    from keras_vit.weights import hub_kaggle

    return hub_kaggle.fetch(spec, parse_kaggle(spec))


def pushed_model(path):
    """`path/model.keras` if `path` is a folder holding one (as `keras-vit push` writes), else `path`."""
    if isinstance(path, str) and os.path.isfile(os.path.join(path, hub_files.KERAS_MODEL)):
        return os.path.join(path, hub_files.KERAS_MODEL)
    return path


def parse_hf(spec):
    """`(repo_id, revision)` of `hf://ORG/NAME[@REVISION]`; revision None means the default branch."""
    match = _HF_HANDLE.fullmatch(spec[len(HF_PREFIX):])
    if match is None:
        raise ValueError(
            f"{spec!r} is not a Hugging Face handle: expected hf://ORG/NAME or hf://ORG/NAME@REVISION "
            "(a branch, tag or commit), e.g. hf://google/vit-base-patch16-224."
        )
    org, name, revision = match.groups()
    return f"{org}/{name}", revision


def parse_kaggle(spec):
    """The Kaggle handle of `kaggle://OWNER/MODEL/FRAMEWORK/VARIATION[/VERSION]`, without its scheme."""
    rest = spec[len(KAGGLE_PREFIX):]
    if _KAGGLE_HANDLE.fullmatch(rest) is None:
        raise ValueError(
            f"{spec!r} is not a Kaggle Models handle: expected kaggle://OWNER/MODEL/FRAMEWORK/VARIATION "
            "or .../VARIATION/VERSION, e.g. kaggle://keras/vit/keras/vit_base_patch16_224_imagenet/3."
        )
    return rest


def missing_package(spec, package):
    """The error for a handle whose client library is not installed."""
    return ImportError(
        f"{spec} is a hub handle, which needs the package {package!r}: "
        f'pip install "keras-vit-zoo[hub]" (or pip install {package}).'
    )


def readable_path(folder, plan, label):
    """What the readers take of a fetched repository: the folder, the one file the
    plan names, or for a Keras model folder the `.keras` file it is the unzipped
    form of, written once to keras_vit's cache as `hub/<label>.keras`."""
    if plan.keras_folder:
        from keras_vit.weights import cache

        return hub_files.pack_keras_folder(folder, os.path.join(cache.cache_folder(), "hub", f"{label}.keras"))
    return os.path.join(folder, plan.entry) if plan.entry else folder
