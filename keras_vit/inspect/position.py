"""Similarity of the learned position embeddings (paper Figure 7, centre).

Paper Section 4.5: the model learns to encode distance in the image in the
similarity of its 1D position embeddings; closer patches have more similar
embeddings, and a row-column structure appears.
"""

import keras
import numpy as np

from keras_vit.inspect import geometry
from keras_vit.layers import names


def position_embedding_similarity(model):
    """Cosine similarity of each patch's position embedding to every other patch's.

    Args:
        model: keras.Model. A keras_vit model with learned position embeddings
            (`position_embedding="learned_1d"`, the default).

    Returns:
        A float32 array `(rows, cols, rows, cols)`: entry `[r, c]` is the map of
        patch `(r, c)`'s similarity to every patch, the paper's small maps.

    Example:

    >>> model = keras_vit.ViT(image_size=(16, 24), patch_size=8, hidden_dim=8,
    ...                       num_layers=1, num_heads=2, mlp_dim=16)
    >>> position_embedding_similarity(model).shape
    (2, 3, 2, 3)
    """
    grid = geometry.token_grid(model)
    layer = names.find_layer(model, names.POSITION_EMBEDDING)
    embedding = getattr(layer, "embedding", None)
    if embedding is None or tuple(embedding.shape[:2]) != (1, grid.num_tokens):
        raise ValueError(
            "`model` has no learned position embedding to compare: its "
            f"'pos_embedding' layer is a {type(layer).__name__}. Build the model with "
            "position_embedding='learned_1d'. Received: "
            f"model.name={model.name!r}"
        )
    embedding = keras.ops.convert_to_numpy(embedding.value)[0, grid.num_prefix_tokens :]
    return cosine_similarity_grid(embedding, grid.grid_size)


def cosine_similarity_grid(embedding, grid_size):
    """Cosine similarity between every two rows of `embedding`, laid out on the grid.

    Args:
        embedding: array `(rows * cols, dim)`: one embedding per patch, row-major.
        grid_size: pair of ints. The `(rows, cols)` of the patch grid.

    Returns:
        A float32 array `(rows, cols, rows, cols)`.

    Example:

    >>> embedding = np.array([[1.0, 0.0], [0.0, 2.0], [-3.0, 0.0]])
    >>> cosine_similarity_grid(embedding, (1, 3))[0, 0].tolist()
    [[1.0, 0.0, -1.0]]
    """
    embedding = np.asarray(embedding, dtype=np.float64)
    rows, cols = grid_size
    if embedding.ndim != 2 or embedding.shape[0] != rows * cols:
        raise ValueError(
            f"`embedding` must have shape ({rows * cols}, dim) for a {rows}x{cols} "
            f"grid. Received: embedding.shape={embedding.shape}"
        )
    norms = np.linalg.norm(embedding, axis=-1, keepdims=True)
    unit = embedding / np.maximum(norms, np.finfo(np.float64).tiny)
    return (unit @ unit.T).reshape(rows, cols, rows, cols).astype(np.float32)
