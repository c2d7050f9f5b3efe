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
