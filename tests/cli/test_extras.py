"""Optional modules: the installed `keras-vit` script names the extra that brings a missing one."""

import importlib.metadata
import re
import tomllib
from pathlib import Path

import pytest

from keras_vit.utils.install import DISTRIBUTION, EXTRAS
from tests.cli.console import keras_vit

pytestmark = pytest.mark.backend_independent(reason="the missing module is named before any backend runs")

PYPROJECT = Path(__file__).parents[2] / "pyproject.toml"


def test_the_distribution_name_and_extras_are_pyprojects():
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    assert project["name"] == DISTRIBUTION
    extras = project["optional-dependencies"]
    distributions = importlib.metadata.packages_distributions()
    for module, extra in EXTRAS.items():
        required = {_normalized(re.split(r"[<>=\[ ]", requirement)[0]) for requirement in extras[extra]}
        # Every installed module the table names is brought by a package its extra requires.
        providers = {_normalized(name) for name in distributions.get(module, ())}
        assert not providers or providers & required, (module, extra, providers)
    for extra in ("export-jax", "dev"):
        assert all(not r.startswith("keras-vit[") for r in extras[extra]), "self-references use the new name"


def _normalized(distribution):
    return re.sub(r"[-_.]+", "-", distribution).lower()


def test_demo_without_scikit_learn_names_the_data_extra(tmp_path):
    done = keras_vit("demo", "--epochs", "1", "--out", tmp_path / "demo", hide=("sklearn",))
    assert done.returncode == 1
    assert done.stderr.endswith(
        "keras-vit demo: the module 'sklearn' (for the bundled digits) is not installed; it comes with the "
        "'data' extra: "
        f'pip install "{DISTRIBUTION}[data]"\n'
    ), done.stderr


def test_predict_without_pillow_names_the_data_extra(tmp_path):
    done = keras_vit("predict", tmp_path / "photo.png", "--model", "B/16", hide=("PIL",))
    assert done.returncode == 1
    assert done.stderr == (
        "keras-vit predict: the module 'PIL' (for reading images) is not installed; it comes with the 'data' "
        "extra: "
        f'pip install "{DISTRIBUTION}[data]"\n'
    )
