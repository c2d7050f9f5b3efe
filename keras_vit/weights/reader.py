"""`read_checkpoint`: picks the reader for a checkpoint file's format.

Each format's module (`formats/flax_npz.py`, `formats/timm.py`, `formats/hf.py`,
`formats/keras_hub.py` for keras-hub presets, `formats/bit.py` for the BiT
ResNetV2 baseline)
has one reader that returns the whole `Checkpoint`: the arrays under keras
weight paths, the architecture they imply and the keys it did not use.
"""

import os

from keras_vit.weights.formats import bit, flax_npz, hf, keras_hub, timm
from keras_vit.weights.formats.state_dict import SUFFIXES as STATE_DICT_SUFFIXES
from keras_vit.weights.formats.state_dict import read_state_dict

CHECKPOINT_SUFFIXES = (".npz", *STATE_DICT_SUFFIXES)
# keras_vit's own files, which Keras reads and which need no conversion.
KERAS_SUFFIXES = (".weights.h5", ".keras")


def read_checkpoint(path, num_heads=None):
    """Reads an original `.npz`, a timm state dict or a HF folder or file, of a
    ViT or of a BiT ResNetV2 (`keras_vit.ResNetV2`).

    Args:
        path: str. A `.npz`, `.safetensors`, `.pth`/`.bin` file, a
            transformers folder (`config.json` and `model.safetensors` or its
            shards) or a timm hub folder (`config.json` naming an
            `architecture`, and `model.safetensors`) or a keras-hub preset
            folder (`config.json` naming a `keras_hub>` class).
        num_heads: int or None. Attention heads, for formats whose fused or
            flattened kernels do not show them (timm, HF without config). None
            reads them from the file's config or the variant table, and
            refuses a file of another size. Defaults to None.

    Returns:
        A `keras_vit.weights.Checkpoint`.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"No checkpoint at {path}.")
    if os.path.isdir(path):
        if bit.is_bit_folder(path):
            return bit.read_folder(path)
        if keras_hub.registered_name(path) is not None:
            return keras_hub.read_folder(path)
        config = timm.hub_folder_config(path)
        if config is not None:
            return timm.read_folder(path, num_heads, config)
        return hf.read_folder(path, num_heads)
    if path.endswith(".npz"):
        return flax_npz.read(path)
    if path.endswith(STATE_DICT_SUFFIXES):
        state = read_state_dict(path)
        if timm.is_timm(state):
            return timm.read(state, path, num_heads)
        if hf.is_hf(state):
            return hf.read(state, path, num_heads)
        if bit.is_bit(state):
            return bit.read(state, path)
        raise ValueError(
            f"{path} holds no ViT or BiT weights that keras_vit knows: expected timm's "
            "'patch_embed.proj.weight' or HF's 'embeddings.patch_embeddings.projection.weight' "
            "(a ViT), or 'stem.conv.weight' or 'bit.embedder.convolution.weight' (a BiT ResNetV2)."
        )
    raise ValueError(
        f"Unknown checkpoint format for {path}: expected .npz (original), .safetensors, "
        ".pth or .bin (timm or HF), a HF model folder, or a keras_vit .weights.h5 or .keras file."
    )
