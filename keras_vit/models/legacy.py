"""`config_of(model)`: a model's `ViTConfig`, and the one fallback for `.keras` files
written before models kept their config.

A `keras_vit.models.VisionTransformer` holds its config. A `.keras` file saved
by keras_vit before that (a plain functional model) loads as a `keras.Model`;
its config is read back from the layers its builder named, here and nowhere
else, so the rest of keras_vit reads one `ViTConfig` either way.
"""

from keras_vit.layers import names
from keras_vit.layers.position_embedding import (
    AddPositionEmbedding,
    AddPositionEmbedding2D,
    AddSinCosPositionEmbedding2D,
)
from keras_vit.models.config import ViTConfig


def config_of(model):
    """Returns the `ViTConfig` of a keras_vit model.

    Args:
        model: keras.Model. A `keras_vit.models.VisionTransformer`, or a
            functional model loaded from a `.keras` file that keras_vit wrote
            before models kept their config.

    Returns:
        A `ViTConfig`.

    Raises:
        ValueError: if `model` was not built by keras_vit.
    """
    config = find_config(model)
    if config is None:
        raise ValueError(
            "`model` must be built by keras_vit (a keras_vit.models.VisionTransformer, or a "
            f"`.keras` file keras_vit wrote): it has no {names.PATCH_EMBEDDING!r} and "
            f"{names.POSITION_EMBEDDING!r} layers. Received: model.name={model.name!r}"
        )
    return config


def input_size(model):
    """The `(height, width)` images `model` trains and evaluates at: a keras_vit
    ViT's configured `image_size` (a dynamic-size model's built size), or
    another model's static input size (e.g. a `ResNetV2`)."""
    config = find_config(model)
    if config is not None:
        return config.image_size
    height, width = model.input_shape[1:3]
    if height is None or width is None:
        raise ValueError(
            "`model` must take images of a fixed size to train and evaluate at. Received: "
            f"model.name={model.name!r} with input shape {model.input_shape}"
        )
    return (height, width)


def find_config(model):
    """`config_of(model)`, or None for a model keras_vit did not build."""
    config = getattr(model, "vit_config", None)
    if isinstance(config, ViTConfig):
        return config
    embedding = names.find_layer(model, names.PATCH_EMBEDDING)
    position = names.find_layer(model, names.POSITION_EMBEDDING)
    if embedding is None or position is None or not hasattr(position, "grid_size"):
        return None
    return _config_from_layers(model, embedding, position)


def dynamic_patch_stride(model):
    """The pixels per patch token of a keras_vit model built with
    `dynamic_image_size=True`; None for a fixed-size model or one keras_vit
    did not build (the exporters take any `keras.Model` of images)."""
    config = find_config(model)
    return None if config is None else config.dynamic_patch_stride


def patch_tokens(model):
    """The tensor of `model`'s graph holding the patch embeddings as a sequence,
    `(batch, patches, hidden_dim)`: the `patch_tokens` layer's output, or in a
    `.keras` file written before the patch embedding kept its grid, the patch
    embedding's own."""
    layer = names.find_layer(model, names.PATCH_TOKENS)
    return (layer or model.get_layer(names.PATCH_EMBEDDING)).output


def grid_input(model):
    """`(grid, patch_stride)`: the tensor of `model`'s graph that its position
    layers read each call's grid off, and the `patch_stride` a new `GridLayer`
    reading it needs; `(None, None)` for a fixed-size model.

    In a dynamic-size model that is the patch embedding's output on its grid;
    in a `.keras` file written before, it was the input images (with the
    pixels per patch token).
    """
    config = config_of(model)
    if not config.dynamic_image_size:
        return None, None
    if names.find_layer(model, names.IMAGE_SIZE_CHECK) is not None:
        return model.input, config.patch_stride
    return model.get_layer(names.PATCH_EMBEDDING).output, None


def _config_from_layers(model, embedding, position):
    blocks = names.blocks(model)
    first = blocks[0]
    resnet = _stem(model)
    patch_stride = position.patch_stride  # set only in a dynamic-size model
    if patch_stride is None:
        image_size = tuple(model.input_shape[1:3])
    else:
        image_size = tuple(cells * patch_stride for cells in position.grid_size)
    return ViTConfig(
        image_size=image_size,
        patch_size=embedding.patch_size,
        hidden_dim=embedding.hidden_dim,
        num_layers=len(blocks),
        num_heads=first.num_heads,
        mlp_dim=first.mlp_dim,
        num_channels=model.input_shape[-1],
        **_head(model),
        pooling=names.find_layer(model, names.POOLING).mode,
        include_preprocessing=names.find_layer(model, names.PREPROCESSING) is not None,
        dropout_rate=first.dropout_rate,
        attention_dropout_rate=first.attention_dropout_rate,
        stochastic_depth_rate=blocks[-1].stochastic_depth_rate,
        approximate_gelu=first.approximate_gelu,
        layer_norm_epsilon=first.layer_norm_epsilon,
        **_position(model, position, first),
        resnet_layers=None if resnet is None else resnet[0],
        resnet_width=1 if resnet is None else resnet[1],
        dynamic_image_size=patch_stride is not None,
        resample_method=position.resample_method,
        remat=first.remat,
    )


def _head(model):
    head = names.find_layer(model, names.HEAD)
    pre_logits = names.find_layer(model, names.PRE_LOGITS)
    fields = {"include_top": head is not None, "representation_size": pre_logits and pre_logits.units}
    if head is not None:
        activation = names.find_layer(model, "predictions").activation.__name__
        fields.update(num_classes=head.units, classifier_activation=None if activation == "linear" else activation)
    return fields


def _position(model, stem, block):
    """The position embedding's kind and placement, from the layers that add it."""
    placement = "stem"
    if names.find_layer(model, names.SHARED_POSITION_EMBEDDING) is not None:
        placement, stem = "every_layer_shared", names.find_layer(model, names.SHARED_POSITION_EMBEDDING)
    elif names.find_layer(model, names.position_embedding(0)) is not None:
        placement, stem = "every_layer", names.find_layer(model, names.position_embedding(0))
    if isinstance(stem, AddSinCosPositionEmbedding2D):
        kind = "sincos_2d"
    elif isinstance(stem, AddPositionEmbedding2D):
        kind = "learned_2d"
    elif isinstance(stem, AddPositionEmbedding):
        kind = "learned_1d"
    else:
        kind = "relative" if block.relative_position_tokens else "none"
    return {"position_embedding": kind, "position_embedding_placement": placement}


def _stem(model):
    """`(resnet_layers, resnet_width)` of a hybrid's ResNet stem, or None."""
    root = names.find_layer(model, names.ROOT_CONV)
    if root is None:
        return None
    depths = []
    while (stage := names.find_layer(model, f"block{len(depths) + 1}")) is not None:
        depths.append(stage.num_units)
    return tuple(depths), root.filters / 64
