"""`keras_vit.serialization.register` registers every class keras_vit saves, with keras_vit imported lazily."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import keras_vit

pytestmark = pytest.mark.backend_independent(reason="the names registered are Keras' table, the same on every backend")

PACKAGE = Path(keras_vit.__file__).parent


def _registered_in_source():
    """`keras_vit>Name` for every class decorated with `register_keras_serializable` in the package."""
    names = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and any(
                "register_keras_serializable" in ast.unparse(decorator) for decorator in node.decorator_list
            ):
                names.add(f"keras_vit>{node.name}")
    return names


def test_register_covers_every_serializable_class():
    expected = _registered_in_source()
    assert {"keras_vit>WarmupDecay", "keras_vit>PatchEmbedding"} <= expected
    code = (
        "import os; os.environ['KERAS_VIT_LAZY_IMPORT'] = '1'\n"
        "import keras, keras_vit.serialization\n"
        "keras_vit.serialization.register()\n"
        "print(' '.join(name for name in keras.saving.get_custom_objects() if name.startswith('keras_vit>')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert expected <= set(done.stdout.split()), sorted(expected - set(done.stdout.split()))
