import os

import keras
import pytest


@pytest.fixture(autouse=True)
def _fresh_keras_state():
    """Every test starts from float32, a fixed seed and an empty Keras session."""
    keras.config.set_dtype_policy("float32")
    keras.utils.set_random_seed(0)
    yield
    keras.config.set_dtype_policy("float32")
    # Without the full garbage collection clear_session runs by default, 0.4 s a
    # test with three frameworks loaded; Python's own collector still runs.
    keras.utils.clear_session(free_memory=False)


# tests/run_all_backends.sh runs the suite once per backend and names the run that also
# takes the tests marked `backend_independent`; run on their own, pytest runs every test.
_BACKEND_INDEPENDENT_RUN = "KERAS_VIT_BACKEND_INDEPENDENT_RUN"


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "backend_independent(reason): the test's outcome cannot depend on the Keras backend (NumPy, the file "
        "system, a server or a process of a backend it sets itself); run_all_backends.sh runs it in one of its "
        "runs only. The reason says why.",
    )


# The files that take longest under some backend, longest first (tests/run_all_backends.sh
# prints each run's slowest tests). They are collected first, and that script hands files
# to its two workers in collection order, so that no long file starts last while the other
# worker has nothing left to do. A file not listed runs in its usual place.
SLOWEST_FILES = (
    "tests/training/test_multi_process.py",
    "tests/cli/test_first_run.py",
    "tests/pretraining/test_run.py",
    "tests/training/test_quantization.py",
    "tests/models/test_dynamic_image_size.py",
    "tests/models/test_serialization.py",
    "tests/models/test_precision_and_compilation.py",
    "tests/training/test_resume.py",
    "tests/training/test_lora.py",
    "tests/training/test_distillation.py",
    "tests/cli/test_train.py",
    "tests/layers/test_quantized_layers.py",
    "tests/export/test_dynamic_and_quantized.py",
    "tests/training/test_distribution.py",
    "tests/test_notebooks.py",
    "tests/ablation/test_position_and_report.py",
    "tests/evaluation/test_cli.py",
    "tests/export/test_export.py",
)


def pytest_collection_modifyitems(config, items):
    gone = [path for path in SLOWEST_FILES if not (config.rootpath / path).is_file()]
    if gone:
        raise pytest.UsageError(f"tests/conftest.py: SLOWEST_FILES names files that do not exist: {gone}")
    rank = {path: index for index, path in enumerate(SLOWEST_FILES)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))
    chosen = os.environ.get(_BACKEND_INDEPENDENT_RUN)
    for item in items:
        marker = item.get_closest_marker("backend_independent")
        if marker is None:
            continue
        reason = marker.kwargs.get("reason") or (marker.args[0] if marker.args else None)
        if not reason:
            raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.backend_independent needs a reason")
        if chosen and chosen != keras.backend.backend():
            item.add_marker(pytest.mark.skip(reason=f"runs under KERAS_BACKEND={chosen} only: {reason}"))
