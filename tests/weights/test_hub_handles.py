"""`hf://` and `kaggle://` handles: every kind of repository keras_vit reads loads by handle
as by path, from a local stand-in for the Hub or from caches laid out as the clients lay them
out, and each bad handle ends in one line that names it."""

import json
import logging
import pathlib
import time

import numpy as np
import pytest

import keras_vit
from keras_vit.export import export_model
from keras_vit.models import build_model
from tests.weights.hub_server import HubServer, hub_client
from tests.weights.original import original_arrays

TIMM_FOLDER = pathlib.Path(__file__).parent.parent / "data" / "timm" / "vit_small_patch14_dinov2"
SIZE = 16


def _files(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _tiny_vit(**kwargs):
    model = keras_vit.ViT(image_size=SIZE, patch_size=8, hidden_dim=8, num_layers=1, num_heads=2, mlp_dim=16,
                          num_classes=3, **kwargs)
    rng = np.random.default_rng(1)
    for variable in model.weights:
        variable.assign(rng.normal(0, 0.3, tuple(variable.shape)).astype("float32"))
    return model


def _hf_folders(root):
    """A transformers ViT folder with decoys beside it, and a full CLIP sharded so that
    its text tower fills shards of its own."""
    torch = pytest.importorskip("torch", reason="transformers writes its folders with torch")
    import transformers

    from tests.hf_reference import random_hf_vit

    vit = random_hf_vit(torch, transformers, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=16, image_size=SIZE, patch_size=8, num_labels=3)
    vit.save_pretrained(root / "vit")
    for decoy in ("pytorch_model.bin", "tf_model.h5", "flax_model.msgpack"):
        (root / "vit" / decoy).write_bytes(b"not needed")
    torch.manual_seed(0)
    text = dict(hidden_size=8, intermediate_size=16, num_hidden_layers=2, num_attention_heads=2, vocab_size=4000)
    vision = dict(hidden_size=8, intermediate_size=16, num_hidden_layers=1, num_attention_heads=2, image_size=SIZE,
                  patch_size=8)
    clip = transformers.CLIPModel(transformers.CLIPConfig(text_config=text, vision_config=vision, projection_dim=4))
    clip.save_pretrained(root / "clip", max_shard_size="40KB")
    return root / "vit", root / "clip"


@pytest.fixture(scope="module")
def repos(tmp_path_factory):
    """`{repo_id: (local path, {name: bytes})}` of every kind keras_vit reads."""
    root = tmp_path_factory.mktemp("repos")
    model = _tiny_vit()
    (root / "pushed").mkdir()
    model.save(root / "pushed" / "model.keras")
    (root / "pushed" / "classes.txt").write_text("cat\ndog\nfox\n")
    (root / "pushed" / "README.md").write_text("# card\n")
    model.save(root / "folder", zipped=False)
    # keras-hub's own check of the preset is tests/export/test_keras_hub_export.py's.
    export_model(_tiny_vit(activation="gelu"), str(root / "kerashub"), "keras_hub", verify=False)
    (root / "npz").mkdir()
    np.savez(root / "npz" / "ViT-tiny.npz", **original_arrays(image=SIZE, patch=8, width=8, depth=1, heads=2, mlp=16))
    vit, clip = _hf_folders(root)
    local = {
        "me/pushed": root / "pushed" / "model.keras",
        "me/folder": root / "folder",
        "me/kerashub": root / "kerashub",
        "me/npz": root / "npz" / "ViT-tiny.npz",
        "me/transformers": vit,
        "me/clip": clip,
        "me/timm": TIMM_FOLDER,
    }
    return {repo: (path, _files(path if path.is_dir() else path.parent)) for repo, path in local.items()}


@pytest.fixture
def server(repos):
    with HubServer() as hub:
        for repo, (_, files) in repos.items():
            hub.add(repo, files)
        yield hub


def _pixels(size=SIZE, seed=0):
    return np.random.default_rng(seed).uniform(0, 255, (2, size, size, 3)).astype("float32")


def _outputs(model):
    return np.asarray(model.predict(_pixels(model.input_shape[1]), verbose=0))


def _by_path(path):
    if str(path).endswith(".keras"):
        return build_model(str(path))
    if (path / "config.json").exists() and json.loads((path / "config.json").read_text()).get("class_name") == (
            "VisionTransformer"):  # a Keras model folder
        import keras

        return keras.saving.load_model(str(path), compile=False)
    return keras_vit.from_checkpoint(str(path))


NEEDED = {
    "me/pushed": {"model.keras", "classes.txt"},
    "me/folder": {"config.json", "metadata.json", "model.weights.h5"},
    "me/kerashub": {"config.json", "model.weights.h5", "task.json", "task.weights.h5", "preprocessor.json",
                    "image_converter.json", "metadata.json"},
    "me/npz": {"ViT-tiny.npz"},
    "me/transformers": {"config.json", "model.safetensors"},
    "me/timm": {"config.json", "model.safetensors"},
}


@pytest.mark.parametrize("repo", sorted(NEEDED))
def test_each_kind_loads_by_handle_as_by_path_and_only_its_files_are_fetched(repo, repos, server, monkeypatch,
                                                                             tmp_path):
    path, _ = repos[repo]
    with hub_client(monkeypatch, tmp_path, server.endpoint):
        model = build_model(f"hf://{repo}")
    np.testing.assert_array_equal(_outputs(model), _outputs(_by_path(path)))
    assert set(server.fetched()) == NEEDED[repo]


def test_a_sharded_clip_fetches_only_its_image_tower_shards(repos, server, monkeypatch, tmp_path, caplog):
    path, files = repos["me/clip"]
    shards = {name for name in files if name.endswith(".safetensors")}
    with hub_client(monkeypatch, tmp_path, server.endpoint), caplog.at_level(logging.INFO, logger="keras_vit"):
        model = keras_vit.from_checkpoint("hf://me/clip", image_size=SIZE)
    fetched = set(server.fetched())
    assert shards - fetched, f"every shard was fetched: {sorted(shards)}"
    np.testing.assert_allclose(_outputs(model), _outputs(keras_vit.from_checkpoint(str(path), image_size=SIZE)),
                               atol=1e-6)
    assert "skipped the text tower: " in caplog.text and "text_model.*" in caplog.text


def _lay_out_hf_cache(hub_cache, repo, files, commit="c0ffee" + "0" * 34, ref="main"):
    """The Hugging Face cache as `huggingface_hub` lays it out, written by hand."""
    folder = pathlib.Path(hub_cache) / f"models--{repo.replace('/', '--')}"
    (folder / "refs").mkdir(parents=True, exist_ok=True)
    (folder / "refs" / ref).write_text(commit)
    for name, data in files.items():
        (folder / "snapshots" / commit / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / "snapshots" / commit / name).write_bytes(data)
    return commit


def test_offline_a_hand_laid_cache_serves_builders_and_revisions(repos, monkeypatch, tmp_path):
    path, files = repos["me/transformers"]
    with hub_client(monkeypatch, tmp_path, offline=True) as hub_cache:
        commit = _lay_out_hf_cache(hub_cache, "me/transformers", files)
        by_weights = keras_vit.ViT(image_size=SIZE, patch_size=8, hidden_dim=8, num_layers=1, num_heads=2,
                                   mlp_dim=16, weights="hf://me/transformers")
        at_commit = keras_vit.from_checkpoint(f"hf://me/transformers@{commit}")
    expected = _outputs(keras_vit.from_checkpoint(str(path)))
    np.testing.assert_array_equal(_outputs(by_weights), expected)
    np.testing.assert_array_equal(_outputs(at_commit), expected)


def _lay_out_kaggle_cache(cache, handle, files):
    """kagglehub's cache: `models/OWNER/MODEL/FRAMEWORK/VARIATION/VERSION/...` and its `VERSION.complete`."""
    *variation, version = handle.split("/")
    folder = pathlib.Path(cache, "models", *variation)
    for name, data in files.items():
        (folder / version / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / version / name).write_bytes(data)
    (folder / f"{version}.complete").write_text("")


def test_kaggle_handles_load_a_keras_hub_preset_from_kagglehubs_cache(repos, monkeypatch, tmp_path):
    pytest.importorskip("kagglehub", reason="kagglehub is in the dev extra")
    path, files = repos["me/kerashub"]
    monkeypatch.setenv("KAGGLEHUB_CACHE", str(tmp_path / "kaggle"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("KAGGLE_API_ENVIRONMENT", "TEST")  # localhost:7777, where nothing answers
    _lay_out_kaggle_cache(tmp_path / "kaggle", "me/tiny/keras/tiny_vit/2", files)
    model = keras_vit.from_checkpoint("kaggle://me/tiny/keras/tiny_vit/2")
    np.testing.assert_array_equal(_outputs(model), _outputs(_by_path(path)))
    with pytest.raises(OSError, match=r"names no version.*version 2: name one, e\.g\. kaggle://me/tiny/keras/tiny_vit/2"):
        build_model("kaggle://me/tiny/keras/tiny_vit")
    with pytest.raises(OSError, match="not in the kagglehub cache"):
        build_model("kaggle://me/tiny/keras/tiny_vit/3")


def test_a_keras_model_folder_loads_from_kagglehubs_cache(repos, monkeypatch, tmp_path):
    pytest.importorskip("kagglehub", reason="kagglehub is in the dev extra")
    path, files = repos["me/folder"]
    monkeypatch.setenv("KAGGLEHUB_CACHE", str(tmp_path / "kaggle"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    _lay_out_kaggle_cache(tmp_path / "kaggle", "me/tiny/keras/folder/1", files)
    np.testing.assert_array_equal(_outputs(build_model("kaggle://me/tiny/keras/folder/1")), _outputs(_by_path(path)))


def test_a_dropped_connection_is_fetched_again_whole(repos, server, monkeypatch, tmp_path):
    server.drop_once.add("model.safetensors")
    with hub_client(monkeypatch, tmp_path, server.endpoint):
        model = keras_vit.from_checkpoint("hf://me/transformers")
    np.testing.assert_array_equal(_outputs(model), _outputs(keras_vit.from_checkpoint(str(repos["me/transformers"][0]))))
    assert server.fetched().count("model.safetensors") == 2, server.requests


def test_a_file_that_does_not_match_its_published_hash_is_deleted_and_refused(server, monkeypatch, tmp_path):
    server.wrong_etag.add("model.safetensors")
    with hub_client(monkeypatch, tmp_path, server.endpoint) as hub_cache:
        with pytest.raises(ValueError, match=r"hf://me/transformers: model\.safetensors does not match the SHA-256"):
            keras_vit.from_checkpoint("hf://me/transformers")
    kept = [p.name for p in pathlib.Path(hub_cache).rglob("*") if p.is_file() and p.stat().st_size > 1024]
    assert kept == [], kept


BAD = [
    ("hf://me/nothing", None, r"hf://me/nothing: no repository 'me/nothing' on .*set HF_TOKEN"),
    ("hf://me/transformers@v9", None, r"me/transformers has no revision 'v9'"),
    ("hf://me/gated", "gated", r"hf://me/gated is gated: accept its conditions at .*/me/gated, then set HF_TOKEN"),
    ("hf://me/unreadable", None, r"hf://me/unreadable holds nothing keras_vit reads.*It holds: README\.md"),
    ("hf://me/transformers", "offline", r"not in the Hugging Face cache .* and HF_HUB_OFFLINE is set"),
    ("hf://me/transformers", "unreachable", r"not in the Hugging Face cache .* cannot be reached"),
    ("hf://me", None, r"'hf://me' is not a Hugging Face handle: expected hf://ORG/NAME"),
    ("kaggle://keras/vit", None, r"not a Kaggle Models handle: expected kaggle://OWNER/MODEL/FRAMEWORK/VARIATION"),
]


@pytest.mark.backend_independent(reason="a bad handle is refused before any model is built")
@pytest.mark.parametrize("handle, fault, message", BAD, ids=[f"{h}-{f}" for h, f, _ in BAD])
def test_a_bad_handle_is_one_line_naming_it_within_seconds(handle, fault, message, server, monkeypatch, tmp_path):
    server.add("me/unreadable", {"README.md": b"# nothing here\n"})
    server.add("me/gated", {"README.md": b"# gated\n"})
    server.gated.add("me/gated")
    endpoint = "http://127.0.0.1:9" if fault == "unreachable" else server.endpoint
    start = time.monotonic()
    with hub_client(monkeypatch, tmp_path, endpoint, offline=fault == "offline"):
        with pytest.raises((OSError, ValueError), match=message) as raised:
            keras_vit.from_checkpoint(handle)
    assert time.monotonic() - start < 10
    assert len(str(raised.value).splitlines()) == 1, str(raised.value)


def test_a_registry_entry_whose_url_is_out_of_reach_loads_from_its_hub_copy(repos, server, monkeypatch, tmp_path,
                                                                              capsys):
    from keras_vit.weights import WeightsEntry, load_weights

    path, _ = repos["me/npz"]
    entry = WeightsEntry("tiny", "B/16", "http://127.0.0.1:9/ViT-tiny.npz", 7, SIZE, hub="hf://me/npz")
    expected = keras_vit.from_checkpoint(str(path))
    model = keras_vit.ViT(image_size=SIZE, patch_size=8, hidden_dim=8, num_layers=1, num_heads=2, mlp_dim=16,
                          num_classes=7)
    with hub_client(monkeypatch, tmp_path, server.endpoint):
        load_weights(model, entry)
    np.testing.assert_array_equal(_outputs(model), _outputs(expected))
    assert "http://127.0.0.1:9/ViT-tiny.npz cannot be reached; loading the same weights from hf://me/npz" in (
        capsys.readouterr().err)
