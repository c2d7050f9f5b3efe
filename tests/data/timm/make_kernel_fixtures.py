"""Write timm's patch-embedding resampling and input-channel adaptation of small kernels.

keras_vit's `resample_patch_embedding` (FlexiViT's pseudo-inverse resize) and its
input-channel adaptation are checked against ``kernels.npz``, written here by timm
itself, in the environment ``make_fixtures.py`` describes (timm 1.0.31, pinned):

    timm-env/bin/python tests/data/timm/make_kernel_fixtures.py

Each kernel is seeded standard normal, float64, and every array is stored in Keras'
layout ``(height, width, in_channels, out_channels)`` (timm's is ``(out, in, height,
width)``). ``resample/<name>/kernel`` and ``resample/<name>/expected`` hold
``timm.layers.resample_patch_embed`` (its defaults: bicubic, antialias) from the
kernel's patch size to ``expected``'s, up and down, square and not;
``adapt/<channels>/expected`` holds ``timm.models.adapt_input_conv`` of
``adapt/kernel`` (3 input channels) to 1, 2 and 4 channels.
"""

import pathlib
import sys

import numpy as np
import torch

import timm
from timm.layers import resample_patch_embed
from timm.models import adapt_input_conv

TIMM_VERSION = "1.0.31"
HERE = pathlib.Path(__file__).resolve().parent
# name: (kernel height, width), new (height, width)
RESAMPLES = {
    "up": ((4, 4), (6, 6)),
    "down": ((6, 6), (4, 4)),
    "to_rectangle": ((4, 4), (3, 5)),
    "from_rectangle": ((4, 6), (5, 3)),
}
CHANNELS = (1, 2, 4)


def keras_layout(weight):
    return weight.permute(2, 3, 1, 0).numpy()


def main():
    if timm.__version__ != TIMM_VERSION:
        sys.exit(f"timm {TIMM_VERSION} is pinned; this is timm {timm.__version__}")
    generator = torch.Generator().manual_seed(0)
    arrays = {}
    for name, (size, new_size) in RESAMPLES.items():
        weight = torch.randn(5, 3, *size, generator=generator, dtype=torch.float64)
        arrays[f"resample/{name}/kernel"] = keras_layout(weight)
        arrays[f"resample/{name}/expected"] = keras_layout(resample_patch_embed(weight, list(new_size)))
    weight = torch.randn(5, 3, 4, 4, generator=generator, dtype=torch.float64)
    arrays["adapt/kernel"] = keras_layout(weight)
    for channels in CHANNELS:
        arrays[f"adapt/{channels}/expected"] = keras_layout(adapt_input_conv(channels, weight.clone()))
    np.savez_compressed(HERE / "kernels.npz", **arrays)


if __name__ == "__main__":
    main()
