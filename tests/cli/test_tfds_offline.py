"""`keras-vit train --data tfds:NAME` without the data set or a way to download it fails at once."""

import time

import pytest

from tests.cli.console import keras_vit

pytestmark = pytest.mark.backend_independent(reason="tensorflow-datasets fails before a model is built")


def test_an_unreachable_download_fails_within_seconds_naming_set_and_folder(tmp_path):
    start = time.monotonic()
    done = keras_vit(
        "train", "--data", "tfds:unreachable_shapes", "--data-dir", tmp_path / "tfds", "--out", tmp_path / "run",
        imports=("tests.data.tiny_tfds",), timeout=120,
    )
    # Startup included (Keras and TensorFlow load in seconds); tensorflow-datasets' own retries took minutes.
    assert time.monotonic() - start < 60
    assert done.returncode == 1
    last = done.stderr.splitlines()[-1]
    assert last.startswith(
        f"keras-vit train: tensorflow-datasets 'unreachable_shapes' is not in {tmp_path / 'tfds'} (data_dir, "
        "--data-dir) and cannot be downloaded: keras-vit-test.invalid is unreachable"
    ), done.stderr
