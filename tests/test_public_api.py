"""The public API: every package says what it exports (`__all__`), every exported class,
function and module has a docstring, and the API reference renders every package."""

import importlib
import inspect
import pathlib
import pkgutil

import pytest

import keras_vit

pytestmark = pytest.mark.backend_independent(reason="names and docstrings, the same on every backend")

PACKAGE = pathlib.Path(keras_vit.__file__).parent
# Folders that hold data, not code.
NOT_CODE = {"classes"}
SUBPACKAGES = sorted(
    info.name for info in pkgutil.iter_modules([str(PACKAGE)]) if info.ispkg and info.name not in NOT_CODE
)
PACKAGES = ["keras_vit", *(f"keras_vit.{name}" for name in SUBPACKAGES)]


def _exported(package):
    module = importlib.import_module(package)
    return {name: getattr(module, name) for name in module.__all__}


@pytest.mark.parametrize("package", PACKAGES)
def test_every_package_lists_its_public_names(package):
    module = importlib.import_module(package)
    assert isinstance(getattr(module, "__all__", None), (list, tuple)), f"{package} has no __all__"
    assert len(set(module.__all__)) == len(module.__all__) and _exported(package)


@pytest.mark.parametrize("package", PACKAGES)
def test_every_public_class_function_and_module_has_a_docstring(package):
    missing = [
        name
        for name, value in _exported(package).items()
        if (inspect.isclass(value) or inspect.isfunction(value) or inspect.ismodule(value))
        and not (inspect.getdoc(value) or "").strip()
    ]
    assert not missing, f"{package}: {missing}"


def test_the_api_reference_renders_every_package():
    reference = (PACKAGE.parent / "docs" / "api.md").read_text()
    rendered = {line.split()[1] for line in reference.splitlines() if line.startswith("::: ")}
    packages = set(PACKAGES) - {"keras_vit", "keras_vit.cli"}  # the builders are rendered one by one
    assert not packages - rendered, sorted(packages - rendered)


def test_each_public_object_is_exported_by_one_subpackage_at_most():
    # Reachable from two places at most: keras_vit itself, and the one subpackage it belongs to.
    exporters = {}
    for package in PACKAGES[1:]:
        for name, value in _exported(package).items():
            if inspect.isclass(value) or inspect.isfunction(value):
                exporters.setdefault((name, id(value)), []).append(package)
    twice = {name: packages for (name, _), packages in exporters.items() if len(packages) > 1}
    assert not twice, twice
