"""The notebooks in examples/ run top to bottom, in smoke mode, and are committed without outputs.

Smoke mode (`KERAS_VIT_NOTEBOOK_SMOKE=1`, read in each notebook's first cell)
skips the install and the network: tiny models with random weights, the
bundled digits, one epoch. Each notebook runs in a fresh kernel of this
interpreter with this checkout of keras_vit, in a temporary folder, and the
test fails on the first cell that raises.
"""

import importlib.util
import json
import os
import pathlib
import sys

import keras
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SMOKE_FLAG = "KERAS_VIT_NOTEBOOK_SMOKE"
EVERY_BACKEND_FLAG = "KERAS_VIT_NOTEBOOKS_EVERY_BACKEND"

# The backend each notebook runs under. CI runs the suite once per backend, and a
# kernel start and the imports are most of a notebook's time in smoke mode, so each
# runs in one of the three runs, where it is quickest: JAX compiles every new
# shape, which costs train_from_scratch a minute there against 20 s on torch. The
# APIs the notebooks call are tested on every backend by their own tests.
# KERAS_VIT_NOTEBOOKS_EVERY_BACKEND=1 runs them all under the current backend.
BACKENDS = {
    "classify.ipynb": "jax",
    "fine_tune.ipynb": "torch",
    "train_from_scratch.ipynb": "torch",
    "export.ipynb": "tensorflow",
    "paper_experiments.ipynb": "torch",
}
# Notebooks that set their backend themselves, whatever KERAS_BACKEND says.
FIXED_BACKEND = {"export.ipynb": "LiteRT and SavedModel files are written from TensorFlow"}
# A line each notebook prints when it has run to its end.
LAST_WORDS = {
    "classify.ipynb": "patches",
    "fine_tune.ipynb": "test accuracy",
    "train_from_scratch.ipynb": "Final training accuracy",
    "export.ipynb": "same top-1 class: True",
    "paper_experiments.ipynb": "report written",
}
CELL_TIMEOUT_S = 300


def _notebooks():
    return sorted(path.name for path in EXAMPLES.glob("*.ipynb"))


def test_every_notebook_is_run_by_a_test():
    assert _notebooks() == sorted(BACKENDS) == sorted(LAST_WORDS)


@pytest.mark.parametrize("name", _notebooks())
def test_committed_notebook_has_no_outputs(name):
    nbformat = pytest.importorskip("nbformat", reason="needs the notebooks extra")
    notebook = nbformat.read(EXAMPLES / name, as_version=4)
    nbformat.validate(notebook)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{name} cell {index} has outputs: strip them"
            assert cell.execution_count is None, f"{name} cell {index} has an execution count"
    assert "widgets" not in notebook.metadata


def test_first_cell_sets_the_backend_before_keras_and_reads_the_smoke_flag():
    for name in _notebooks():
        cells = json.loads((EXAMPLES / name).read_text())["cells"]
        source = "".join(next(cell for cell in cells if cell["cell_type"] == "code")["source"])
        assert "%pip install" in source, name
        assert SMOKE_FLAG in source and 'os.environ["KERAS_BACKEND"] = BACKEND' in source, name
        assert "import keras" not in source, name


@pytest.mark.parametrize("name", _notebooks())
def test_notebook_runs_top_to_bottom(name, tmp_path):
    backend = keras.backend.backend()
    if name in FIXED_BACKEND and backend != BACKENDS[name]:
        pytest.skip(f"{name} sets KERAS_BACKEND={BACKENDS[name]} itself ({FIXED_BACKEND[name]})")
    if backend != BACKENDS[name] and os.environ.get(EVERY_BACKEND_FLAG) != "1":
        pytest.skip(
            f"{name} runs under KERAS_BACKEND={BACKENDS[name]} only, to keep CI's three runs "
            f"short (the APIs it calls are tested on every backend); {EVERY_BACKEND_FLAG}=1 "
            "runs it here too"
        )
    if name == "export.ipynb" and importlib.util.find_spec("keras_vit.export") is None:
        pytest.skip("export.ipynb needs keras_vit.export, which this checkout does not have yet")
    pytest.importorskip("nbclient", reason="needs the notebooks extra")
    notebook = _execute(EXAMPLES / name, tmp_path, backend)
    printed = "".join(
        output.get("text", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.get("output_type") == "stream"
    )
    assert LAST_WORDS[name] in printed, f"{name} did not print {LAST_WORDS[name]!r}:\n{printed}"


def _execute(path, folder, backend):
    """Runs the notebook in a kernel of this interpreter, in `folder`, in smoke mode."""
    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    # A kernel spec of our own: "python3" may name another interpreter on this machine.
    spec_dir = folder / "kernels" / "keras-vit-test"
    spec_dir.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec_dir / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "keras_vit tests", "language": "python"})
    )
    specs = KernelSpecManager(kernel_dirs=[str(folder / "kernels")])
    manager = KernelManager(kernel_name="keras-vit-test", kernel_spec_manager=specs)
    env = {
        **os.environ,
        SMOKE_FLAG: "1",
        "KERAS_BACKEND": backend,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        # Named weights would download into this empty cache: smoke mode must not ask.
        "KERAS_HOME": str(folder / "keras_home"),
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    work = folder / "work"
    work.mkdir()
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook, km=manager, timeout=CELL_TIMEOUT_S, resources={"metadata": {"path": str(work)}}
    )
    client.execute(env=env)
    return notebook
