"""TensorFlow SavedModel: a `serve` signature for float32 pixels and one for uint8.

Keras writes the SavedModel through `keras.export.ExportArchive`: from the
TensorFlow backend directly, from JAX through `jax2tf`. The batch size is left
open, so the artifact serves any batch.
"""

import os

import keras
import numpy as np

from keras_vit.models.vision_transformer import dynamic_patch_stride

FORMAT = "tf_saved_model"
PRECISIONS = (None,)
BACKENDS = ("tensorflow", "jax")
KERAS_QUANTIZED_UNSUPPORTED = {}  # every mode Keras quantizes to exports
UNSUPPORTED = {
    "torch": "Keras writes a SavedModel from torch only through torch_xla, which does "
    "not install beside the CPU build of torch",
}


def write(model, path, precision=None, representative_data=None):
    """Writes `model` as a SavedModel directory at `path`.

    Endpoints: `serve` (`serving_default`) takes float32 RGB pixels in
    `[0, 255]` of shape `(batch, height, width, channels)`; `serve_uint8` takes
    the same pixels as uint8. Both return the model's output.
    """
    import tensorflow as tf

    del precision, representative_data  # A SavedModel is exported in float32 only.
    shape = (None, *model.input_shape[1:])
    archive = keras.export.ExportArchive()
    archive.track(model)

    def serve(images):
        return model(images, training=False)

    options = {}
    stride = dynamic_patch_stride(model)
    if stride is not None and keras.backend.backend() == "jax":
        # jax2tf traces open sizes as symbols; as multiples of the patch stride
        # the patch grid is a symbol too, not a division it cannot prove exact.
        options["jax2tf_kwargs"] = {"polymorphic_shapes": [f"(batch, {stride}*rows, {stride}*cols, _)"]}
    serve = archive.add_endpoint(
        "serve", serve, input_signature=[keras.InputSpec(shape=shape, dtype="float32", name="images")], **options
    )

    # A TensorFlow function around the traced float32 endpoint: the model is
    # traced (or, from JAX, converted) once for both signatures.
    @tf.function(input_signature=[tf.TensorSpec(shape, tf.uint8, name="images")])
    def serve_uint8(images):
        return serve(tf.cast(images, tf.float32))

    serve_uint8.get_concrete_function()
    archive.add_endpoint("serve_uint8", serve_uint8)
    archive.write_out(path, verbose=False)


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
