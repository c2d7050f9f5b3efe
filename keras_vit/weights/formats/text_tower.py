"""The text tower of a full CLIP or SigLIP transformers checkpoint, which keras_vit skips.

Apart from the readers, so that deciding which files of a hub repository to fetch
needs no Keras.
"""

import re

_TEXT_TOWER = re.compile(r"^(?:text_model\.|text_projection\.|logit_scale$|logit_bias$)")


def is_text_tower(key):
    """Whether a transformers key belongs to a full CLIP's or SigLIP's text tower."""
    return _TEXT_TOWER.match(key) is not None
