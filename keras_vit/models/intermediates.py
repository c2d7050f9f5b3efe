"""A second view of a built model that returns what happens inside it."""

import keras

from keras_vit.layers import names


def intermediates(model):
    """Returns a model giving every block's tokens and attention weights in one pass.

    The new model shares `model`'s layers and weights. Its output is a dict:
    `"blocks"`, a list of each block's output `(batch, tokens, hidden_dim)`;
    `"attention"`, a list of each block's attention weights
    `(batch, heads, tokens, tokens)`; `"encoded"`, the final LayerNorm's output;
    and `"output"`, what `model` itself returns. `model` keeps its ordinary,
    fused-attention path.

    Args:
        model: keras.Model. A keras_vit model (plain or hybrid).

    Returns:
        A functional `keras.Model`.

    Example:

    >>> model = keras_vit.ViT(image_size=16, patch_size=8, hidden_dim=8,
    ...                       num_layers=2, num_heads=2, mlp_dim=16)
    >>> out = intermediates(model)(keras.ops.zeros((1, 16, 16, 3)))
    >>> len(out["blocks"]), keras.ops.shape(out["attention"][0])
    (2, (1, 2, 5, 5))
    """
    blocks = names.blocks(model)
    tokens = blocks[0].input
    outputs = {"blocks": [], "attention": []}
    for block in blocks:
        tokens, weights = _WithAttention(block)(tokens)
        outputs["blocks"].append(tokens)
        outputs["attention"].append(weights)
    outputs["encoded"] = model.get_layer(names.ENCODER_NORM)(tokens)
    outputs["output"] = model.output
    return keras.Model(model.input, outputs, name=f"{model.name}_intermediates")


class _WithAttention(keras.layers.Layer):
    """Calls a block for its attention weights too, under a layer of its own.

    A Keras functional graph expects every call of one layer to return the same
    structure, so the block's second, two-output call goes through this wrapper.
    """

    def __init__(self, block):
        super().__init__(name=f"{block.name}_with_attention", dtype=block.dtype_policy)
        self.block = block

    def call(self, tokens):
        return self.block(tokens, return_attention_scores=True)
