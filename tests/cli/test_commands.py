import json
import subprocess
import sys

import numpy as np
import pytest

import keras_vit
from keras_vit.cli import main
from tests.weights.original import images, original_arrays, original_forward


def test_convert_to_weights_file_and_load_it_back(tmp_path, capsys):
    arrays = original_arrays()
    source = str(tmp_path / "ckpt.npz")
    np.savez(source, **arrays)
    dest = str(tmp_path / "vit.weights.h5")
    assert main(["convert", source, dest]) == 0
    assert "-> " + dest in capsys.readouterr().out
    model = keras_vit.ViT(image_size=32, patch_size=8, hidden_dim=16, num_layers=2, num_heads=4, mlp_dim=24,
                          num_classes=7, weights=dest)
    batch = images()
    np.testing.assert_allclose(model.predict(batch, verbose=0), original_forward(arrays, batch), atol=1e-4)
    assert main(["convert", source, dest]) == 1
    assert "exists; pass --overwrite" in capsys.readouterr().err
    assert main(["convert", source, dest, "--overwrite", "--image-size", "48"]) == 0
    at_48 = keras_vit.ViT(image_size=48, patch_size=8, hidden_dim=16, num_layers=2, num_heads=4, mlp_dim=24,
                          num_classes=7, weights=dest)
    assert at_48.get_layer("pos_embedding").grid_size == (6, 6)
    batch = images(size=48)
    expected = keras_vit.from_checkpoint(source, image_size=48).predict(batch, verbose=0)
    np.testing.assert_allclose(at_48.predict(batch, verbose=0), expected, atol=1e-5)


def test_convert_refuses_other_destinations(tmp_path, capsys):
    assert main(["convert", str(tmp_path / "x.npz"), str(tmp_path / "out.h5")]) == 1
    assert "DEST must end in .weights.h5 or .keras" in capsys.readouterr().err


def test_weights_list(capsys):
    assert main(["weights", "list", "--variant", "H/14"]) == 0
    out = capsys.readouterr().out
    assert "imagenet21k/ViT-H_14.npz" in out and "B_16" not in out
    assert main(["weights", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == keras_vit.weights.manifest()


@pytest.mark.parametrize("arguments", [["--help"], ["weights", "list"]], ids=["help", "weights_list"])
def test_commands_that_need_no_model_load_neither_keras_nor_a_backend(arguments):
    code = (
        "import sys, keras_vit.cli\n"
        f"try:\n    code = keras_vit.cli.main({arguments!r})\nexcept SystemExit as stop:\n    code = stop.code\n"
        "assert not code, code\n"
        "print([name for name in ('keras', 'tensorflow', 'jax', 'torch') if name in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines()[-1] == "[]", done.stdout
    assert done.stderr == ""
