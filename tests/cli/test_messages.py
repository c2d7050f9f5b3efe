"""What the `keras-vit` script says when a model, a size or a download is not what it needs."""

import urllib.request

import numpy as np
import pytest
from PIL import Image

import keras_vit
from keras_vit.cli import main
from keras_vit.weights import download, registry
from keras_vit.weights.reader import read_checkpoint
from tests.cli.console import keras_vit as run_script


def _photo(path, size=100):
    Image.fromarray(np.zeros((size, size, 3), np.uint8)).save(path)
    return path


@pytest.mark.backend_independent(reason="the file is refused by its suffix before a framework loads")
def test_inspect_refuses_an_exported_file_as_such(tmp_path):
    (tmp_path / "vit.tflite").write_bytes(b"TFL3")
    done = run_script("inspect", _photo(tmp_path / "photo.png"), "--model", tmp_path / "vit.tflite")
    assert done.returncode == 1
    assert done.stderr == (
        "keras-vit inspect: This command needs a Keras model: a .keras file, or a variant name such as B/16 "
        f"with --weights for a checkpoint. {tmp_path / 'vit.tflite'} is an exported model (keras-vit predict "
        "runs those).\n"
    )


@pytest.mark.backend_independent(reason="the name is refused before a model is built")
def test_an_unknown_model_name_gets_the_error_alone(tmp_path):
    done = run_script("inspect", _photo(tmp_path / "photo.png"), "--model", "B/61")
    assert done.returncode == 1
    assert done.stderr.startswith("keras-vit inspect: `model` must be a `.keras` file or one of Ti/16, ")
    assert len(done.stderr.splitlines()) == 1 and "random weights" not in done.stderr


def test_a_new_head_is_announced(tmp_path):
    tiny = dict(image_size=16, patch_size=8, hidden_dim=16, num_layers=1, num_heads=2, mlp_dim=16)
    keras_vit.ViT(num_classes=5, **tiny).save(tmp_path / "five.keras")
    keras_vit.ViT(num_classes=7, **tiny).save_weights(tmp_path / "seven.weights.h5")
    done = run_script("predict", _photo(tmp_path / "photo.png"), "--model", tmp_path / "five.keras",
                      "--weights", tmp_path / "seven.weights.h5", "--top", "1")
    assert done.returncode == 0, done.stderr
    assert "note: new zero-initialised head for 5 classes (the checkpoint's: 7 classes)\n" in done.stderr


def test_an_image_size_the_patches_do_not_divide_says_the_default(tmp_path, capsys):
    assert main(["predict", str(_photo(tmp_path / "photo.png")), "--model", "B/16", "--image-size", "100"]) == 1
    assert capsys.readouterr().err == (
        "keras-vit predict: `image_size` height must be divisible by patch_size=16. Received: image_size=(100, 100) "
        "(--image-size). Without --image-size, B/16 takes 224x224 images, or its --weights' size; image files "
        "of any size are resized to it.\n"
    )


@pytest.mark.backend_independent(reason="download and format errors are raised before a model is built")
def test_an_offline_download_shows_the_flag_and_format_lists_are_whole(monkeypatch, tmp_path):
    entry = registry.get("Ti/16", registry.names("Ti/16")[0])

    def offline(*args, **kwargs):
        raise OSError("no network")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(OSError, match=rf"\(keras-vit: --weights /path/to/{entry.filename}\)"):
        download.fetch(entry, cache_dir=str(tmp_path))
    with pytest.raises(ValueError, match=r"\.weights\.h5 or \.keras\)"):
        registry.get("Ti/16", "no-such-weights")
    (tmp_path / "notes.txt").write_text("")
    with pytest.raises(ValueError, match=r"a keras_vit \.weights\.h5 or \.keras file"):
        read_checkpoint(str(tmp_path / "notes.txt"))
