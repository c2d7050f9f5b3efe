"""A quiet start: no framework chatter before a command says what it does."""

import contextlib
import importlib.util
import os
import sys
import tempfile
import warnings

# The commands whose input pipelines run in tf.data on every backend, and those that load no Keras.
USES_TENSORFLOW = ("demo", "train", "pretrain", "ablate", "evaluate")
WITHOUT_KERAS = ("weights",)


def quiet_start(command):
    """Silences what the frameworks print while they load.

    TensorFlow writes start-up lines from C++ (CPU features, oneDNN) to the
    process' stderr when it is imported, whatever `TF_CPP_MIN_LOG_LEVEL` says,
    so it is imported here with stderr set aside, for the commands that use it
    and on the TensorFlow backend. Python warnings from the frameworks are
    turned off; keras_vit's own notes go to stderr as usual.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    warnings.filterwarnings("ignore", module=r"(keras|tensorflow|jax|torch|absl)(\..*)?$")
    on_tensorflow = os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow"
    needs_tensorflow = command in USES_TENSORFLOW or (on_tensorflow and command not in WITHOUT_KERAS)
    if needs_tensorflow and importlib.util.find_spec("tensorflow") is not None:
        with framework_output_held():
            import tensorflow  # noqa: F401


@contextlib.contextmanager
def framework_output_held():
    """Holds back what is written to stderr while a framework works, unless it fails.

    Converters and runtimes (TensorFlow, LiteRT, torch.onnx) log from C++ and
    from Python to file descriptor 2 whatever their settings say. For the
    duration of the block it points to a temporary file, which is discarded
    if the block succeeds and shown if it raises, so a failure keeps its
    explanation.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    failed = True
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
            failed = False
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            if failed:
                held.seek(0)
                sys.stderr.write(held.read().decode(errors="replace"))
