"""Named pretrained weights: per variant, where each checkpoint lives and what it is.

Metadata is kept apart from the architecture, as data. `weights/manifest.json` at
the top of the repository is this table written out (`keras-vit weights list
--json`), and a test keeps the two equal.
"""

import dataclasses

from keras_vit import variants

BASE_URL = "https://storage.googleapis.com/vit_models/"
HUB_URL = "https://huggingface.co/"
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
# The same AugReg files as timm publishes them on the Hugging Face Hub (timm's
# pretrained configurations name these very URLs): an alternative source for a
# machine that reaches the Hub only. timm's B/32 at 384 px is another file.
_AUGREG_TIMM = {"Ti/16": "vit_tiny_patch16", "S/16": "vit_small_patch16", "S/32": "vit_small_patch32",
                "B/16": "vit_base_patch16", "B/32": "vit_base_patch32", "L/16": "vit_large_patch16"}
_AUGREG_NOT_ON_HUB = {("B/32", 384)}


@dataclasses.dataclass(frozen=True)
class WeightsEntry:
    """One published checkpoint of one variant.

    Attributes:
        name: str. The name users pass as `weights=`.
        variant: str. A key of `keras_vit.variants.ALL_VARIANTS`.
        url: str. Where the file is published.
        num_classes: int or None. Classes of its head (21843 for ImageNet-21k);
            None for a file without one (DINOv2, SigLIP, CLIP).
        image_size: int. The resolution it was trained or fine-tuned at.
        representation_size: int or None. Width of its pre-logits layer.
        sha256: str or None. The file's SHA-256, where known.
        source: str. Who published it, and the paper.
        licence: str. The weights' licence.
        preprocessing: str. The pixel range the weights expect.
        architecture: str or None. For a timm hub file, timm's architecture
            name, which says what the file's keys do not (its activation).
        hub: str or None. The same weights as a hub handle
            (`keras_vit.weights.hub`), loaded when `url` cannot be reached.
    """

    name: str
    variant: str
    url: str
    num_classes: int | None
    image_size: int
    representation_size: int | None = None
    sha256: str | None = None
    source: str = "google-research/vision_transformer"
    licence: str = "Apache-2.0"
    preprocessing: str = "RGB scaled to [-1, 1]"
    architecture: str | None = None
    hub: str | None = None

    @property
    def filename(self):
        """The cache file name: the path under `BASE_URL` (folders included, as
        `imagenet21k/` and `imagenet21k+imagenet2012/` hold files of one name),
        or a Hub repository's `org--name.safetensors` (every one holds a
        `model.safetensors`)."""
        if self.url.startswith(HUB_URL):
            org, repo = self.url[len(HUB_URL):].split("/")[:2]
            return f"{org}--{repo}.safetensors"
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
            WeightsEntry("augreg-i21k", variant, f"{BASE_URL}augreg/{stem}.npz", 21843, 224, source=source,
                         hub=_augreg_hub(variant, 224, "augreg_in21k"))
        )
        for size in (224, 384):
            file = f"{stem}--imagenet2012-steps_20k-lr_{_AUGREG_FINETUNE_LR[variant]}-res_{size}.npz"
            entries.append(
                WeightsEntry(f"augreg-i21k-ft-i1k-{size}", variant, f"{BASE_URL}augreg/{file}", 1000, size,
                             source=source, hub=_augreg_hub(variant, size, "augreg_in21k_ft_in1k"))
            )
    return entries + _hybrid_entries() + _family_entries()


def _augreg_hub(variant, size, tag):
    if (variant, size) in _AUGREG_NOT_ON_HUB:
        return None
    return f"hf://timm/{_AUGREG_TIMM[variant]}_{size}.{tag}"


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


