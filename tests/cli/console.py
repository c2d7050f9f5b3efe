"""Runs the installed `keras-vit` console script in a process of its own, as a shell does."""

import os
import subprocess
import sys

import pytest

SITE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hide_modules")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def script():
    """The `keras-vit` script installed beside the Python that runs the tests."""
    path = os.path.join(os.path.dirname(sys.executable), "keras-vit")
    if not os.path.isfile(path):
        pytest.fail(f"No installed keras-vit script at {path}: install the package (pip install -e .).")
    return path


def keras_vit(*args, hide=(), modules_file=None, imports=(), env=None, cwd=None, timeout=600):
    """Runs `keras-vit ARGS` and returns the finished process, its output as text.

    Args:
        *args: str. The command line after `keras-vit`.
        hide: tuple of str. Modules the process sees as not installed.
        modules_file: path or None. Where the process lists the modules it imported.
        imports: tuple of str. Modules of the tests to import first (the repository is on the path).
        env: dict or None. Variables to set (None values unset them) over this process' own.
        cwd: path or None. The working directory.
        timeout: seconds.
    """
    environment = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join((SITE, ROOT)),
        KERAS_VIT_TEST_HIDE=",".join(hide),
        KERAS_VIT_TEST_IMPORT=",".join(imports),
    )
    if modules_file is not None:
        environment["KERAS_VIT_TEST_MODULES"] = str(modules_file)
    for name, value in (env or {}).items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    return subprocess.run(
        [script(), *map(str, args)], capture_output=True, text=True, env=environment, cwd=cwd, timeout=timeout
    )
