"""ImageNet class names (WordNet synset and lemmas), shipped as package data.

`imagenet1k.tsv` is the ILSVRC-2012 order of the 1000-class heads;
`imagenet21k.tsv` is the order of Google's ImageNet-21k checkpoints (21843 classes).
Both come from the synset and lemma lists that timm distributes.
"""

import functools
from importlib import resources

FILES = {1000: "imagenet1k.tsv", 21843: "imagenet21k.tsv"}


@functools.cache
def imagenet_classes(num_classes):
    """Returns `[(synset, name), ...]` for a 1000- or 21843-class head."""
    if num_classes not in FILES:
        raise ValueError(
            "Class names exist for ImageNet-1k (1000 classes) and ImageNet-21k (21843 "
            f"classes). Received: predictions with {num_classes} classes"
        )
    text = resources.files(__package__).joinpath(FILES[num_classes]).read_text(encoding="utf-8")
    return [tuple(line.split("\t", 1)) for line in text.splitlines()]