# The paper's descendants, from timm's Hub repositories: each holds the image
# tower alone as one `model.safetensors` (the originals' weights, converted by
# timm). Variant, weights name, timm architecture and tag, classes of the file's
# head (None: none), resolution, source, licence.
_FAMILY = [
    ("DeiT-Ti/16", "imagenet1k", "deit_tiny_distilled_patch16_224.fb_in1k", 1000, 224),
    ("DeiT-S/16", "imagenet1k", "deit_small_distilled_patch16_224.fb_in1k", 1000, 224),
    ("DeiT-B/16", "imagenet1k", "deit_base_distilled_patch16_224.fb_in1k", 1000, 224),
    ("DINOv2-S/14", "lvd142m", "vit_small_patch14_dinov2.lvd142m", None, 518),
    ("DINOv2-B/14", "lvd142m", "vit_base_patch14_dinov2.lvd142m", None, 518),
    ("DINOv2-L/14", "lvd142m", "vit_large_patch14_dinov2.lvd142m", None, 518),
    ("DINOv2-g/14", "lvd142m", "vit_giant_patch14_dinov2.lvd142m", None, 518),
    ("DINOv2-S/14-reg", "lvd142m", "vit_small_patch14_reg4_dinov2.lvd142m", None, 518),
    ("DINOv2-B/14-reg", "lvd142m", "vit_base_patch14_reg4_dinov2.lvd142m", None, 518),
    ("DINOv2-L/14-reg", "lvd142m", "vit_large_patch14_reg4_dinov2.lvd142m", None, 518),
    ("DINOv2-g/14-reg", "lvd142m", "vit_giant_patch14_reg4_dinov2.lvd142m", None, 518),
    ("SigLIP-B/16", "webli-224", "vit_base_patch16_siglip_224.webli", None, 224),
    ("SigLIP-B/16", "webli-256", "vit_base_patch16_siglip_256.webli", None, 256),
    ("SigLIP-B/16", "webli-384", "vit_base_patch16_siglip_384.webli", None, 384),
    ("SigLIP-So400m/14", "webli-224", "vit_so400m_patch14_siglip_224.webli", None, 224),
    # The original takes 384 px and its 14 px patches leave the last 6 rows and
    # columns unread: built for the 378 px it reads, the model equals it on
    # images cropped to their top-left 378 x 378.
    ("SigLIP-So400m/14", "webli-384", "vit_so400m_patch14_siglip_384.webli", None, 378),
    # timm holds CLIP's projection as a head with a zero bias; it loads as the
    # projection (`projection_dim`), CLIP's `image_embeds`.
    ("CLIP-B/32", "openai", "vit_base_patch32_clip_224.openai", None, 224),
    ("CLIP-B/16", "openai", "vit_base_patch16_clip_224.openai", None, 224),
    ("CLIP-L/14", "openai", "vit_large_patch14_clip_224.openai", None, 224),
]
_FAMILY_SOURCES = {
    "DeiT": ("facebookresearch/deit (Touvron et al., 2021)", "Apache-2.0", "ImageNet mean and std"),
    "DINOv2": ("facebookresearch/dinov2 (Oquab et al., 2023; registers: Darcet et al., 2024)", "Apache-2.0",
               "ImageNet mean and std"),
    "SigLIP": ("google-research/big_vision (Zhai et al., 2023)", "Apache-2.0", "RGB scaled to [-1, 1]"),
    "CLIP": ("openai/CLIP (Radford et al., 2021)", "MIT", "CLIP's mean and std"),
}


def _family_entries():
    entries = []
    for variant, name, timm_name, classes, size in _FAMILY:
        source, licence, preprocessing = _FAMILY_SOURCES[variant.split("-")[0]]
        architecture = timm_name.split(".")[0]
        entries.append(WeightsEntry(
            name, variant, f"{HUB_URL}timm/{timm_name}/resolve/main/model.safetensors", classes, size,
            source=f"{source}, as timm/{timm_name}", licence=licence, preprocessing=preprocessing,
            architecture=architecture,
        ))
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
