"""keras-hub presets of its ViT, DeiT, DINOv2, SigLIP and CLIP, read with JSON and HDF5 alone (no keras-hub needed).

A preset folder is what keras-hub's `save_to_preset` writes: `config.json`
(the backbone's class, such as `keras_hub>ViTBackbone`, and its arguments),
`model.weights.h5` (the backbone's variables in Keras' saving layout; where
each family keeps what: `keras_hub_layouts.py`), and for a ViT image
classifier `task.json` (pooling, pre-logits width, classes) with
`task.weights.h5` (the pre-logits Dense, when there is one, then the head),
and the image converter's `scale` and `offset` in `preprocessor.json` or
`image_converter.json`. keras-hub's ViT is the paper's with Keras' exact
GELU, its DeiT adds the distillation token, its DINOv2 registers, LayerScale
and SwiGLU; their kernels have keras_vit's layouts, so only the names change.
Of SigLIP and CLIP, image-text models, the image tower is read and the text
tower skipped and reported, as for transformers' full checkpoints.
"""

import os

import numpy as np

from keras_vit.utils.file_checks import check_hdf5, hdf5_error
from keras_vit.weights.checkpoint import Checkpoint
from keras_vit.weights.formats.hf_config import read_json_object
from keras_vit.weights.formats.keras_hub_layouts import DINOV2, FAMILIES, POSITION_IDS, SUPPORTED, resize_notes

FORMAT = "keras_hub"


def registered_name(path):
    """The `registered_name` of the `config.json` in the folder at `path` if it
    names a keras-hub class (`keras_hub>...`), else None."""
    config_path = os.path.join(path, "config.json")
    if not os.path.isfile(config_path):
        return None
    name = read_json_object(config_path).get("registered_name")
    return name if isinstance(name, str) and name.startswith("keras_hub>") else None


def read_folder(path):
    """Reads a keras-hub ViT, DeiT, DINOv2, SigLIP or CLIP preset folder into a `Checkpoint` (format `"keras_hub"`).

    Args:
        path: str. A folder that `save_to_preset` of keras-hub's `ViTBackbone`,
            `ViTImageClassifier`, `DeiTBackbone`, `DINOV2Backbone`,
            `SigLIPBackbone` or `CLIPBackbone` wrote.

    Returns:
        A `keras_vit.weights.Checkpoint` whose architecture holds the
        backbone's sizes, Keras' exact GELU, the task's pooling, pre-logits
        and classes, and the image converter's scaling as `pixel_mean` and
        `pixel_std`.
    """
    name = registered_name(path)
    if name not in FAMILIES:
        raise ValueError(
            f"{path} is a keras-hub preset of {name!r}; keras_vit reads the keras-hub presets of "
            f"{', '.join(repr(n) for n in SUPPORTED)} (and ViT's image classifier)."
        )
    family = FAMILIES[name]
    config = _class_config(os.path.join(path, "config.json"), name)
    architecture = family.architecture(config, path)
    places = family.places(config, architecture["num_layers"])
    arrays, skipped = _read_arrays(os.path.join(path, "model.weights.h5"), places, ignored=family.skipped)
    task = _task(path, architecture, family)
    if task is not None:
        places = _head_places(task.get("intermediate_dim") is not None)
        arrays.update(_read_arrays(os.path.join(path, "task.weights.h5"), places, ignored=("optimizer/",))[0])
    _adapt(arrays, architecture)
    notes = resize_notes(config, architecture) if name == DINOV2 else ()
    if skipped:
        notes += (f"skipped the text tower: {len(skipped)} arrays ({', '.join(p + '*' for p in family.skipped)})",)
    normalization = _normalization(path, architecture["input_channels"])
    if normalization is None:
        notes += (f"{path} has no image converter: the model scales pixels to [-1, 1], keras_vit's default",)
    else:
        architecture["pixel_mean"], architecture["pixel_std"] = normalization
    return Checkpoint(arrays, architecture, path, FORMAT, notes=notes)


def _adapt(arrays, architecture):
    """keras-hub's arrays as keras_vit holds them: a position table held by an
    `Embedding` is looked up by its stored row indices (SigLIP, CLIP), it and
    CLIP's class token get their batch axes, and the attention output's bias, which
    keras-hub's `use_mha_bias=False` drops with the others (keras_vit's
    `qkv_bias=False` keeps it), is zero."""
    table = arrays["pos_embedding/embedding"]
    if POSITION_IDS in arrays:
        table = table[arrays.pop(POSITION_IDS).reshape(-1).astype(np.int64)]
    arrays["pos_embedding/embedding"] = table[None] if table.ndim == 2 else table
    if "cls/token" in arrays:  # CLIP's is a vector
        arrays["cls/token"] = arrays["cls/token"].reshape(1, 1, -1)
    if not architecture["qkv_bias"]:
        for index in range(architecture["num_layers"]):
            arrays[f"encoderblock_{index}/attn/out/bias"] = np.zeros(architecture["hidden_dim"], np.float32)


def _class_config(path, expected):
    config = read_json_object(path)
    if config.get("registered_name") != expected or not isinstance(config.get("config"), dict):
        raise ValueError(f"{path} is not a keras-hub {expected!r} config: expected its arguments under 'config'.")
    return config["config"]


