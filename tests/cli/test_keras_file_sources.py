"""What `keras-vit convert` and `--model` take: a keras_vit `.keras` file converts
like a checkpoint, and a checkpoint given as a model is pointed to `--weights`."""

import keras
import numpy as np
import pytest

import keras_vit
from keras_vit.cli import main
from tests.cli.console import keras_vit as run_script
from tests.cli.tiny_sources import TINY, assert_one_line, write_sources


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return write_sources(tmp_path_factory.mktemp("sources"))


def _predict_error(path, capsys, folder):
    """The stderr lines of `keras-vit predict` on one photo with `--model PATH`, run in this process."""
    assert main(["predict", str(folder / "photo.png"), "--model", path]) == 1
    return capsys.readouterr().err.splitlines()


def test_convert_reads_a_keras_file_into_weights_or_a_resized_model(folder, tmp_path):
    done = run_script("convert", folder / "vit.keras", tmp_path / "vit.weights.h5")
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert done.stdout == (
        f"{folder / 'vit.keras'} -> {tmp_path / 'vit.weights.h5'}: 4,997 parameters, input (None, 16, 16, 3)\n"
    )
    saved = keras.saving.load_model(folder / "vit.keras")
    images = np.random.default_rng(0).uniform(0, 255, (2, 16, 16, 3)).astype("float32")
    converted = keras_vit.ViT(num_classes=5, weights=str(tmp_path / "vit.weights.h5"), **TINY)
    np.testing.assert_allclose(converted.predict(images, verbose=0), saved.predict(images, verbose=0), atol=1e-6)

    done = run_script(
        "convert", folder / "vit.keras", tmp_path / "big.keras", "--image-size", "32", "--num-classes", "3"
    )
    assert done.returncode == 0, done.stderr
    assert "position_embedding" in done.stderr or "pos_embedding" in done.stderr, done.stderr
    assert "new zero-initialised head for 3 classes (the checkpoint's: 5 classes)" in done.stderr
    big = keras.saving.load_model(tmp_path / "big.keras")
    assert (big.input_shape, big.output_shape, big.name) == ((None, 32, 32, 3), (None, 3), saved.name)
    assert big.vit_config == saved.vit_config.replace(image_size=(32, 32), num_classes=3)
    np.testing.assert_array_equal(big.get_layer("encoderblock_0").get_weights()[0],
                                  saved.get_layer("encoderblock_0").get_weights()[0])


def test_convert_refuses_what_no_conversion_reads(folder, tmp_path, capsys):
    assert main(["convert", str(folder / "vit.keras"), str(tmp_path / "out.keras"), "--num-heads", "4"]) == 1
    assert capsys.readouterr().err == (
        f"keras-vit convert: --num-heads is for timm files, whose fused kernels hide the heads; "
        f"{folder / 'vit.keras'} is a .keras file, which states its own. Received: --num-heads 4\n"
    )
    assert main(["convert", str(folder / "vit.weights.h5"), str(tmp_path / "out.keras")]) == 1
    assert capsys.readouterr().err.startswith(
        f"keras-vit convert: {folder / 'vit.weights.h5'} holds weights without their architecture"
    )
    with pytest.raises(ValueError, match=r"vit\.weights\.h5 holds weights without the architecture they belong to"):
        keras_vit.from_checkpoint(str(folder / "vit.weights.h5"))
    with pytest.raises(ValueError, match=r"overrides must be fields of keras_vit.models.ViTConfig .* Received: colour="):
        keras_vit.from_checkpoint(str(folder / "vit.keras"), colour=1)
    assert not (tmp_path / "out.keras").exists()


@pytest.mark.backend_independent(reason="the file is refused by its suffix before a model is built")
def test_predict_says_a_checkpoint_goes_through_weights(folder):
    path = folder / "vit.npz"
    done = run_script("predict", folder / "photo.png", "--model", path)
    assert_one_line(
        done, "predict",
        r"{path} is a checkpoint, not a model: --model takes a \.keras file, an exported model \(\.tflite, \.onnx, "
        r"OpenVINO \.xml, \.pt2, or a SavedModel folder\) or a variant name such as B/16\. Pass a checkpoint as "
        r"--weights with the variant of its size \(--model B/16 --weights {path}\), or make a \.keras file of it "
        r"first \(keras-vit convert {path} model\.keras\)\.",
        path,
    )


def test_model_flags_name_the_keras_file_among_what_they_take(folder, tmp_path, capsys):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a model")
    assert _predict_error(str(notes), capsys, folder) == [
        f"keras-vit predict: {notes} is not a model keras-vit predict runs: --model takes a .keras file, an "
        "exported model (.tflite, .onnx, OpenVINO .xml, .pt2, or a SavedModel folder) or a variant name such as B/16."
    ]
    weights = str(folder / "vit.weights.h5")
    assert _predict_error(weights, capsys, folder)[0].endswith(
        f"or with the .keras file it was saved from (--model model.keras --weights {weights})."
    )
    assert main(["inspect", str(folder / "photo.png"), "--model", str(folder / "vit.npz")]) == 1
    assert capsys.readouterr().err.startswith(
        f"keras-vit inspect: {folder / 'vit.npz'} is a checkpoint, not a model: --model takes a .keras file or a "
        "variant name such as B/16. Pass a checkpoint as --weights"
    )
