"""Which files of a hub repository keras_vit needs, decided from its file list and `config.json`.

A repository holds one of: a keras_vit `.keras` model (`keras-vit push`), a
keras-hub preset, a Keras model folder (`model.save("hf://...")`), a timm hub
folder, a transformers folder, or an original `.npz`. `plan` picks the files
its reader reads and nothing more: a transformers repository that also holds
PyTorch, TensorFlow or Flax copies of the weights gives only its safetensors,
and a sharded CLIP or SigLIP only the shards holding image-tower arrays.
"""

import dataclasses
import json
import os
import zipfile

from keras_vit.weights.formats.text_tower import is_text_tower

KERAS_MODEL = "model.keras"
KERAS_HUB_FILES = (
    "config.json", "model.weights.h5", "model.weights.json", "task.json", "task.weights.h5", "task.weights.json",
    "preprocessor.json", "image_converter.json", "metadata.json",
)
# keras-hub's shard indexes (`save_to_preset(max_shard_size=...)`), each beside the `.h5` it replaces.
KERAS_HUB_INDEXES = ("model.weights.json", "task.weights.json")
KERAS_FOLDER_FILES = ("config.json", "metadata.json", "model.weights.h5")
# What comes with a model and the commands use: its class names (`keras-vit predict` prints them).
EXTRAS = ("classes.txt",)
SHARD_INDEX = "model.safetensors.index.json"


@dataclasses.dataclass(frozen=True)
class Plan:
    """What to fetch from a repository, and what the readers then take.

    Attributes:
        kind: str. What the repository holds, for messages.
        files: tuple of str. The repository's files to fetch.
        entry: str or None. The one file the readers take (a `.npz`, a
            `.keras`), or None for the folder.
        keras_folder: bool. A Keras model folder, which `pack_keras_folder`
            turns into the `.keras` file it is the unzipped form of.
    """

    kind: str
    files: tuple
    entry: str | None = None
    keras_folder: bool = False


def plan(names, read_json, handle):
    """The files of the repository `handle` that keras_vit reads.

    Args:
        names: list of str. The repository's files.
        read_json: callable. Fetches one of them and returns its JSON object.
        handle: str. For messages.

    Returns:
        A `Plan`.

    Raises:
        ValueError: the repository holds nothing keras_vit reads.
    """
    names = set(names)
    extras = tuple(name for name in EXTRAS if name in names)
    if KERAS_MODEL in names:
        return Plan("a keras_vit model", (KERAS_MODEL, *extras), entry=KERAS_MODEL)
    if "config.json" in names:
        found = _configured(names, read_json("config.json"), handle)
        if found is not None:
            return dataclasses.replace(found, files=found.files + extras)
    archives = sorted(name for name in names if name.endswith(".npz") and "/" not in name)
    if len(archives) == 1:
        return Plan("an original .npz checkpoint", (archives[0],), entry=archives[0])
    held = ", ".join(sorted(names)[:12]) + (" ..." if len(names) > 12 else "") if names else "no files"
    several = f" It holds {len(archives)} .npz files: name one as a local path." if len(archives) > 1 else ""
    raise ValueError(
        f"{handle} holds nothing keras_vit reads: expected a model.keras, a keras-hub preset, a Keras "
        "model folder, a timm or transformers folder (config.json with model.safetensors), or one "
        f"original .npz.{several} It holds: {held}."
    )


def _configured(names, config, handle):
    """The plan for a repository with a `config.json`, or None if its config is none of ours."""
    if str(config.get("registered_name", "")).startswith("keras_hub>"):
        return Plan("a keras-hub preset", _present(names, KERAS_HUB_FILES))
    if "class_name" in config and "model.weights.h5" in names:
        return Plan("a Keras model folder", _present(names, KERAS_FOLDER_FILES), keras_folder=True)
    if "architecture" in config and "model_type" not in config:
        return Plan("a timm hub folder", ("config.json", *_weights(names, handle)))
    if "model_type" in config:
        return Plan("a transformers folder", _present(names, ("config.json", "preprocessor_config.json"))
                    + _weights(names, handle))
    return None


def _present(names, wanted):
    return tuple(name for name in wanted if name in names)


def _weights(names, handle):
    if "model.safetensors" in names:
        return ("model.safetensors",)
    if SHARD_INDEX in names:
        return (SHARD_INDEX,)
    raise ValueError(
        f"{handle} has a config.json but no model.safetensors or {SHARD_INDEX}: keras_vit reads "
        "timm and transformers weights as safetensors."
    )


def shards(index_name, index_path):
    """The shard files a fetched index names that the reader needs: a safetensors
    index's shards holding image-tower arrays (a CLIP's or SigLIP's text tower may
    fill shards of its own), or every shard of a keras-hub index."""
    with open(index_path, encoding="utf-8") as file:
        try:
            weight_map = json.load(file)["weight_map"]
            items = weight_map.items()
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"{index_path} is not a readable shard index ({error!r}).") from None
    if index_name == SHARD_INDEX:
        return tuple(sorted({shard for key, shard in items if not is_text_tower(key)}))
    return tuple(sorted({name for _, value in items for name in ([value] if isinstance(value, str) else value)}))


def indexes(plan):
    """The shard indexes among a plan's files."""
    return tuple(name for name in plan.files if name in (SHARD_INDEX, *KERAS_HUB_INDEXES))


def pack_keras_folder(folder, path):
    """Writes the `.keras` file whose unzipped form `folder` is (Keras' own
    `model.save("hf://...")` layout) to `path`, once; returns `path`."""
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        partial = f"{path}.partial"
        with zipfile.ZipFile(partial, "w") as archive:
            for name in KERAS_FOLDER_FILES:
                if os.path.exists(os.path.join(folder, name)):
                    archive.write(os.path.join(folder, name), name)
        os.replace(partial, path)
    return path
