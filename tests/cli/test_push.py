"""`keras-vit push`: a trained run's model, class names and card, written with --dry-run through
the console script, and uploaded to a stand-in Hub from which `hf://USER/REPO` loads it back."""

import json
import pathlib
import shutil

import numpy as np
import pytest

import keras_vit
from keras_vit.cli import main
from keras_vit.models import build_model
from keras_vit.weights import publish
from tests.cli.console import keras_vit as console
from tests.weights.hub_server import HubServer, hub_client

# Publishing copies files and writes a card: what it does cannot depend on the backend. Loading by
# handle on every backend is tests/weights/test_hub_handles.py's; keras-hub presets on every backend
# are tests/export/test_keras_hub_export.py's.
pytestmark = pytest.mark.backend_independent(
    reason="push copies files and writes a card; handles and presets are loaded per backend in their own tests"
)

TRAIN = ["train", "--model", "ViT", "--image-size", "16", "--patch-size", "8", "--hidden-dim", "16",
         "--num-layers", "1", "--num-heads", "2", "--mlp-dim", "32", "--epochs", "1", "--batch-size", "256",
         "--few-shot", "1", "--quiet"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A finished `keras-vit train` run on digits, made by the console script."""
    out = tmp_path_factory.mktemp("run")
    done = console(*TRAIN, "--out", out)
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="module")
def dry_run(run, tmp_path_factory):
    folder = tmp_path_factory.mktemp("dry") / "upload"
    done = console("push", run / "model.keras", "hf://me/digits-vit", "--dry-run", folder)
    assert done.returncode == 0, done.stderr
    return folder, done.stdout


def _pixels(seed=0):
    return np.random.default_rng(seed).uniform(0, 255, (3, 16, 16, 3)).astype("float32")


def test_the_dry_run_writes_the_model_its_classes_its_record_and_a_card(run, dry_run):
    folder, printed = dry_run
    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "classes.txt", "model.keras", "run.json"]
    assert "nothing uploaded" in printed
    record = json.loads((run / "run.json").read_text())
    assert record["command"] == "keras-vit " + " ".join(TRAIN + ["--out", str(run)])
    card = (folder / "README.md").read_text()
    model = build_model(str(run / "model.keras"))
    for expected in (
        "# digits-vit", f"| parameters | {model.count_params():,} |", "| data | digits |",
        f"Test accuracy {100 * record['test_accuracy']:.2f}%", "| 1-shot |", "10 classes",
        'keras_vit.models.build_model("hf://me/digits-vit")', "```sh\n" + record["command"] + "\n```",
        "takes RGB pixels in 0..255 at 16x16",
    ):
        assert expected in card, expected
    assert card.startswith("---\nlibrary_name: keras\n")


def test_from_checkpoint_loads_the_dry_run_folder(run, dry_run):
    folder, _ = dry_run
    expected = build_model(str(run / "model.keras")).predict(_pixels(), verbose=0)
    np.testing.assert_array_equal(keras_vit.from_checkpoint(str(folder)).predict(_pixels(), verbose=0), expected)


def test_a_pushed_folder_served_back_loads_by_handle(run, monkeypatch, tmp_path):
    import huggingface_hub

    uploads = []

    def upload_folder(self, repo_id, folder_path, revision=None, commit_message=None):
        files = {str(p.relative_to(folder_path)): p.read_bytes()
                 for p in pathlib.Path(folder_path).rglob("*") if p.is_file()}
        uploads.append((repo_id, commit_message, sorted(files)))
        server.add(repo_id, files)

    monkeypatch.setattr(huggingface_hub.HfApi, "create_repo", lambda self, repo_id, private, exist_ok: f"hub/{repo_id}")
    monkeypatch.setattr(huggingface_hub.HfApi, "upload_folder", upload_folder)
    with HubServer() as server, hub_client(monkeypatch, tmp_path, server.endpoint):
        url = publish.push(str(run / "model.keras"), "hf://me/digits-vit")
        loaded = build_model("hf://me/digits-vit")
    assert url == "hub/me/digits-vit"
    assert uploads == [("me/digits-vit", "Upload a keras_vit model with keras-vit push",
                        ["README.md", "classes.txt", "model.keras", "run.json"])]
    expected = build_model(str(run / "model.keras")).predict(_pixels(), verbose=0)
    np.testing.assert_array_equal(loaded.predict(_pixels(), verbose=0), expected)


@pytest.mark.parametrize("handle, message", [
    ("hf://me", "is not a Hugging Face handle"),
    ("kaggle://me/vit/keras/tiny/2", "Kaggle numbers the versions itself"),
    ("me/repo", "push publishes to hf://USER/REPO or kaggle://"),
])
def test_a_bad_destination_is_one_line(run, tmp_path, capsys, handle, message):
    assert main(["push", str(run / "model.keras"), handle, "--dry-run", str(tmp_path / "out")]) == 1
    error = capsys.readouterr().err
    assert message in error and len(error.strip().splitlines()) == 1, error


def _lay_out_hf_cache(hf_home, repo, folder, commit="0123456789abcdef0123456789abcdef01234567"):
    """The Hugging Face cache under `HF_HOME` as huggingface_hub lays it out, written by hand."""
    cached = hf_home / "hub" / f"models--{repo.replace('/', '--')}"
    (cached / "refs").mkdir(parents=True)
    (cached / "refs" / "main").write_text(commit)
    shutil.copytree(folder, cached / "snapshots" / commit)


def test_predict_takes_a_handle_from_a_hand_laid_cache_offline_with_its_class_names(run, dry_run, tmp_path):
    from PIL import Image

    folder, _ = dry_run
    _lay_out_hf_cache(tmp_path / "hf", "me/digits-vit", folder)
    Image.fromarray(np.full((16, 16, 3), 200, np.uint8)).save(tmp_path / "photo.png")
    offline = {"HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "1", "KERAS_HOME": str(tmp_path / "keras")}
    done = console("predict", tmp_path / "photo.png", "--model", "hf://me/digits-vit", "--top", "2", env=offline)
    assert done.returncode == 0, done.stderr
    expected = build_model(str(run / "model.keras")).predict(np.full((1, 16, 16, 3), 200, np.float32), verbose=0)
    best = int(np.argmax(expected[0]))
    assert done.stdout.splitlines()[1].split()[-1] == (run / "classes.txt").read_text().split()[best], done.stdout
    missing = console("predict", tmp_path / "photo.png", "--model", "hf://me/other", env=offline)
    assert missing.returncode == 1 and len(missing.stderr.strip().splitlines()) == 1, missing.stderr
    assert "hf://me/other is not in the Hugging Face cache" in missing.stderr and "HF_HUB_OFFLINE is set" in missing.stderr


def test_a_keras_hub_push_is_a_preset_keras_hub_loads_with_the_same_logits(tmp_path):
    import keras_hub

    model = keras_vit.ViT(image_size=16, patch_size=8, hidden_dim=8, num_layers=1, num_heads=2, mlp_dim=16,
                          num_classes=3, activation="gelu")
    rng = np.random.default_rng(2)
    for variable in model.weights:
        variable.assign(rng.normal(0, 0.3, tuple(variable.shape)).astype("float32"))
    model.save(tmp_path / "model.keras")
    (tmp_path / "classes.txt").write_text("cat\ndog\nfox\n")
    files = publish.write_folder(str(tmp_path / "model.keras"), str(tmp_path / "up"), "hf://me/tiny", "keras_hub")
    assert {"config.json", "model.weights.h5", "task.json", "task.weights.h5", "README.md", "classes.txt"} <= set(files)
    card = (tmp_path / "up" / "README.md").read_text()
    assert card.startswith("---\nlibrary_name: keras-hub\n") and 'ImageClassifier.from_preset("hf://me/tiny")' in card
    expected = model.predict(_pixels(), verbose=0)
    classifier = keras_hub.models.ImageClassifier.from_preset(str(tmp_path / "up"))
    np.testing.assert_allclose(classifier.predict_on_batch(_pixels()), expected, atol=1e-5)
    np.testing.assert_allclose(keras_vit.from_checkpoint(str(tmp_path / "up")).predict(_pixels(), verbose=0),
                               expected, atol=1e-5)



def test_a_kaggle_push_hands_kagglehub_the_whole_folder(run, monkeypatch):
    import kagglehub

    received = []

    def model_upload(handle, local_model_dir, version_notes=""):
        received.append((handle, sorted(p.name for p in pathlib.Path(local_model_dir).iterdir()), version_notes))

    monkeypatch.setattr(kagglehub, "model_upload", model_upload)
    url = publish.push(str(run / "model.keras"), "kaggle://me/digits-vit/keras/tiny", message="first")
    assert received == [("me/digits-vit/keras/tiny", ["README.md", "classes.txt", "model.keras", "run.json"], "first")]
    assert url == "https://www.kaggle.com/models/me/digits-vit"
