"""Named pretrained weights: per variant, where each checkpoint lives and what it is.

Metadata is kept apart from the architecture, as data. `weights/manifest.json` at
the top of the repository is this table written out (`keras-vit weights list
--json`), and a test keeps the two equal.
"""

import dataclasses

from keras_vit import variants

BASE_URL = "https://storage.googleapis.com/vit_models/"
_AUGREG_PRETRAINING = {
    "Ti/16": "Ti_16-i21k-300ep-lr_0.001-aug_none-wd_0.03-do_0.0-sd_0.0",
    "S/16": "S_16-i21k-300ep-lr_0.001-aug_light1-wd_0.03-do_0.0-sd_0.0",
    "S/32": "S_32-i21k-300ep-lr_0.001-aug_light1-wd_0.03-do_0.0-sd_0.0",
    "B/16": "B_16-i21k-300ep-lr_0.001-aug_medium1-wd_0.1-do_0.0-sd_0.0",
    "B/32": "B_32-i21k-300ep-lr_0.001-aug_medium1-wd_0.03-do_0.0-sd_0.0",
    "L/16": "L_16-i21k-300ep-lr_0.001-aug_medium1-wd_0.1-do_0.1-sd_0.1",
}
_AUGREG_FINETUNE_LR = {"Ti/16": "0.03", "S/16": "0.03", "S/32": "0.03", "B/16": "0.01", "B/32": "0.03", "L/16": "0.01"}
# The AugReg hybrids as timm's pretrained configurations pick them (each the best
# of its resolution, so the fine-tuned files may come from other pre-trainings):
# the ImageNet-21k file, then the ImageNet fine-tunes at 224 and 384.
_AUGREG_HYBRIDS = {
    "R+Ti/16": (
        "R_Ti_16-i21k-300ep-lr_0.001-aug_none-wd_0.03-do_0.0-sd_0.0",
        "R_Ti_16-i21k-300ep-lr_0.001-aug_none-wd_0.03-do_0.0-sd_0.0--imagenet2012-steps_20k-lr_0.03-res_224",
        "R_Ti_16-i21k-300ep-lr_0.001-aug_none-wd_0.03-do_0.0-sd_0.0--imagenet2012-steps_20k-lr_0.03-res_384",
    ),
    "R26+S/32": (
        "R26_S_32-i21k-300ep-lr_0.001-aug_medium2-wd_0.03-do_0.0-sd_0.0",
        "R26_S_32-i21k-300ep-lr_0.001-aug_light0-wd_0.03-do_0.1-sd_0.1--imagenet2012-steps_20k-lr_0.03-res_224",
        "R26_S_32-i21k-300ep-lr_0.001-aug_medium2-wd_0.03-do_0.0-sd_0.0--imagenet2012-steps_20k-lr_0.03-res_384",
    ),
    "R50+L/32": (
        "R50_L_32-i21k-300ep-lr_0.001-aug_medium2-wd_0.1-do_0.0-sd_0.0",
        "R50_L_32-i21k-300ep-lr_0.001-aug_medium1-wd_0.1-do_0.1-sd_0.1--imagenet2012-steps_20k-lr_0.01-res_224",
        "R50_L_32-i21k-300ep-lr_0.001-aug_medium2-wd_0.1-do_0.0-sd_0.0--imagenet2012-steps_20k-lr_0.01-res_384",
    ),
}
_AUGREG_SOURCE = "google-research/vision_transformer, AugReg (Steiner et al., 2021)"


@dataclasses.dataclass(frozen=True)
class WeightsEntry:
    """One published checkpoint of one variant.

    Attributes:
        name: str. The name users pass as `weights=`.
        variant: str. A key of `keras_vit.variants.ALL_VARIANTS`.
        url: str. Where the file is published.
        num_classes: int. Classes of its head (21843 for ImageNet-21k).
        image_size: int. The resolution it was trained or fine-tuned at.
        representation_size: int or None. Width of its pre-logits layer.
        sha256: str or None. The file's SHA-256, where known.
        source: str. Who published it, and the paper.
        licence: str. The weights' licence.
        preprocessing: str. The pixel range the weights expect.
    """

    name: str
    variant: str
    url: str
    num_classes: int
    image_size: int
    representation_size: int | None = None
    sha256: str | None = None
    source: str = "google-research/vision_transformer"
    licence: str = "Apache-2.0"
    preprocessing: str = "RGB scaled to [-1, 1]"

    @property
    def filename(self):
        """The cache file name: the path under `BASE_URL` (folders included, as
        `imagenet21k/` and `imagenet21k+imagenet2012/` hold files of one name)."""
        name = self.url[len(BASE_URL):] if self.url.startswith(BASE_URL) else self.url.rsplit("/", 1)[-1]
        return name.replace("/", "_").replace("+", "_")


