"""Second views of a built model: what happens inside it, and dense feature maps.

Both share the model's layers and weights and run the encoder once.
"""

import keras

from keras_vit.layers import names
from keras_vit.layers.token_map import TokenMap
from keras_vit.models.vision_transformer import config_of


def intermediates(model):
    """Returns a model giving every block's tokens and attention weights in one pass.

    The new model shares `model`'s layers and weights. Its output is a dict:
    `"blocks"`, a list of each block's output `(batch, tokens, hidden_dim)`;
    `"attention"`, a list of each block's attention weights
    `(batch, heads, tokens, tokens)`; `"encoded"`, the final LayerNorm's output;
    and `"output"`, what `model` itself returns, computed from the same pass
    (the encoder runs once). `model` keeps its ordinary, fused-attention path.

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
    config = config_of(model)
    grid = model.grid_input
    blocks = names.blocks(model)
    tokens = blocks[0].input
    outputs = {"blocks": [], "attention": []}
    for index, block in enumerate(blocks):
        tokens = _block_input(model, config, index, tokens, grid)
        tokens, weights = _WithAttention(block)(tokens)
        outputs["blocks"].append(tokens)
        outputs["attention"].append(weights)
    outputs["encoded"] = model.get_layer(names.ENCODER_NORM)(tokens)
    outputs["output"] = _head(model, outputs["encoded"])
    return keras.Model(model.input, outputs, name=f"{model.name}_intermediates")


def feature_maps(model, blocks=1, norm=True, stop_early=True):
    """Returns a model giving chosen blocks' patch tokens as dense maps, in one pass.

    For detection and segmentation heads: each requested block's output,
    prefix tokens (the class token) removed, laid out on the patch grid as
    `(batch, grid_height, grid_width, hidden_dim)`, like a CNN's feature map.
    Works for plain and hybrid models, any position embedding, and models
    built with `dynamic_image_size=True` (the maps follow the image size).

    Args:
        model: keras.Model. A keras_vit model (plain or hybrid).
        blocks: int or sequence of ints. An int `n` takes the last `n`
            blocks; a sequence names blocks by index from 0 (negative indices
            count from the end), in the order the maps are returned.
            Defaults to 1 (the last block).
        norm: bool. Pass each map through the model's final LayerNorm
            (`encoder_norm`), as timm's `norm=True`. Defaults to True.
        stop_early: bool. If True, the model computes no block after the last
            requested one. If False, it runs the whole model and its output
            also holds `"output"`, what `model` returns, from the same pass.
            Defaults to True.

    Returns:
        A functional `keras.Model` sharing `model`'s layers and weights. Its
        output is a dict from block name (`"encoderblock_3"`) to map, in the
        order of `blocks` (a dict, so that a single map is not unpacked from a
        one-element list).

    Example:

    >>> model = keras_vit.ViT(image_size=(16, 24), patch_size=8, hidden_dim=8,
    ...                       num_layers=3, num_heads=2, mlp_dim=16)
    >>> maps = feature_maps(model, blocks=(0, 2))(keras.ops.zeros((1, 16, 24, 3)))
    >>> {name: tuple(keras.ops.shape(m)) for name, m in maps.items()}
    {'encoderblock_0': (1, 2, 3, 8), 'encoderblock_2': (1, 2, 3, 8)}
    """
    config = config_of(model)
    all_blocks = names.blocks(model)
    chosen = _block_indices(blocks, len(all_blocks))
    grid = model.grid_input
    to_map = TokenMap(config.grid_size, config.num_prefix_tokens, name="token_map")
    final_norm = model.get_layer(names.ENCODER_NORM)
    last = len(all_blocks) - 1 if not stop_early else max(chosen)
    tokens = all_blocks[0].input
    outputs = {}
    for index in range(last + 1):
        tokens = all_blocks[index](_block_input(model, config, index, tokens, grid))
        if index in chosen:
            outputs[index] = to_map(final_norm(tokens) if norm else tokens, grid)
    result = {names.block(index): outputs[index] for index in chosen}
    if not stop_early:
        result["output"] = _head(model, final_norm(tokens))
    return keras.Model(model.input, result, name=f"{model.name}_feature_maps")


def _block_indices(blocks, count):
    if isinstance(blocks, int) and not isinstance(blocks, bool):
        if not 1 <= blocks <= count:
            raise ValueError(
                f"`blocks` as an int is how many of the last blocks to return: 1 to {count} "
                f"for this model. Received: blocks={blocks!r}"
            )
        return list(range(count - blocks, count))
    try:
        indices = [int(index) for index in blocks]
    except (TypeError, ValueError):
        indices = None
    if not indices or any(not -count <= i < count for i in indices) or len(set(i % count for i in indices)) != len(indices):
        raise ValueError(
            f"`blocks` must be an int or a sequence of distinct block indices in "
            f"[{-count}, {count - 1}] for this model's {count} blocks. Received: blocks={blocks!r}"
        )
    return [index % count for index in indices]


def _block_input(model, config, index, tokens, grid):
    """Block `index`'s input: `tokens`, plus the position embedding added before it
    when the model places one there (`position_embedding_placement="every_layer"`
    or `"every_layer_shared"`), reading its grid off `grid` (`VisionTransformer.grid_input`).
    For block 0, `tokens` is already that input."""
    name = {
        "every_layer": names.position_embedding(index),
        "every_layer_shared": names.SHARED_POSITION_EMBEDDING,
    }.get(config.position_embedding_placement)
    if index == 0 or name is None:
        return tokens
    return model.get_layer(name)(tokens, grid)


def _head(model, encoded):
    """The model's layers after the final LayerNorm (pooling, pre-logits or
    projection, the head or DeiT's two heads) on `encoded`: the model's output
    without running its encoder again. The graph from the LayerNorm's output
    to the model's is replayed as it is, branches included."""
    tail = keras.Model(model.get_layer(names.ENCODER_NORM).output, model.output, name=f"{model.name}_head")
    return tail(encoded)


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

    def compute_output_spec(self, tokens):
        return self.block.compute_output_spec(tokens, return_attention_scores=True)
