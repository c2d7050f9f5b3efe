"""Loaded by the `keras-vit` processes `tests/cli/console.py` starts (it puts this folder on PYTHONPATH).

KERAS_VIT_TEST_HIDE="sklearn,PIL" makes those modules look uninstalled: `import`
raises ModuleNotFoundError and `importlib.util.find_spec` returns None, as on a
machine without them. KERAS_VIT_TEST_MODULES=FILE writes the names of the
modules the process imported to FILE when it exits. KERAS_VIT_TEST_IMPORT=
"tests.data.tiny_tfds" imports those modules first (to register test data sets).
"""

import atexit
import importlib
import os
import sys

for _name in filter(None, os.environ.get("KERAS_VIT_TEST_HIDE", "").split(",")):
    sys.modules[_name] = None


def _write_modules(path):
    with open(path, "w", encoding="utf-8") as file:
        file.write("\n".join(sorted(name for name, module in sys.modules.items() if module is not None)))


if os.environ.get("KERAS_VIT_TEST_MODULES"):
    atexit.register(_write_modules, os.environ["KERAS_VIT_TEST_MODULES"])

for _name in filter(None, os.environ.get("KERAS_VIT_TEST_IMPORT", "").split(",")):
    importlib.import_module(_name)
