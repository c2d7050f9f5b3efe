"""Through the installed `keras-vit` script: every missing package a command needs is named at once,
before any slow work, and a command that fails leaves no empty output folder behind."""

import numpy as np
import pytest
from PIL import Image

import keras_vit
from tests.cli.console import keras_vit as run_script

TINY = dict(image_size=16, patch_size=8, hidden_dim=16, num_layers=1, num_heads=2, mlp_dim=16)
HINT = 'pip install "keras-vit-zoo'


def _photo(path):
    Image.fromarray(np.full((20, 20, 3), 90, np.uint8)).save(path)
    return path


@pytest.mark.backend_independent(reason="the process sets its own backend; nothing runs on it")
def test_demo_names_every_missing_package_at_once(tmp_path):
    done = run_script("demo", "--out", tmp_path / "demo", hide=("tensorflow", "sklearn"),
                      env={"KERAS_BACKEND": "torch"})
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == (
        "keras-vit demo: the modules 'tensorflow' (for the tf.data input pipelines, on every backend) and "
        "'sklearn' (for the bundled digits) are not installed; they come with the 'tensorflow-cpu' and 'data' "
        f'extras: {HINT}[tensorflow-cpu,data]"\n'
    )


@pytest.mark.backend_independent(reason="refused before a model is built")
def test_inspect_names_matplotlib_before_building_the_model(tmp_path):
    done = run_script("inspect", _photo(tmp_path / "photo.png"), "--model", "B/16", "--out", tmp_path / "figures",
                     hide=("matplotlib",))
    assert done.returncode == 1
    # No "random weights" note: the model was not built.
    assert done.stderr == (
        "keras-vit inspect: the module 'matplotlib' (for the figures) is not installed; it comes with the "
        f"'plot' extra: {HINT}[plot]\"\n"
    )
    assert not (tmp_path / "figures").exists()


@pytest.mark.backend_independent(reason="refused before a model is built")
def test_inspect_names_a_missing_image_before_building_the_model(tmp_path):
    done = run_script("inspect", tmp_path / "nowhere.png", "--model", "B/16", "--out", tmp_path / "figures")
    assert done.returncode == 1
    assert done.stderr == f"keras-vit inspect: No such image file: {tmp_path / 'nowhere.png'}\n"
    assert not (tmp_path / "figures").exists()


@pytest.mark.backend_independent(reason="refused before a model is built")
def test_int8_export_without_calibration_images_names_the_flag_at_once(tmp_path):
    done = run_script("export", "B/16", "--format", "openvino", "--precision", "int8", "-o", tmp_path / "vit.xml")
    assert done.returncode == 1
    assert done.stderr == (
        "keras-vit export: --precision int8 calibrates its activation ranges on images like the ones the model "
        "will see: pass them with --calibration-images (files or folders; a few hundred is typical).\n"
    )


@pytest.mark.backend_independent(reason="refused before a model is built")
def test_calibration_images_without_int8_are_refused(tmp_path):
    done = run_script("export", "B/16", "--format", "onnx", "--calibration-images", tmp_path,
                      "-o", tmp_path / "vit.onnx")
    assert done.returncode == 1
    assert done.stderr == (
        "keras-vit export: --calibration-images apply to --precision int8 only. Received: --precision float32\n"
    )


@pytest.mark.backend_independent(reason="the process sets its own backend: JAX, whose ONNX converter is apart")
def test_onnx_from_jax_without_jax2onnx_names_the_export_jax_extra(tmp_path):
    done = run_script("export", "B/16", "--format", "onnx", "-o", tmp_path / "vit.onnx", hide=("jax2onnx",),
                     env={"KERAS_BACKEND": "jax"})
    assert done.returncode == 1
    assert done.stderr == (
        "keras-vit export: ONNX export from the jax backend: the module 'jax2onnx' is not installed; it comes "
        f"with the 'export-jax' extra: {HINT}[export-jax]\"\n"
    )


