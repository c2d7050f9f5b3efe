"""Keys a timm or HF converter did not map: listed when harmless, refused otherwise.

A key keras_vit's ViT has no place for usually means the file's model computes
something else (qk-norm, a norm after pooling, ...).
Dropping it would load a model that runs and is wrong, so the readers refuse
it, naming what the key is where it is known.
"""

import re

# Keys that change nothing the model computes.
HARMLESS = {
    r"(^|\.)num_batches_tracked$": "a batch-norm step counter",
    r"^(optimizer|opt_state|optimizer_state|scheduler|epoch|step)(\.|$)": "training state",
    r"(^|\.)embeddings\.mask_token$": "HF's mask token, used only for masked image modelling",
}
# What the keys of known ViT extensions keras_vit does not build are, for the error message.
KNOWN_PARTS = {
    r"\.(q_norm|k_norm)\.": "query/key normalisation (qk-norm)",
    r"^fc_norm\.": "a LayerNorm after pooling (fc_norm)",
    r"(^|\.)rope\.": "rotary position embeddings",
}


def check_unused(keys, path, model="the ViT it would load into", known_parts=None):
    """Returns the harmless `keys`; raises a `ValueError` naming the others and what they are.

    `model` names what the file loads into in the message, and `known_parts`
    (`{key pattern: what it is}`, by default the ViT extensions' `KNOWN_PARTS`)
    what a refused key is.
    """
    known_parts = KNOWN_PARTS if known_parts is None else known_parts
    refused = sorted(key for key in keys if not _matches(HARMLESS, key))
    if refused:
        parts = sorted({_describe(key, known_parts) for key in refused})
        listing = ", ".join(refused[:6]) + (f" and {len(refused) - 6} more" if len(refused) > 6 else "")
        raise ValueError(
            f"{path} has weights that are not part of {model}: {listing} "
            f"({'; '.join(parts)}). Loading it without them would compute something else than the "
            "file's model, so keras_vit refuses it."
        )
    return tuple(sorted(keys))


def _matches(patterns, key):
    return any(re.search(pattern, key) for pattern in patterns)


def _describe(key, known_parts):
    for pattern, part in known_parts.items():
        if re.search(pattern, key):
            return f"{part}, which keras_vit does not build"
    return "a part keras_vit does not know"
