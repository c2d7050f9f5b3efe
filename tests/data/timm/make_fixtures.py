"""Write tiny timm checkpoints of the ViT families and timm's own outputs for them.

keras_vit's timm loader is checked against these files: timm itself cannot be installed
beside the test environment's CPU torch (timm needs torchvision), so its outputs are made
once, here, in an environment of their own, and committed.

The environment (Python 3.11; the versions are pinned, and the script refuses another timm)::

    python3.11 -m venv timm-env
    timm-env/bin/pip install torch==2.14.1 torchvision==0.29.1
    timm-env/bin/pip install timm==1.0.31 safetensors==0.8.0 numpy==2.4.6
    timm-env/bin/python tests/data/timm/make_fixtures.py

Nothing is downloaded: every model is built with ``pretrained=False``.

For each architecture in ``ARCHS`` it writes ``tests/data/timm/<arch>/``:

* ``config.json`` and ``model.safetensors``, as timm writes a Hugging Face hub folder
  (``timm.models.save_for_hf``; the model args of the tiny size are in ``config.json``).
  The model is the architecture's own registration (its act_layer, pre_norm, class_token,
  no_embed_class, reg_tokens, init_values, global_pool, mlp_layer, norm eps, ...) with only
  the sizes overridden (``SIZES`` plus the per-architecture entries of ``ARCHS``): width 16,
  2 heads, 2 blocks, MLP hidden width 64 (the SwiGLU of the giant DINOv2: fc1 16 -> 128 packed,
  two halves of 64), patch 2 on a 3x3 grid (6x6 pixels), 5 classes. Width 16 and patch 2
  (rather than 32 and 16) keep the seven folders under 400 KB together.
  Every parameter is moved off its initial value by a seeded Gaussian (standard deviation
  0.2), so a LayerScale gamma, register or class token, bias, norm weight or position
  embedding that is loaded wrong changes the outputs.
* ``expected.npz`` (float32):

  - ``images``: 2 images, NHWC, standard normal (already normalised: what the model takes);
  - ``logits``: ``model(x)`` in eval mode (the average of the two heads for DeiT-distilled);
  - ``pre_logits``: ``model.forward_head(model.forward_features(x), pre_logits=True)``;
  - ``tokens``: ``model.forward_features(x)``, the final-normed tokens, prefix tokens first;
  - for the DINOv2 models also, through timm's ``dynamic_img_size=True`` with the same
    weights: ``images_2``/``logits_2``/``pre_logits_2``/``tokens_2`` at a 4x5 patch grid
    (8x10 pixels: upsampling the 3x3 position embedding, not square) and
    ``images_3``/... at a 2x2 grid (4x4 pixels: downsampling, where timm's antialias acts).

The outputs are computed in float64 (the float32 weights, widened) and stored as float32,
so they are timm's function without float32 rounding noise; ``float32_error`` in each
``expected.npz`` is the largest difference of timm's own float32 logits from them.
The script checks that each parameter tensor changes the outputs, and running it twice writes
the same bytes (the archive members of ``expected.npz`` carry a fixed date).
"""

import io
import json
import pathlib
import shutil
import sys
import zipfile

import numpy as np
import torch

import timm
from timm.models import save_for_hf

TIMM_VERSION = "1.0.31"
SEED = 0
PERTURBATION = 0.2
ROOT = pathlib.Path(__file__).resolve().parent

# Sizes shared by every tiny model; mlp_ratio stays the family's own (4.0) except where noted.
SIZES = dict(embed_dim=16, depth=2, num_heads=2, patch_size=2, img_size=6, num_classes=5)

# arch -> (overrides on top of SIZES, extra input grids for dynamic_img_size as (rows, cols) of patches)
ARCHS = {
    # class + distillation token, two heads averaged in eval
    "deit_tiny_distilled_patch16_224": ({}, ()),
    # LayerScale (init_values=1e-5)
    "vit_small_patch14_dinov2": ({}, ((4, 5), (2, 2))),
    # LayerScale + 4 register tokens, no_embed_class
    "vit_small_patch14_reg4_dinov2": ({}, ((4, 5), (2, 2))),
    # SwiGLUPacked MLP: fc1 16 -> 128 (two halves of 64), fc2 64 -> 16
    "vit_giant_patch14_dinov2": ({"mlp_ratio": 8.0}, ()),
    # no class token, MAP attention pooling head (attn_pool)
    "vit_base_patch16_siglip_224": ({}, ()),
    # norm_pre, no patch embed bias, LayerNorm eps 1e-5
    "vit_base_patch16_clip_224": ({}, ()),
    # ... and quick GELU
    "vit_base_patch16_clip_quickgelu_224": ({}, ()),
}