def _original(name, folder, variant, suffix="", **fields):
    file = f"ViT-{variant.replace('/', '_')}{suffix}.npz"
    return WeightsEntry(name, variant, f"{BASE_URL}{folder}/{file}", **fields)


def _entries():
    entries = []
    for variant in ("B/16", "B/32", "L/16", "L/32", "H/14"):
        width = variants.VARIANTS[variant].hidden_dim
        entries.append(
            _original("imagenet21k", "imagenet21k", variant, num_classes=21843, image_size=224,
                      representation_size=width)
        )
    for variant in ("B/16", "B/32", "L/16", "L/32"):
        entries.append(
            _original("imagenet21k+imagenet2012", "imagenet21k+imagenet2012", variant,
                      num_classes=1000, image_size=384)
        )
    for variant in ("B/16", "L/16"):
        entries.append(
            _original("imagenet21k+imagenet2012-224", "imagenet21k+imagenet2012", variant,
                      suffix="-224", num_classes=1000, image_size=224)
        )
    for variant, stem in _AUGREG_PRETRAINING.items():
        source = _AUGREG_SOURCE
        entries.append(
            WeightsEntry("augreg-i21k", variant, f"{BASE_URL}augreg/{stem}.npz", 21843, 224, source=source)
        )
        for size in (224, 384):
            file = f"{stem}--imagenet2012-steps_20k-lr_{_AUGREG_FINETUNE_LR[variant]}-res_{size}.npz"
            entries.append(
                WeightsEntry(f"augreg-i21k-ft-i1k-{size}", variant, f"{BASE_URL}augreg/{file}", 1000, size,
                             source=source)
            )
    return entries + _hybrid_entries()


def _hybrid_entries():
    entries = [
        WeightsEntry("imagenet21k", "R50+B/16", f"{BASE_URL}imagenet21k/R50+ViT-B_16.npz", 21843, 224,
                     representation_size=768),
        WeightsEntry("imagenet21k+imagenet2012", "R50+B/16",
                     f"{BASE_URL}imagenet21k+imagenet2012/R50+ViT-B_16.npz", 1000, 384),
    ]
    for variant, (pretrained, *fine_tuned) in _AUGREG_HYBRIDS.items():
        entries.append(WeightsEntry("augreg-i21k", variant, f"{BASE_URL}augreg/{pretrained}.npz", 21843, 224,
                                    source=_AUGREG_SOURCE))
        for size, stem in zip((224, 384), fine_tuned):
            entries.append(WeightsEntry(f"augreg-i21k-ft-i1k-{size}", variant, f"{BASE_URL}augreg/{stem}.npz",
                                        1000, size, source=_AUGREG_SOURCE))
    return entries


REGISTRY = {(entry.variant, entry.name): entry for entry in _entries()}


def names(variant=None):
    """The weight names published for `variant`, or for any variant."""
    return sorted({name for v, name in REGISTRY if variant in (None, v)})


def get(variant, name):
    """Returns the `WeightsEntry` named `name` for `variant`."""
    if (variant, name) not in REGISTRY:
        available = names(variant)
        raise ValueError(
            f"No weights named {name!r} for {variants.title(variant)}. Available: "
            f"{', '.join(available) if available else 'none'}; or pass the path of a "
            "checkpoint file (.npz, .safetensors, .pth or .bin, a HF folder, .weights.h5 or .keras)."
        )
    return REGISTRY[(variant, name)]


def manifest():
    """The registry as plain JSON-ready rows, one per published file."""
    return [dataclasses.asdict(entry) for entry in REGISTRY.values()]
