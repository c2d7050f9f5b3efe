"""`import keras_vit` loads no framework, and every class keras_vit saves is registered with Keras once
Keras is imported, whichever of the two comes first (`keras_vit.serialization`)."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import keras
import pytest

import keras_vit

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


def _fresh_process(code):
    """Runs `code` in a new Python under this run's backend; returns what it printed."""
    environment = {**os.environ, "KERAS_BACKEND": keras.backend.backend()}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.mark.backend_independent(reason="the names registered are Keras' table, the same on every backend")
@pytest.mark.parametrize("imports", ["import keras_vit, keras", "import keras, keras_vit"])
def test_every_serializable_class_is_registered_whichever_is_imported_first(imports):
    expected = _registered_in_source()
    assert {"keras_vit>WarmupDecay", "keras_vit>PatchEmbedding", "keras_vit>VisionTransformer"} <= expected
    code = f"{imports}\nprint(' '.join(name for name in keras.saving.get_custom_objects() if name.startswith('keras_vit>')))"
    registered = set(_fresh_process(code).split())
    assert expected <= registered, sorted(expected - registered)


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


@pytest.mark.parametrize("imports", ["import keras_vit, keras", "import keras, keras_vit"])
def test_keras_load_model_reads_a_keras_vit_file_after_import_keras_vit(imports, tmp_path):
    # A compiled model's file names keras_vit's layers, its model class and its schedule.
    model = keras_vit.ViT(image_size=16, patch_size=8, hidden_dim=16, num_layers=1, num_heads=2, mlp_dim=32,
                          num_classes=3)
    model.compile(optimizer=keras.optimizers.SGD(keras_vit.training.WarmupDecay(0.1, 10, 2)), loss="mse")
    path = str(tmp_path / "vit.keras")
    model.save(path)
    code = f"{imports}\nprint(type(keras.saving.load_model({path!r}, safe_mode=True)).__name__)"
    assert _fresh_process(code).split() == ["VisionTransformer"]