@pytest.mark.backend_independent(reason="the processes set their own backends")
def test_litert_from_jax_and_torch_says_the_same_thing(tmp_path):
    said = {}
    for backend in ("jax", "torch"):
        done = run_script("export", "B/16", "--format", "litert", "-o", tmp_path / "vit.tflite",
                         env={"KERAS_BACKEND": backend})
        assert done.returncode == 1 and len(done.stderr.splitlines()) == 1, done.stderr
        said[backend] = done.stderr.replace(f"from the {backend} backend", "from the BACKEND backend")
    assert said["jax"] == said["torch"] == (
        "keras-vit export: Cannot export to litert from the BACKEND backend: LiteRT files are written from the "
        "TensorFlow backend (TensorFlow's converter); JAX has no LiteRT converter, and Keras' torch route needs "
        "the litert-torch package, whose requirements conflict with the versions keras_vit is tested with. "
        "Export from the tensorflow backend instead: set KERAS_BACKEND=tensorflow before importing Keras, and "
        "load the model there (from its .keras file).\n"
    )


def test_a_training_run_that_fails_on_its_model_leaves_no_folder(tmp_path):
    done = run_script("train", "--model", "Ti/16", "--image-size", "100", "--epochs", "1", "--out", tmp_path / "run")
    assert done.returncode == 1
    assert done.stderr == (
        "keras-vit train: `image_size` height must be divisible by patch_size=16. Received: image_size=(100, 100) "
        "(--image-size). Without --image-size, Ti/16 trains at 224x224 images, or its --weights' size; the "
        "training images are resized to it.\n"
    )
    assert not (tmp_path / "run").exists()


def test_predict_and_export_take_folders_of_class_folders(tmp_path):
    """An image folder laid out for training (a sub-folder per class) gives its images to predict and,
    recursively, as calibration images."""
    keras_vit.ViT(num_classes=3, **TINY).save(tmp_path / "tiny.keras")
    for name in ("cat", "dog"):
        (tmp_path / "val" / name).mkdir(parents=True)
        _photo(tmp_path / "val" / name / "1.png")
    done = run_script("predict", tmp_path / "val", "--model", tmp_path / "tiny.keras", "--top", "1")
    assert done.returncode == 0, done.stderr
    assert [line for line in done.stdout.splitlines() if not line.startswith(" ")] == [
        str(tmp_path / "val" / "cat" / "1.png"), str(tmp_path / "val" / "dog" / "1.png")
    ]


@pytest.mark.backend_independent(reason="the process exports from TensorFlow, which writes OpenVINO directly")
def test_int8_calibration_reads_a_folder_of_class_folders(tmp_path):
    keras_vit.ViT(num_classes=3, **TINY).save(tmp_path / "tiny.keras")
    for name in ("cat", "dog"):
        (tmp_path / "val" / name).mkdir(parents=True)
        for index in range(2):
            _photo(tmp_path / "val" / name / f"{index}.png")
    done = run_script("export", tmp_path / "tiny.keras", "--format", "openvino", "--precision", "int8",
                      "--calibration-images", tmp_path / "val", "-o", tmp_path / "tiny.xml",
                      env={"KERAS_BACKEND": "tensorflow"})
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "tiny.xml").is_file()


@pytest.mark.backend_independent(reason="the file name is refused before anything is written")
def test_a_file_name_of_another_format_names_the_format_as_written(tmp_path):
    keras_vit.ViT(num_classes=3, **TINY).save(tmp_path / "tiny.keras")
    done = run_script("export", tmp_path / "tiny.keras", "--format", "openvino", "-o", tmp_path / "tiny.onnx")
    assert done.returncode == 1
    assert done.stderr.endswith(
        f"keras-vit export: An OpenVINO file must end in .xml. Received: path='{tmp_path / 'tiny.onnx'}'\n"
    ), done.stderr
