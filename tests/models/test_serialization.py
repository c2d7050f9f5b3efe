"""`.keras` files load under safe_mode, and across backends with the same outputs."""

import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

import keras_vit

TINY = dict(image_size=(16, 24), patch_size=8, hidden_dim=16, num_layers=2, num_heads=2, mlp_dim=24, num_classes=5)
BACKENDS = ("jax", "tensorflow", "torch")

# The default model, and the position embeddings that are not a plain table.
POSITIONS = {
    "learned_1d": {},
    "learned_2d_shared": dict(position_embedding="learned_2d", position_embedding_placement="every_layer_shared"),
    "relative": dict(position_embedding="relative"),
}

SAVE_SCRIPT = """
import keras, numpy as np, keras_vit
keras.utils.set_random_seed(0)
for name, position in {positions!r}.items():
    model = keras_vit.ViT(**{tiny!r}, **position, representation_size=8, classifier_activation="softmax")
    rng = np.random.default_rng(0)
    for variable in model.weights:
        variable.assign(rng.normal(scale=0.3, size=variable.shape).astype("float32"))
    images = rng.uniform(0, 255, size=(3, 16, 24, 3)).astype("float32")
    path = {path!r} + name + ".keras"
    model.save(path)
    np.save(path + ".images.npy", images)
    np.save(path + ".outputs.npy", model.predict(images, verbose=0))
"""


def test_keras_round_trip_with_safe_mode(tmp_path):
    model = keras_vit.ViT(**TINY, pooling="gap", dropout_rate=0.1)
    path = str(tmp_path / "vit.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    images = np.random.default_rng(0).uniform(0, 255, size=(2, 16, 24, 3)).astype("float32")
    np.testing.assert_array_equal(loaded.predict(images, verbose=0), model.predict(images, verbose=0))
    assert loaded.get_layer("encoderblock_1").get_config() == model.get_layer("encoderblock_1").get_config()


# When tests/run_all_backends.sh runs all three backends, each saves once and loads once:
# jax -> tensorflow -> torch -> jax. Any other run checks every other backend's file.
SAVED_UNDER = {"tensorflow": "jax", "torch": "tensorflow", "jax": "torch"}


@pytest.mark.parametrize("source", BACKENDS)
def test_file_saved_under_another_backend_loads_with_the_same_outputs(tmp_path, source):
    loader = keras.backend.backend()
    if source == loader:
        pytest.skip("this backend is the loading side; the other two save")
    if set(os.environ.get("KERAS_VIT_RUN_BACKENDS", "").split()) == set(BACKENDS) and SAVED_UNDER[loader] != source:
        pytest.skip(
            f"run_all_backends.sh loads each backend's file in one other run: {SAVED_UNDER[loader]}'s here, "
            f"{source}'s under KERAS_BACKEND={next(k for k, v in SAVED_UNDER.items() if v == source)}"
        )
    prefix = str(tmp_path / f"from_{source}_")
    script = textwrap.dedent(SAVE_SCRIPT).format(tiny=TINY, path=prefix, positions=POSITIONS)
    environment = {**os.environ, "KERAS_BACKEND": source}
    subprocess.run([sys.executable, "-c", script], env=environment, check=True, capture_output=True)
    for name in POSITIONS:
        path = prefix + name + ".keras"
        loaded = keras.saving.load_model(path, safe_mode=True)
        images = np.load(path + ".images.npy")
        outputs = loaded.predict(images, verbose=0)
        np.testing.assert_allclose(outputs, np.load(path + ".outputs.npy"), atol=1e-5, err_msg=name)
