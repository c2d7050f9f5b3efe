"""A backend Keras cannot start on, named in one line by the installed `keras-vit` script."""

import importlib.util

import pytest

from keras_vit.cli import backend
from tests.cli.console import keras_vit

pytestmark = pytest.mark.backend_independent(reason="each process sets or hides its backend itself")


def _installed(hidden=()):
    return [name for name in ("jax", "tensorflow", "torch") if name not in hidden and importlib.util.find_spec(name)]


@pytest.mark.parametrize("name", ["pytorch", "tf"])
def test_an_unknown_backend_gets_one_line_naming_the_valid_and_installed_ones(name, tmp_path):
    done = keras_vit("demo", "--out", tmp_path / "demo", env={"KERAS_BACKEND": name})
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == (
        f"keras-vit demo: KERAS_BACKEND={name} is not a Keras backend keras_vit runs on: set KERAS_BACKEND to "
        f"jax, tensorflow or torch (installed: {', '.join(_installed())}).\n"
    )
    assert not (tmp_path / "demo").exists()


def test_without_a_setting_or_tensorflow_the_message_names_a_backend_to_pick(tmp_path):
    # An empty KERAS_HOME: no keras.json, so Keras would default to TensorFlow.
    env = {"KERAS_BACKEND": None, "KERAS_HOME": str(tmp_path)}
    done = keras_vit("predict", "x.png", "--model", "B/16", hide=("tensorflow",), env=env)
    installed = _installed(hidden=("tensorflow",))
    assert done.returncode == 1 and len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.startswith(
        "keras-vit predict: Keras runs on TensorFlow unless KERAS_BACKEND names another backend, and TensorFlow "
        f"is not installed: set KERAS_BACKEND to an installed one ({', '.join(installed)}), e.g. "
        f"KERAS_BACKEND={installed[0]} keras-vit predict"
    )


def test_training_without_tensorflow_says_tf_data_needs_it(tmp_path):
    done = keras_vit("demo", "--out", tmp_path / "demo", hide=("tensorflow",), env={"KERAS_BACKEND": "jax"})
    assert done.returncode == 1
    assert done.stderr == (
        "keras-vit demo: the module 'tensorflow' (for the tf.data input pipelines, on every backend) is not "
        'installed; it comes with the \'tensorflow-cpu\' extra: pip install "keras-vit-zoo[tensorflow-cpu]"\n'
    )


def test_the_keras_config_file_names_the_backend_when_the_variable_does_not(tmp_path, monkeypatch):
    (tmp_path / "keras.json").write_text('{"backend": "pytorch"}')
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    assert backend.chosen_backend() == ("pytorch", f'"backend": "pytorch" in {tmp_path / "keras.json"}')
    with pytest.raises(ValueError, match=r'^"backend": "pytorch" in .* is not a Keras backend keras_vit runs on'):
        backend.check_backend("predict")
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    assert backend.chosen_backend() == ("jax", "KERAS_BACKEND=jax")
