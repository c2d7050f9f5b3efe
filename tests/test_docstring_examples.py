"""Every `Example:` block in the package runs, so the docs cannot drift from the code."""

import doctest
import importlib
import pkgutil

import keras
import pytest

import keras_vit


def _modules():
    for info in pkgutil.walk_packages(keras_vit.__path__, prefix="keras_vit."):
        if not info.name.endswith(".__main__"):  # importing it runs the command line
            yield importlib.import_module(info.name)


def _examples():
    finder = doctest.DocTestFinder(exclude_empty=True)
    for module in _modules():
        for test in finder.find(module, globs={**vars(module), "keras": keras, "keras_vit": keras_vit}):
            if test.examples:
                yield pytest.param(test, id=test.name)


EXAMPLES = list(_examples())


def test_there_are_examples():
    assert len(EXAMPLES) >= 8


@pytest.mark.parametrize("test", EXAMPLES)
def test_example_runs(test):
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    result = runner.run(test, out=lambda text: pytest.fail(text, pytrace=False))
    assert result.failed == 0
