import keras
import pytest

from keras_vit import export as kv_export
from keras_vit.export import FORMATS
from tests.export.models import MODELS, backend, pixels, reference

FILE_NAMES = {"tf_saved_model": "model_saved", "litert": "model.tflite", "onnx": "model.onnx",
              "openvino": "model.xml", "torch": "model.pt2",
              "keras_hub": "model_preset"}
# The files an export leaves in its folder, where they are more than the one named.
ARTIFACT_FILES = {"openvino": ["model.bin", "model.xml"]}
# The format each backend writes fastest, for the tests about paths rather than formats.
QUICKEST = {"tensorflow": "litert", "jax": "tf_saved_model", "torch": "onnx"}
BATCHES = (1, 3)


class Exported:
    """One float32 export of a small model, with what the Keras model computed."""

    def __init__(self, name, format, folder):
        keras.utils.set_random_seed(0)
        model = MODELS[name]()
        self.path = str(folder / FILE_NAMES[format])
        self.report = kv_export.export_model(model, self.path, format)
        # Batches other than the 8 images the export was checked on.
        self.images = {batch: pixels(model, batch) for batch in BATCHES}
        self.expected = {batch: reference(model, images) for batch, images in self.images.items()}


@pytest.fixture(scope="session")
def exported(tmp_path_factory):
    """`exported(model_name, format)`: the artifact, exported once per session."""
    cache = {}

    def get(name, format):
        if backend() not in FORMATS[format].BACKENDS:
            pytest.skip(f"{format} cannot be exported from {backend()}; test_unsupported_* checks the error")
        if (name, backend()) == ("hybrid", "jax") and format in ("onnx", "openvino"):
            pytest.skip("jax2onnx cannot export the hybrid's max-pool; test_hybrid_onnx_from_jax_* checks the error")
        if (name, format) not in cache:
            cache[name, format] = Exported(name, format, tmp_path_factory.mktemp(f"{name}_{format}"))
        return cache[name, format]

    return get
