import ast
import pathlib
import sys

import numpy as np
import pytest
from PIL import Image

import keras_vit
from keras_vit import inspect

RNG = np.random.default_rng(0)

FIGURES = {
    # name: (function, arguments, expected PNG size at dpi 100)
    "attention": (
        inspect.plot_attention,
        (RNG.uniform(0, 255, (32, 48, 3)), RNG.uniform(size=(3, 32, 48))),
        (1000, 250),  # image + 3 maps in one row of 2.5-inch panels
    ),
    "distance": (inspect.plot_attention_distance, (RNG.uniform(0, 40, (12, 16)),), (500, 400)),
    "similarity": (inspect.plot_position_embedding_similarity, (RNG.uniform(-1, 1, (3, 4, 3, 4)),), (650, 600)),
    "filters": (inspect.plot_embedding_filters, (RNG.normal(size=(28, 16, 16, 3)),), (700, 450)),
}


def test_pngs_of_the_expected_size_without_a_display(tmp_path, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    for name, (function, arguments, size) in FIGURES.items():
        path = tmp_path / f"{name}.png"
        figure = function(*arguments, path=str(path))
        with Image.open(path) as image:
            assert image.format == "PNG" and image.size == size, name
            assert len(np.unique(np.asarray(image.convert("L")))) > 2, name   # something was drawn
        assert tuple(figure.get_size_inches() * figure.dpi) == size, name


def test_dpi_scales_the_png_and_panels_wrap(tmp_path):
    path = tmp_path / "heads.png"
    maps = RNG.uniform(size=(13, 16, 16))
    inspect.plot_attention(np.zeros((16, 16, 3)), maps, mode="heatmap", columns=7, dpi=40, path=str(path))
    with Image.open(path) as image:
        assert image.size == (7 * 100, 2 * 100)   # 14 panels of 2.5 inches in 2 rows, 40 dpi
    filters = inspect.plot_embedding_filters(RNG.normal(size=(5, 7, 7, 1)), dpi=20)
    assert tuple(filters.get_size_inches()) == (5, 1.5)


def test_bad_arrays_are_refused():
    with pytest.raises(ValueError, match=r"maps.shape=\(2, 16, 20\)"):
        inspect.plot_attention(np.zeros((16, 16, 3)), np.zeros((2, 16, 20)))
    with pytest.raises(ValueError, match="mode"):
        inspect.plot_attention(np.zeros((16, 16, 3)), np.zeros((16, 16)), mode="blend")
    with pytest.raises(ValueError, match=r"3 \(RGB\) or 1.*filters.shape=\(4, 5, 5, 2\)"):
        inspect.plot_embedding_filters(np.zeros((4, 5, 5, 2)))
    with pytest.raises(ValueError, match=r"similarity.shape=\(3, 4, 4, 3\)"):
        inspect.plot_position_embedding_similarity(np.zeros((3, 4, 4, 3)))


def test_a_missing_matplotlib_says_how_to_get_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r'pip install "keras-vit-zoo\[plot\]"'):
        inspect.plot_attention_distance(np.ones((2, 2)))


def test_no_module_imports_matplotlib_when_loaded():
    for path in pathlib.Path(keras_vit.__file__).parent.rglob("*.py"):
        for node in ast.parse(path.read_text()).body:
            names = [alias.name for alias in getattr(node, "names", [])] + [getattr(node, "module", None) or ""]
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                assert not any(name.split(".")[0] == "matplotlib" for name in names), path
