"""`keras-vit predict` on a saved model runs it without compiling it: a model
compiled with `jit_compile=True` (as `keras-vit train` and `demo` compile on
JAX) saves that in its compile config, and under the torch backend it sent a
handful of images through TorchDynamo (tens of seconds, and its warnings)."""

import zipfile

import keras
import numpy as np
import pytest
from PIL import Image

import keras_vit
from keras_vit.models import build_model
from tests.cli.console import keras_vit as run_script

TINY = dict(image_size=16, patch_size=8, hidden_dim=16, num_layers=1, num_heads=2, mlp_dim=16)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A tiny ViT compiled with `jit_compile=True` and saved, and a photo, written once."""
    folder = tmp_path_factory.mktemp("compiled")
    model = keras_vit.ViT(num_classes=5, **TINY)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", jit_compile=True)
    model.save(folder / "jit.keras")
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(folder / "photo.png")
    return folder


@pytest.mark.backend_independent(reason="the model is saved here and predicted under KERAS_BACKEND=torch")
def test_a_model_compiled_with_jit_compile_predicts_under_torch_without_dynamo(folder):
    path = folder / "jit.keras"
    with zipfile.ZipFile(path) as archive:
        assert '"jit_compile": true' in archive.read("config.json").decode()
    done = run_script("predict", folder / "photo.png", "--model", path, "--top", "1", env={"KERAS_BACKEND": "torch"})
    assert done.returncode == 0, done.stderr
    assert "dynamo" not in done.stderr and done.stderr == f"keras-vit predict: 1 image(s) with {path}\n"
    assert done.stdout.splitlines()[0] == str(folder / "photo.png")


def test_a_saved_model_is_built_uncompiled(folder):
    assert keras.saving.load_model(folder / "jit.keras").compiled  # what Keras itself restores
    loaded = build_model(str(folder / "jit.keras"))
    assert isinstance(loaded, keras_vit.models.VisionTransformer)
    assert not loaded.compiled and getattr(loaded, "optimizer", None) is None
