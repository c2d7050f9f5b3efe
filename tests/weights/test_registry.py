"""The registry of published weights, and downloading without a network."""

import json
import os

import numpy as np
import pytest

import keras_vit
from keras_vit.models import ALL_VARIANTS, FAMILY_VARIANTS
from keras_vit.weights import REGISTRY, get, manifest, names
from keras_vit.weights import download
from keras_vit.weights.download import converted_arrays, fetch
from keras_vit.weights.registry import WeightsEntry
from tests.weights.original import images, original_arrays, original_forward

MANIFEST = os.path.join(os.path.dirname(__file__), "..", "..", "weights", "manifest.json")


def test_every_entry_names_an_existing_variant():
    assert REGISTRY
    for (variant, name), entry in REGISTRY.items():
        assert variant in ALL_VARIANTS and entry.variant == variant and entry.name == name
        if variant in FAMILY_VARIANTS:
            # timm's Hub repositories, each the image tower as one safetensors file.
            repository = entry.url.split("/")[4]
            assert repository.split(".")[0] == entry.architecture
            assert entry.url == f"https://huggingface.co/timm/{repository}/resolve/main/model.safetensors"
            assert entry.source.endswith(f"as timm/{repository}")
        else:
            assert entry.url.startswith("https://storage.googleapis.com/vit_models/")
            assert entry.url.endswith(".npz") and entry.architecture is None


def test_every_family_variant_has_published_weights():
    assert sorted({variant for variant, _ in REGISTRY if variant in FAMILY_VARIANTS}) == sorted(FAMILY_VARIANTS)
    assert names("SigLIP-B/16") == ["webli-224", "webli-256", "webli-384"]
    assert get("DINOv2-g/14-reg", "lvd142m").architecture == "vit_giant_patch14_reg4_dinov2"
    assert get("CLIP-L/14", "openai").filename == "timm--vit_large_patch14_clip_224.openai.safetensors"


def test_urls_of_the_original_checkpoints():
    assert get("B/16", "imagenet21k").url == "https://storage.googleapis.com/vit_models/imagenet21k/ViT-B_16.npz"
    assert get("L/16", "imagenet21k+imagenet2012").url.endswith("imagenet21k+imagenet2012/ViT-L_16.npz")
    assert get("B/16", "imagenet21k+imagenet2012-224").url.endswith("imagenet21k+imagenet2012/ViT-B_16-224.npz")
    assert get("H/14", "imagenet21k").representation_size == 1280
    augreg = get("S/16", "augreg-i21k-ft-i1k-384")
    assert augreg.url.endswith(
        "augreg/S_16-i21k-300ep-lr_0.001-aug_light1-wd_0.03-do_0.0-sd_0.0"
        "--imagenet2012-steps_20k-lr_0.03-res_384.npz"
    )
    assert augreg.image_size == 384 and augreg.num_classes == 1000
    assert "imagenet21k" in names("B/16") and "imagenet21k" not in names("Ti/16")


def test_cache_file_names_are_unique():
    filenames = [entry.filename for entry in REGISTRY.values()]
    assert len(set(filenames)) == len(filenames)
    assert get("B/16", "imagenet21k").filename == "imagenet21k_ViT-B_16.npz"


def test_manifest_file_is_the_registry():
    with open(MANIFEST) as file:
        assert json.load(file) == manifest()


def test_unknown_name_lists_the_available_ones():
    with pytest.raises(ValueError, match=r"No weights named 'imagenet' for ViT-B/16. Available: augreg-i21k"):
        keras_vit.ViTB16(weights="imagenet")


def _entry(tmp_path, sha256=None, url=None):
    path = tmp_path / "published" / "ViT-Tiny.npz"
    path.parent.mkdir(exist_ok=True)
    np.savez(path, **original_arrays())
    return WeightsEntry("test", "B/16", url or path.as_uri(), 7, 32, sha256=sha256)


def test_download_and_conversion_cache(tmp_path):
    entry = _entry(tmp_path)
    cache = str(tmp_path / "cache")
    arrays = converted_arrays(entry, cache_dir=cache)
    local = os.path.join(cache, "keras_vit", "ViT-Tiny.npz")
    assert fetch(entry, cache_dir=cache) == local
    assert os.path.exists(local + ".converted.npz")
    again = converted_arrays(entry, cache_dir=cache)
    assert sorted(again) == sorted(arrays)
    np.testing.assert_array_equal(again["encoderblock_1/attn/out/kernel"], arrays["encoderblock_1/attn/out/kernel"])


def test_conversion_cache_is_rebuilt_when_the_source_or_the_converter_changes(tmp_path, monkeypatch):
    entry = _entry(tmp_path)
    cache = str(tmp_path / "cache")
    converted_arrays(entry, cache_dir=cache)
    local = fetch(entry, cache_dir=cache)
    calls = []
    real_read = download.read_checkpoint
    monkeypatch.setattr(download, "read_checkpoint", lambda path, **kwargs: calls.append(path) or real_read(path, **kwargs))
    converted_arrays(entry, cache_dir=cache)
    assert calls == []  # the stamp matches: read from the cache
    changed = original_arrays()
    changed["head/bias"] = np.full_like(changed["head/bias"], 3.0)
    np.savez(tmp_path / "published" / "ViT-Tiny.npz", **changed)
    np.savez(local, **changed)  # no longer its verified download: fetched again, another modification time
    assert float(converted_arrays(entry, cache_dir=cache)["head/bias"][0]) == 3.0 and calls == [local]
    monkeypatch.setattr(download, "CONVERTER_VERSION", download.CONVERTER_VERSION + 1)
    converted_arrays(entry, cache_dir=cache)
    assert calls == [local, local]


def test_wrong_checksum_is_an_error_and_leaves_no_file(tmp_path):
    entry = _entry(tmp_path, sha256="0" * 64)
    cache = str(tmp_path / "cache")
    with pytest.raises(ValueError, match="does not match its SHA-256 0000"):
        fetch(entry, cache_dir=cache)
    assert not os.listdir(os.path.join(cache, "keras_vit"))


def test_failed_download_names_the_url_and_the_offline_way(tmp_path):
    entry = _entry(tmp_path, url=(tmp_path / "nowhere" / "ViT-B_16.npz").as_uri())
    cache = str(tmp_path / "cache")
    with pytest.raises(OSError, match=r"Could not download file://.*nowhere/ViT-B_16.npz .*weights='/path/to/ViT-B_16.npz'"):
        fetch(entry, cache_dir=cache)
    assert not os.listdir(os.path.join(cache, "keras_vit"))


def test_registry_weights_load_into_a_builder(tmp_path, monkeypatch):
    entry = _entry(tmp_path)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    model = keras_vit.ViT(image_size=32, patch_size=8, hidden_dim=16, num_layers=2, num_heads=4, mlp_dim=24,
                          num_classes=7, weights=entry)
    batch = images()
    np.testing.assert_allclose(model.predict(batch, verbose=0), original_forward(original_arrays(), batch), atol=1e-4)
