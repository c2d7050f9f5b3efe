"""Similarity of the learned position embeddings (paper Figure 7, centre), and the
relative-position bias as a function of the offset.

Paper Section 4.5: the model learns to encode distance in the image in the
similarity of its 1D position embeddings; closer patches have more similar
embeddings, and a row-column structure appears. The 2D embedding's table is
composed (row half, column half) before it is compared.
"""

import keras
import numpy as np

from keras_vit.inspect import geometry
from keras_vit.layers import names
from keras_vit.layers.position_embedding import LEARNED_KINDS
from keras_vit.models.vision_transformer import config_of
from keras_vit.utils.validation import check_non_negative_int


def position_embedding_similarity(model, block=0):
    """Cosine similarity of each patch's position embedding to every other patch's.

    Args:
        model: keras.Model. A keras_vit model with learned position embeddings
            (`position_embedding="learned_1d"`, the default, or `"learned_2d"`).
        block: int. With `position_embedding_placement="every_layer"`, the
            block whose embedding is compared. Defaults to 0.

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
    table = _position_table(model, block)
    # The table's prefix rows: the class and distillation tokens' (registers get none).
    patches = grid.grid_size[0] * grid.grid_size[1]
    if table is None or table.shape[0] != config_of(model).num_position_prefix_tokens + patches:
        raise ValueError(
            "`model` has no learned position embedding to compare: it was built "
            "with position_embedding='none' or 'relative'. Build it with "
            "position_embedding='learned_1d' or 'learned_2d' (for 'relative', "
            f"see relative_position_bias). Received: model.name={model.name!r}"
        )
    return cosine_similarity_grid(table[table.shape[0] - patches :], grid.grid_size)


def _position_table(model, block):
    """The learned table added where the model's config places it: after the stem,
    before every block (one shared), or before block `block`; None for none."""
    config = config_of(model)
    if config.position_embedding not in LEARNED_KINDS:
        return None
    name = {
        "stem": names.POSITION_EMBEDDING,
        "every_layer_shared": names.SHARED_POSITION_EMBEDDING,
        "every_layer": names.position_embedding(check_non_negative_int("block", block)),
    }[config.position_embedding_placement]
    layer = names.find_layer(model, name)
    if layer is None:
        raise ValueError(
            f"`block` must be one of this model's {config.num_layers} blocks. Received: block={block!r}"
        )
    return layer.table()


def relative_position_bias(model, images, block=0):
    """The relative-position bias of one block as a function of the query-key offset.

    The bias a query at index `i` adds to key `j` depends on the query and on
    the learned embedding of the offset `i - j` (paper Appendix D.4). For each
    head and offset this returns its mean over the images and over every
    query-key pair at that offset, so a model that learned to favour nearby
    tokens shows a peak around 0.

    Args:
        model: keras.Model. A keras_vit model built with
            `position_embedding="relative"`.
        images: array of shape `(batch, height, width, channels)`, what the
            model takes.
        block: int. The Transformer block (from 0). Defaults to 0.

    Returns:
        A tuple `(offsets, bias)`: the offsets `-(T - 1) ... T - 1` as an int
        array, and a float32 array `(heads, 2T - 1)` of mean bias logits.

    Example:

    >>> model = keras_vit.ViT(image_size=16, patch_size=8, hidden_dim=8, num_layers=1,
    ...                       num_heads=2, mlp_dim=16, position_embedding="relative")
    >>> offsets, bias = relative_position_bias(model, np.zeros((1, 16, 16, 3)))
    >>> offsets.tolist(), bias.shape
    ([-4, -3, -2, -1, 0, 1, 2, 3, 4], (2, 9))
    """
    images = geometry.check_images(model, images)
    blocks = names.blocks(model)
    if check_non_negative_int("block", block) >= len(blocks):
        raise ValueError(
            f"`block` must be an int in [0, {len(blocks) - 1}]. Received: block={block!r}"
        )
    if config_of(model).position_embedding != "relative":
        raise ValueError(
            "`model` has no relative position embeddings: build it with "
            f"position_embedding='relative'. Received: model.name={model.name!r}"
        )
    layer = blocks[block]
    attention = layer.attn
    inputs = keras.Model(model.input, layer.input).predict(images, verbose=0)
    tokens = inputs.shape[1]  # the built length, or the images' on a dynamic-size model
    logits = attention.relative_logits(attention.query(layer.norm1(inputs)))
    logits = keras.ops.convert_to_numpy(keras.ops.cast(logits, "float32")).astype(np.float64)
    query, key = np.meshgrid(np.arange(tokens), np.arange(tokens), indexing="ij")
    offset = (query - key + tokens - 1).reshape(-1)
    sums = np.zeros((logits.shape[1], 2 * tokens - 1))
    np.add.at(sums.T, offset, logits.sum(axis=0).reshape(logits.shape[1], -1).T)
    counts = np.bincount(offset, minlength=2 * tokens - 1) * logits.shape[0]
    return np.arange(1 - tokens, tokens), (sums / counts).astype(np.float32)


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