def _task(path, architecture, family):
    """The classifier's `task.json` arguments, written into `architecture`; None without one."""
    task_path = os.path.join(path, "task.json")
    if not os.path.isfile(task_path):
        return None
    name = read_json_object(task_path).get("registered_name")
    if family.classifier is None:
        raise ValueError(f"{task_path} is a {name!r} task: {family.no_classifier}.")
    if name != family.classifier:
        raise ValueError(f"{task_path} is a {name!r} task; keras_vit reads {family.classifier!r}.")
    task = _class_config(task_path, family.classifier)
    pooling = task.get("pooling", "token")
    if pooling not in ("token", "gap") or (pooling == "token") != architecture["class_token"]:
        raise ValueError(
            f"{task_path}: pooling={pooling!r} with use_class_token={architecture['class_token']}; keras_vit "
            "pools the class token (pooling='token' with a class token) or the mean of the patch tokens "
            "(pooling='gap' without one, where keras-hub's mean takes the same tokens)."
        )
    activation = task.get("activation")
    if activation is not None and not isinstance(activation, str):
        raise ValueError(f"{task_path}: activation={activation!r}; keras_vit takes an activation's name or None.")
    architecture.update(
        include_top=True,
        num_classes=int(task["num_classes"]),
        representation_size=task.get("intermediate_dim"),
        classifier_activation=activation,
    )
    return task


def _head_places(pre_logits):
    """The task's Dense layers in the order keras-hub creates them: pre-logits first."""
    names = ["pre_logits", "head"] if pre_logits else ["head"]
    return {
        f"layers/{'dense' + (f'_{index}' if index else '')}/vars/{var}": f"{name}/{kind}"
        for index, name in enumerate(names)
        for var, kind in ((0, "kernel"), (1, "bias"))
    }


def _read_arrays(path, places, ignored=()):
    """`{keras_vit weight path: array}` of the HDF5 file at `path` (or of the
    shards its `.json` index names), and the keys it left out: those under the
    `ignored` prefixes. Every other array must have a place (an unknown one is
    refused, naming it)."""
    stored = {}
    for shard in _weight_files(path):
        stored.update(_datasets(shard))
    skipped = sorted(key for key in stored if key.startswith(ignored))
    stored = {key: value for key, value in stored.items() if not key.startswith(ignored)}
    unknown = sorted(set(stored) - set(places))
    if unknown:
        raise ValueError(
            f"{path} holds arrays keras-hub's ViT of this config has no place for: {', '.join(unknown[:4])}"
            f"{' ...' if len(unknown) > 4 else ''}. It is another model or another config's weights."
        )
    arrays = {places[key]: np.asarray(value, dtype=np.float32) for key, value in stored.items() if places[key]}
    return arrays, skipped


def _weight_files(path):
    """`[path]`, or the shards `model.weights.json` names where keras-hub saved
    the weights in several files (`save_to_preset`'s `max_shard_size`)."""
    if os.path.isfile(path):
        return [path]
    index = path[: -len(".h5")] + ".json"
    if not os.path.isfile(index):
        raise ValueError(f"{os.path.dirname(path)} is a keras-hub preset without {os.path.basename(path)}.")
    weight_map = read_json_object(index).get("weight_map")
    if not isinstance(weight_map, dict):
        raise ValueError(f"{index} is not a readable shard index: it has no 'weight_map' object.")
    names = {name for value in weight_map.values() for name in ([value] if isinstance(value, str) else value)}
    return [os.path.join(os.path.dirname(path), name) for name in sorted(names)]


def _datasets(path):
    import h5py

    if not os.path.isfile(path):
        raise ValueError(f"{path} is missing: the keras-hub preset's shard index names it.")
    check_hdf5(path, "a keras-hub preset's weights")
    stored = {}
    try:
        with h5py.File(path, "r") as file:
            file.visititems(lambda key, item: _keep_dataset(stored, key, item, h5py.Dataset))
    except (OSError, RuntimeError, KeyError, ValueError) as error:
        raise hdf5_error(path, error) from None
    return stored


def _keep_dataset(stored, key, item, dataset_type):
    if isinstance(item, dataset_type):
        stored[key] = item[()]


def _normalization(path, channels):
    """`(pixel_mean, pixel_std)` for pixels in [0, 1] from the image converter's
    `x * scale + offset` on pixels in [0, 255]; None without a converter."""
    converter = _converter_config(path)
    if converter is None:
        return None
    scale = converter.get("scale")
    offset = converter.get("offset")
    scale = np.broadcast_to(np.asarray(1.0 if scale is None else scale, np.float64), (channels,))
    offset = np.broadcast_to(np.asarray(0.0 if offset is None else offset, np.float64), (channels,))
    if not np.all(scale > 0):
        raise ValueError(
            f"{path}: the image converter's scale={converter.get('scale')!r}; keras_vit needs it positive."
        )
    std = 1.0 / (255.0 * scale)
    return tuple(float(v) for v in -offset * std), tuple(float(v) for v in std)


def _converter_config(path):
    preprocessor = os.path.join(path, "preprocessor.json")
    if os.path.isfile(preprocessor):
        converter = read_json_object(preprocessor).get("config", {}).get("image_converter")
        if isinstance(converter, dict):
            return converter.get("config", {})
    converter = os.path.join(path, "image_converter.json")
    if os.path.isfile(converter):
        return read_json_object(converter).get("config", {})
    return None
