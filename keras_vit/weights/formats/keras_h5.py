"""keras_vit's own `.weights.h5` files (`model.save_weights`), read as keras weight paths.

Keras stores a model's variables under the names of their layers' classes
(`layers/transformer_block_1/attn/query/vars/0`), not their paths, so a file
can only be read against a model of the same architecture. The reader learns
where each of the model's variables goes by saving the model once with every
variable set to its own index, then reads the file's arrays from those places.
Their shapes may differ from the model's (another grid or head): the common
loader resamples and adapts them as it does for every other format. A compiled
model's file also holds its optimizer's variables (`optimizer/vars/N`), which
are no weights of the model and are left out on both sides.
"""

import os
import tempfile

import numpy as np

from keras_vit.utils.file_checks import check_hdf5, hdf5_error

KIND = "a .weights.h5 file Keras wrote"
# Where `save_weights` puts a compiled model's optimizer state.
OPTIMIZER_GROUP = "optimizer/"


def read(path, model):
    """`{keras weight path: array}` from a `.weights.h5` written for `model`'s architecture.

    Raises a `ValueError` naming the file when it is not an HDF5 file, is
    truncated or damaged, or holds the weights of another architecture (other
    layers, depth or stem).
    """
    import h5py

    check_hdf5(path, KIND)
    places = _places(model)
    try:
        with h5py.File(path, "r") as file:
            stored = _datasets(file)
    # h5py raises OSError for a truncated file, RuntimeError or KeyError for a damaged object header.
    except (OSError, RuntimeError, KeyError, ValueError) as error:
        raise hdf5_error(path, error) from None
    missing = sorted(places[key] for key in places.keys() - stored.keys())
    extra = sorted(stored.keys() - places.keys())
    if missing or extra:
        raise ValueError(
            f"{path} holds the weights of another architecture than this model: "
            + "; ".join(
                part
                for part in (
                    f"{len(missing)} of the model's weights have no place in it ({', '.join(missing[:4])})" if missing else "",
                    f"it has {len(extra)} arrays the model has no place for ({', '.join(extra[:4])})" if extra else "",
                )
                if part
            )
            + ". Load it into a model of the architecture it was saved from (a .keras file carries "
            "its architecture)."
        )
    return {places[key]: np.asarray(value, dtype=np.float32) for key, value in stored.items()}


def _places(model):
    """Where `model.save_weights` puts each variable: `{file key: weight path}`."""
    backup = model.get_weights()
    try:
        for index, variable in enumerate(model.weights):
            variable.assign(np.full(variable.shape, index, dtype=variable.dtype))
        with tempfile.TemporaryDirectory() as folder:
            marked = os.path.join(folder, "marked.weights.h5")
            model.save_weights(marked)
            import h5py

            with h5py.File(marked, "r") as file:
                indices = {key: int(value.flat[0]) for key, value in _datasets(file).items()}
    finally:
        model.set_weights(backup)
    paths = [variable.path for variable in model.weights]
    return {key: paths[index] for key, index in indices.items()}


def _datasets(file):
    """Every array in an open HDF5 file, by its key."""
    found = {}

    def visit(key, item):
        if hasattr(item, "shape") and not key.startswith(OPTIMIZER_GROUP):
            found[key] = item[()]

    file.visititems(visit)
    return found