def _check_version():
    if timm.__version__ != TIMM_VERSION:
        sys.exit(f"make_fixtures.py is pinned to timm {TIMM_VERSION}, found timm {timm.__version__}; "
                 f"install timm=={TIMM_VERSION} (see the module docstring)")


def _perturb(model):
    """Move every parameter off its initial value, deterministically."""
    generator = torch.Generator().manual_seed(SEED)
    with torch.no_grad():
        for _, param in model.named_parameters():
            noise = torch.randn(param.shape, generator=generator, dtype=param.dtype)
            param.add_(noise * PERTURBATION)


def _images(batch, height, width, seed):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn((batch, 3, height, width), generator=generator, dtype=torch.float32)


def _outputs(model, images):
    """timm's logits, pre-logits and tokens for NCHW float32 images, computed in float64."""
    with torch.no_grad():
        x = images.double()
        tokens = model.forward_features(x)
        pre_logits = model.forward_head(tokens, pre_logits=True)
        logits = model(x)
    return {k: v.float().numpy() for k, v in dict(logits=logits, pre_logits=pre_logits, tokens=tokens).items()}


def _nhwc(images):
    return images.permute(0, 2, 3, 1).contiguous().numpy()


def _check_every_parameter_matters(model, images, expected):
    """Each parameter tensor, moved a little, moves the logits, pre-logits or tokens."""
    generator = torch.Generator().manual_seed(SEED + 100)
    with torch.no_grad():
        for name, param in model.named_parameters():
            saved = param.detach().clone()
            param.add_(torch.randn(param.shape, generator=generator, dtype=param.dtype) * 0.1)
            moved = _outputs(model, images)
            param.copy_(saved)
            change = max(float(np.abs(moved[k] - expected[k]).max()) for k in moved)
            assert change > 1e-4, f"{name} does not change timm's outputs ({change:.1e})"


def _write_npz(path, arrays):
    """np.savez's layout (uncompressed .npy members), with a fixed member date so reruns are byte-identical."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for key, value in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(value), allow_pickle=False)
            archive.writestr(zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0)), buffer.getvalue())


def make(arch, overrides, extra_grids):
    model_args = dict(SIZES, **overrides)
    torch.manual_seed(SEED)
    model = timm.create_model(arch, pretrained=False, **model_args)
    _perturb(model)
    model.eval()

    folder = ROOT / arch
    if folder.exists():
        shutil.rmtree(folder)
    save_for_hf(model, folder, model_args=model_args, safe_serialization=True)
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors"], list(folder.iterdir())

    size = model_args["img_size"]
    images = _images(2, size, size, seed=SEED + 1)
    expected = {"images": _nhwc(images)}
    expected.update(_outputs(model.double(), images))
    _check_every_parameter_matters(model, images, expected)
    with torch.no_grad():
        float32_logits = model.float()(images).numpy()
    expected["float32_error"] = np.float32(np.abs(float32_logits - expected["logits"]).max())

    if extra_grids:
        dynamic = timm.create_model(arch, pretrained=False, dynamic_img_size=True, **model_args)
        dynamic.load_state_dict(model.state_dict(), strict=True)
        dynamic.eval()
        same = _outputs(dynamic.double(), images)
        for key, value in same.items():  # at the native grid the dynamic model is the same function
            np.testing.assert_allclose(value, expected[key], rtol=0, atol=1e-6)
        patch = model_args["patch_size"]
        for index, (rows, cols) in enumerate(extra_grids, start=2):
            extra = _images(2, rows * patch, cols * patch, seed=SEED + index)
            expected[f"images_{index}"] = _nhwc(extra)
            for key, value in _outputs(dynamic, extra).items():
                expected[f"{key}_{index}"] = value

    for key, value in expected.items():
        assert value.dtype == np.float32, (key, value.dtype)
        assert np.isfinite(value).all(), key
    _write_npz(folder / "expected.npz", expected)
    with np.load(folder / "expected.npz") as written:
        assert sorted(written.files) == sorted(expected), written.files

    config = json.loads((folder / "config.json").read_text())
    params = sum(p.numel() for p in model.parameters())
    print(f"{arch}: {params} parameters, model_args={config.get('model_args')}, "
          f"logits {expected['logits'].shape}, tokens {expected['tokens'].shape}, "
          f"float32 error {expected['float32_error']:.2e}")


def main():
    _check_version()
    torch.set_num_threads(1)
    for arch, (overrides, extra_grids) in ARCHS.items():
        make(arch, overrides, extra_grids)


if __name__ == "__main__":
    main()
