import keras
import numpy as np
import pytest
from sklearn.decomposition import PCA

from keras_vit import inspect
from tests.inspect.tiny import tiny_model


def _structured_kernel(shape, seed=0):
    """Filters spread along 5 orthogonal patterns with clearly different variances, plus noise."""
    rng = np.random.default_rng(seed)
    size, filters = int(np.prod(shape[:3])), shape[3]
    patterns = np.linalg.qr(rng.normal(size=(size, 5)))[0]
    coefficients = rng.normal(size=(5, filters)) * np.array([5.0, 4.0, 3.0, 2.0, 1.0])[:, None]
    samples = patterns @ coefficients + 0.01 * rng.normal(size=(size, filters)) + 0.3
    return samples.reshape(shape).astype("float32")


def _sklearn_components(kernel, n):
    samples = kernel.reshape(-1, kernel.shape[-1]).T
    components = PCA(n_components=n).fit(samples).components_
    # A component's sign is arbitrary: compare with the largest-magnitude entry positive.
    largest = np.abs(components).argmax(axis=1)
    components *= np.sign(components[np.arange(n), largest])[:, None]
    return components.reshape(n, *kernel.shape[:3])


def test_principal_components_match_sklearn():
    kernel = _structured_kernel((4, 4, 3, 40))
    np.testing.assert_allclose(inspect.principal_components(kernel, 5), _sklearn_components(kernel, 5), atol=1e-4)


def test_the_patch_embedding_filters_of_a_model():
    model = tiny_model()
    kernel = _structured_kernel((8, 8, 3, 32))
    model.get_layer("embedding").kernel.assign(kernel)
    filters = inspect.embedding_filters(model, n=5)
    assert filters.shape == (5, 8, 8, 3)
    np.testing.assert_allclose(filters, _sklearn_components(kernel, 5), atol=1e-4)


def test_a_root_convolution_is_used_when_there_is_one():
    # A hybrid's RGB filters are its stem's first convolution, found by the name `conv_root`.
    images = keras.Input((32, 32, 3))
    features = keras.layers.Conv2D(24, 7, strides=2, name="conv_root")(images)
    tokens = keras.layers.Conv2D(16, 1, name="embedding")(features)
    model = keras.Model(images, tokens)
    kernel = _structured_kernel((7, 7, 3, 24))
    model.get_layer("conv_root").kernel.assign(kernel)
    np.testing.assert_allclose(inspect.embedding_filters(model, n=4), _sklearn_components(kernel, 4), atol=1e-4)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match=r"`n` can be at most 32 .*Received: n=33"):
        inspect.embedding_filters(tiny_model(), n=33)
    with pytest.raises(ValueError, match="`n` must be a positive integer"):
        inspect.principal_components(np.ones((2, 2, 3, 4)), n=0)
    mlp = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)], name="mlp")
    with pytest.raises(ValueError, match="no 'conv_root' or 'embedding' layer.*'mlp'"):
        inspect.embedding_filters(mlp)
