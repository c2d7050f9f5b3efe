"""The original Google checkpoints: flattened Flax parameter trees in `.npz` files.

Covers the layout of google-research/vision_transformer (`imagenet21k/`,
`imagenet21k+imagenet2012/` and the AugReg files) and what real files add to it:
a `params/` or `opt/target/` prefix, bfloat16 arrays, big_vision's module names
(`MultiHeadDotProductAttention_0`, `MlpBlock_0`, `LayerNorm_1`, a top-level
`pos_embedding`) and encoder blocks stacked under one `Transformer/encoderblock/`.
Hybrid files add the ResNet stem (`conv_root`, `gn_root`, `block{s}/unit{u}/...`),
whose names keras_vit keeps; files written before Flax Linen store GroupNorm
parameters as `(1, 1, 1, C)`.
"""

import re
import zipfile

import numpy as np

from keras_vit.utils.file_checks import check_zip_archive
from keras_vit.weights.architecture import infer_architecture
from keras_vit.weights.checkpoint import Checkpoint

PREFIXES = ("opt/target/", "params/")
BIG_VISION_NAMES = {
    "MultiHeadDotProductAttention_0": "MultiHeadDotProductAttention_1",
    "LayerNorm_1": "LayerNorm_2",
    "MlpBlock_0": "MlpBlock_3",
}
BLOCK_NAMES = {
    "LayerNorm_0/scale": "norm1/gamma",
    "LayerNorm_0/bias": "norm1/beta",
    "LayerNorm_2/scale": "norm2/gamma",
    "LayerNorm_2/bias": "norm2/beta",
    "MlpBlock_3/Dense_0/kernel": "mlp_fc1/kernel",
    "MlpBlock_3/Dense_0/bias": "mlp_fc1/bias",
    "MlpBlock_3/Dense_1/kernel": "mlp_fc2/kernel",
    "MlpBlock_3/Dense_1/bias": "mlp_fc2/bias",
    **{
        f"MultiHeadDotProductAttention_1/{part}/{kind}": f"attn/{part}/{kind}"
        for part in ("query", "key", "value", "out")
        for kind in ("kernel", "bias")
    },
}
TOP_NAMES = {
    "embedding/kernel": "embedding/kernel",
    "embedding/bias": "embedding/bias",
    "cls": "cls/token",
    "Transformer/posembed_input/pos_embedding": "pos_embedding/embedding",
    "Transformer/encoder_norm/scale": "encoder_norm/gamma",
    "Transformer/encoder_norm/bias": "encoder_norm/beta",
    "pre_logits/kernel": "pre_logits/kernel",
    "pre_logits/bias": "pre_logits/bias",
    "head/kernel": "head/kernel",
    "head/bias": "head/bias",
}
_BLOCK = re.compile(r"^Transformer/encoderblock_(\d+)/(.+)$")
_STEM_CONV = re.compile(r"^(?:block\d+/unit\d+/(?:conv[123]|conv_proj)|conv_root)/kernel$")
_STEM_NORM = re.compile(r"^((?:block\d+/unit\d+/(?:gn[123]|gn_proj))|gn_root)/(scale|bias)$")
_NORM_NAMES = {"scale": "gamma", "bias": "beta"}


def read(path):
    """Reads an original `.npz` into a `Checkpoint`: keras-path arrays, the
    architecture their shapes imply (tanh GELU, as the original computes), and
    the file's keys that map to no weight."""
    raw = read_arrays(path)
    arrays = convert(raw)
    architecture = infer_architecture(arrays, path, activation="gelu_tanh")
    return Checkpoint(arrays, architecture, path, "flax_npz", tuple(unknown_keys(raw)))


def read_arrays(path):
    """Returns `{key: float32 array}` from an `.npz` file, refusing pickled objects
    and saying in one line what is wrong with a file that is not a whole zip archive."""
    # np.load would try anything but a zip archive as a pickle, and say so.
    check_zip_archive(path, "an .npz checkpoint")
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key: _to_float32(archive[key]) for key in archive.files}
    except ValueError as error:
        if "allow_pickle" in str(error):
            raise ValueError(
                f"{path} holds pickled Python objects, which keras_vit never loads: "
                "a ViT checkpoint is plain arrays."
            ) from None
        raise ValueError(f"{path} is not a readable checkpoint: a broken .npz file ({error}).") from None
    except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError) as error:
        raise ValueError(f"{path} is not a readable checkpoint: a broken .npz file ({error}).") from None


def _to_float32(array):
    if array.dtype.kind == "V" and array.dtype.itemsize == 2:
        import ml_dtypes

        return array.view(ml_dtypes.bfloat16).astype(np.float32)
    if array.dtype.kind == "f":
        return array.astype(np.float32, copy=False)
    # Step counters and other non-float entries are no weights; convert skips them.
    return array


def canonical(arrays):
    """Renames the variants' keys to the original layout, one array per block."""
    arrays = {_strip_prefix(key): value for key, value in arrays.items()}
    if "pos_embedding" in arrays:
        arrays["Transformer/posembed_input/pos_embedding"] = arrays.pop("pos_embedding")
    arrays = _unstack_blocks(arrays)
    if any("MultiHeadDotProductAttention_0" in key for key in arrays):
        arrays = {_rename_big_vision(key): value for key, value in arrays.items()}
    return arrays


def _strip_prefix(key):
    for prefix in PREFIXES:
        if key.startswith(prefix):
            return key[len(prefix) :]
    return key


def _unstack_blocks(arrays):
    stacked = "Transformer/encoderblock/"
    result = {}
    for key, value in arrays.items():
        if not key.startswith(stacked):
            result[key] = value
            continue
        for index, layer in enumerate(value):
            result[f"Transformer/encoderblock_{index}/{key[len(stacked):]}"] = layer
    return result


def _rename_big_vision(key):
    parts = key.split("/")
    return "/".join(BIG_VISION_NAMES.get(part, part) for part in parts)


def convert(arrays):
    """Maps original-layout arrays to `{keras weight path: array}`.

    Keys this converter does not know are left out; `unknown_keys` lists them.
    """
    arrays = canonical(arrays)
    result = {}
    for key, value in arrays.items():
        path = _keras_path(key)
        if path is not None:
            result[path] = value.reshape(-1) if _STEM_NORM.match(key) else value
    return result


def unknown_keys(arrays):
    """Keys of `arrays` that `convert` has no place for."""
    return sorted(key for key in canonical(arrays) if _keras_path(key) is None)


def _keras_path(key):
    if key in TOP_NAMES:
        return TOP_NAMES[key]
    match = _BLOCK.match(key)
    if match and match.group(2) in BLOCK_NAMES:
        return f"encoderblock_{match.group(1)}/{BLOCK_NAMES[match.group(2)]}"
    if _STEM_CONV.match(key):
        return key
    if match := _STEM_NORM.match(key):
        return f"{match.group(1)}/{_NORM_NAMES[match.group(2)]}"
    return None
