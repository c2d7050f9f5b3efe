"""TensorFlow SavedModel: a `serve` signature for float32 pixels and one for uint8.

Keras writes the SavedModel through `keras.export.ExportArchive`: from the
TensorFlow backend directly, from JAX through `jax2tf`. The batch size is left
open, so the artifact serves any batch.
"""

import os

import keras
import numpy as np

FORMAT = "tf_saved_model"
QUANTIZATIONS = (None,)
BACKENDS = ("tensorflow", "jax")
UNSUPPORTED = {
    "torch": "Keras writes a SavedModel from torch only through torch_xla, which does "
    "not install beside the CPU build of torch",
}


def write(model, path, quantize=None, representative_data=None):
    """Writes `model` as a SavedModel directory at `path`.

    Endpoints: `serve` (`serving_default`) takes float32 RGB pixels in
    `[0, 255]` of shape `(batch, height, width, channels)`; `serve_uint8` takes
    the same pixels as uint8. Both return the model's output.
    """
    del quantize, representative_data  # A SavedModel is exported in float32 only.
    shape = (None, *model.input_shape[1:])
    archive = keras.export.ExportArchive()
    archive.track(model)
    for name, dtype in (("serve", "float32"), ("serve_uint8", "uint8")):
        archive.add_endpoint(
            name,
            _endpoint(model),
            input_signature=[keras.InputSpec(shape=shape, dtype=dtype, name="images")],
        )
    archive.write_out(path, verbose=False)


def _endpoint(model):
    def serve(images):
        return model(keras.ops.cast(images, "float32"), training=False)

    return serve


def is_artifact(path):
    """Whether `path` is a SavedModel directory."""
    return os.path.isdir(path) and os.path.exists(os.path.join(path, "saved_model.pb"))


class Runner:
    """A SavedModel loaded with TensorFlow, called like a model on NumPy images.

    Holds the object `tf.saved_model.load` returns: its functions stop working
    once it is garbage-collected.
    """

    input_dtypes = ("float32", "uint8")

    def __init__(self, path):
        import tensorflow as tf

        self._tf = tf
        self._loaded = tf.saved_model.load(path)
        signature = self._loaded.signatures["serving_default"]
        spec = signature.structured_input_signature[1]
        self.input_shape = tuple(next(iter(spec.values())).shape[1:])

    def __call__(self, images):
        images = np.asarray(images)
        if images.dtype == np.uint8:
            outputs = self._loaded.serve_uint8(self._tf.constant(images))
        else:
            outputs = self._loaded.serve(self._tf.constant(images, dtype=self._tf.float32))
        return np.asarray(outputs)
