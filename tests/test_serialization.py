"""`import keras_vit` loads no framework, and every class keras_vit saves is known to Keras'
deserialization once Keras is imported, whichever of the two comes first (`keras_vit.serialization`)."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import keras
import pytest

import keras_vit
from keras_vit import serialization

PACKAGE = Path(keras_vit.__file__).parent


def _registered_in_source():
    """`{"keras_vit>Name": module}` for every class decorated with `register_keras_serializable`."""
    names = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and any(
                "register_keras_serializable" in ast.unparse(decorator) for decorator in node.decorator_list
            ):
                names[f"keras_vit>{node.name}"] = module
    return names


@pytest.mark.backend_independent(reason="the package's source against a table, no backend involved")
def test_the_table_of_serializable_classes_is_the_sources():
    assert serialization.SERIALIZABLE == _registered_in_source()


def _fresh_process(code):
    """Runs `code` in a new Python under this run's backend; returns what it printed."""
    environment = {**os.environ, "KERAS_BACKEND": keras.backend.backend()}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


# The orders a user's imports come in: keras_vit first or Keras first; TensorFlow asking
# whether Keras is installed before it is imported; Keras first imported by a keras_vit
# module, halfway through keras_vit's own imports.
IMPORTS = {
    "keras_vit_first": "import keras_vit, keras",
    "keras_first": "import keras, keras_vit",
    "keras_looked_up_first": "import keras_vit, importlib.util; importlib.util.find_spec('keras'); import keras",
    "keras_imported_by_keras_vit": "import keras_vit; from keras_vit import ablation; import keras",
}


@pytest.mark.backend_independent(reason="the names registered are Keras' table, the same on every backend")
@pytest.mark.parametrize("imports", list(IMPORTS.values()), ids=list(IMPORTS))
def test_every_serializable_class_is_known_to_keras_whichever_is_imported_first(imports):
    expected = _registered_in_source()
    assert {"keras_vit>WarmupDecay", "keras_vit>PatchEmbedding", "keras_vit>VisionTransformer"} <= set(expected)
    code = (
        f"{imports}\n"
        "table = keras.saving.get_custom_objects()\n"
        "print(' '.join(name for name in table if name.startswith('keras_vit>')))\n"
        # Each stand-in gives the class registered under its name.
        "for name in [n for n in table if n.startswith('keras_vit>')]:\n"
        "    found = getattr(table[name], 'resolve', lambda: table[name])()\n"
        "    assert keras.saving.get_registered_name(found) == name, name\n"
    )
    registered = set(_fresh_process(code).split())
    assert set(expected) <= registered, sorted(set(expected) - registered)


def test_import_loads_no_framework_until_keras_is_imported():
    code = (
        "import sys, time\n"
        "start = time.perf_counter(); import keras_vit; seconds = time.perf_counter() - start\n"
        "print([name for name in ('keras', 'tensorflow', 'jax', 'torch') if name in sys.modules], seconds)\n"
        "keras_vit.ViT\n"  # a builder: Keras loads on first use
        "print('keras' in sys.modules)"
    )
    first, second = _fresh_process(code).splitlines()
    assert first.startswith("[] ") and second == "True"
    print(f"import keras_vit: {float(first.split()[-1]):.3f} s")


@pytest.mark.parametrize("imports", list(IMPORTS.values()), ids=list(IMPORTS))
def test_keras_load_model_reads_a_keras_vit_file_after_import_keras_vit(imports, tmp_path):
    # A compiled model's file names keras_vit's layers, its model class and its schedule.
    model = keras_vit.ViT(image_size=16, patch_size=8, hidden_dim=16, num_layers=1, num_heads=2, mlp_dim=32,
                          num_classes=3)
    model.compile(optimizer=keras.optimizers.SGD(keras_vit.training.WarmupDecay(0.1, 10, 2)), loss="mse")
    path = str(tmp_path / "vit.keras")
    model.save(path)
    code = f"{imports}\nprint(type(keras.saving.load_model({path!r}, safe_mode=True)).__name__)"
    assert _fresh_process(code).split() == ["VisionTransformer"]
