import numpy as np
import pytest
from PIL import Image

from keras_vit.cli import main
from keras_vit.cli.inspect import FIGURES
from keras_vit.models import build_model
from tests.inspect.tiny import randomize, tiny_model


def _photo(path, size=(50, 40)):
    pixels = np.random.default_rng(0).integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return str(path)


def test_writes_the_four_figures(tmp_path, capsys):
    model_path = str(tmp_path / "tiny.keras")
    randomize(tiny_model()).save(model_path)
    out = tmp_path / "figures"
    assert main(["inspect", _photo(tmp_path / "photo.jpg"), "--model", model_path, "--out", str(out)]) == 0
    sizes = {"rollout.png": (1000, 250), "attention_distance.png": (500, 400),
             "position_embedding_similarity.png": (650, 600), "embedding_filters.png": (700, 450)}
    assert set(sizes) == {*FIGURES, "position_embedding_similarity.png"}
    for name, size in sizes.items():
        with Image.open(out / name) as image:
            assert image.size == size, name
    assert capsys.readouterr().out.count("wrote ") == 4


def test_a_model_without_position_embedding_or_preprocessing(tmp_path, capsys):
    model_path = str(tmp_path / "gap.keras")
    tiny_model(image_size=(16, 24), pooling="gap", position_embedding="none",
               include_preprocessing=False).save(model_path)
    out = tmp_path / "figures"
    assert main(["inspect", _photo(tmp_path / "photo.png"), "--model", model_path, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "skipped position_embedding_similarity.png: `model` has no learned position embedding" in printed
    assert sorted(p.name for p in out.iterdir()) == ["attention_distance.png", "embedding_filters.png", "rollout.png"]


def test_variants_and_builders_by_name():
    # The builders validate their arguments before building, so the patch size in the
    # error shows which builder the name reached, without building a model.
    with pytest.raises(ValueError, match=r"divisible by patch_size=16. Received: image_size=\(32, 40\)"):
        build_model("Ti/16", image_size=(32, 40))
    with pytest.raises(ValueError, match=r"divisible by patch_size=32. Received: image_size=\(48, 48\)"):
        build_model("ViTS32", image_size=48)


def test_bad_arguments_are_reported(tmp_path, capsys):
    model_path = str(tmp_path / "tiny.keras")
    tiny_model(num_layers=1).save(model_path)
    (tmp_path / "notes.txt").write_text("not an image")
    photo = _photo(tmp_path / "photo.png")
    for image, arguments, message in [
        (photo, ["--model", "Q/16"], "`model` must be a `.keras` file or one of"),
        (photo, ["--model", model_path, "--image-size", "64"], "fixes its own architecture; builder arguments apply to names only"),
        (photo, ["--model", "B/16", "--image-size", "1", "2", "3"], "--image-size takes N or HEIGHT WIDTH"),
        # The image is read before the model is built: its error comes first.
        (str(tmp_path / "notes.txt"), ["--model", "Q/16"], "cannot identify image file"),
    ]:
        assert main(["inspect", image, *arguments]) == 1
        assert message in capsys.readouterr().err


def test_relative_attention_gets_its_bias_by_offset(tmp_path, capsys):
    model_path = str(tmp_path / "relative.keras")
    randomize(tiny_model(position_embedding="relative")).save(model_path)
    out = tmp_path / "figures"
    assert main(["inspect", _photo(tmp_path / "photo.png"), "--model", model_path, "--out", str(out)]) == 0
    assert "wrote " + str(out / "relative_position_bias.png") in capsys.readouterr().out
    with Image.open(out / "relative_position_bias.png") as image:
        assert image.size == (500, 400)
    assert not (out / "position_embedding_similarity.png").exists()


def test_the_console_script_inspects_a_model_compiled_by_train(tmp_path):
    # `train` saves its model compiled: the file names keras_vit's learning-rate
    # schedule, which the script's lazy import of keras_vit had not registered.
    from keras_vit.training import finetune_optimizer
    from tests.cli.console import keras_vit

    model = tiny_model(num_layers=1)
    model.compile(optimizer=finetune_optimizer(steps=10), loss="categorical_crossentropy")
    model.save(tmp_path / "model.keras")
    out = tmp_path / "figures"
    done = keras_vit("inspect", _photo(tmp_path / "photo.png"), "--model", tmp_path / "model.keras", "--out", out)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("wrote ") == 4
    assert done.stderr == f"keras-vit inspect: {model.name} on {tmp_path / 'photo.png'}, figures into {out}\n"
