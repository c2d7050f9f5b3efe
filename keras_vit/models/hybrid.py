"""The hybrid Vision Transformer: a ResNetV2 (BiT) stem, then the Transformer (paper Section 3.1)."""

from keras_vit.models.vit_builder import build_with_weights


def ViTHybrid(
    resnet_layers,
    resnet_width=1,
    patch_size=1,
    image_size=None,
    hidden_dim=768,
    num_layers=12,
    num_heads=12,
    mlp_dim=3072,
    *,
    weights=None,
    include_top=True,
    num_classes=None,
    pooling="token",
    representation_size=None,
    classifier_activation=None,
    include_preprocessing=True,
    dropout_rate=0.0,
    attention_dropout_rate=0.0,
    stochastic_depth_rate=0.0,
    activation=None,
    layer_norm_epsilon=None,
    position_embedding="learned_1d",
    position_embedding_placement="stem",
    input_channels=3,
    dynamic_image_size=False,
    resample_method=None,
    remat=False,
    class_token=None,
    distillation_token=False,
    num_registers=0,
    layer_scale_init=None,
    pre_norm=False,
    qkv_bias=True,
    patch_bias=True,
    projection_dim=None,
    pixel_mean=None,
    pixel_std=None,
    name=None,
):
    """Builds a hybrid Vision Transformer (Dosovitskiy et al., ICLR 2021, Section 3.1).

    The patches come from a CNN feature map instead of raw pixels: a BiT
    ResNetV2 stem (a weight-standardised 7x7 stride-2 convolution, GroupNorm,
    ReLU and a 3x3 stride-2 max-pool, then one stage of post-activation
    bottleneck units per entry of `resnet_layers`, every stage after the first
    halving the resolution) feeds a `patch_size` patch embedding, and the rest
    is the plain ViT: class token, position embeddings, encoder, head.

    Layer and weight names are the original checkpoints' (`conv_root`,
    `gn_root`, `block1/unit1/conv1`, ..., `embedding`), so
    `model.get_layer("block3").output` is the stem's feature map.

    Args:
        resnet_layers: tuple of int. Bottleneck units per stage, e.g.
            `(3, 4, 9)` for R50+ViT-B/16; `()` keeps the root alone (4x).
        resnet_width: float. Width factor: the root has `64 * resnet_width`
            channels, stage `s` bottlenecks `64 * resnet_width * 2**(s - 1)`
            and outputs 4 times that. Defaults to 1.
        patch_size: int. Side of the patches cut from the feature map.
            Defaults to 1.
        image_size: int, pair of ints or None. Input `(height, width)`; the
            stem's feature map must be divisible by `patch_size`. None takes
            the weights' resolution, or 224 without weights. Defaults to None.
        hidden_dim: int. Token width `D`. Defaults to 768.
        num_layers: int. Number of Transformer blocks. Defaults to 12.
        num_heads: int. Attention heads; must divide `hidden_dim`. Defaults to 12.
        mlp_dim: int. Width of each block's MLP. Defaults to 3072.
        weights: None, the name of published weights for this size, or the
            path of an original hybrid `.npz` or a keras_vit `.weights.h5` or
            `.keras` file. The position embeddings are resampled to
            `image_size`; a head for another `num_classes` starts from zero.
            Defaults to None.
        name: str or None. Model name. Defaults to `"vit_hybrid"`.
        include_top: as for `keras_vit.ViT`, with the same default.
        num_classes: as for `keras_vit.ViT`, with the same default.
        pooling: as for `keras_vit.ViT`, with the same default.
        representation_size: as for `keras_vit.ViT`, with the same default.
        classifier_activation: as for `keras_vit.ViT`, with the same default.
        include_preprocessing: as for `keras_vit.ViT`, with the same default.
        dropout_rate: as for `keras_vit.ViT`, with the same default.
        attention_dropout_rate: as for `keras_vit.ViT`, with the same default.
        stochastic_depth_rate: as for `keras_vit.ViT`, with the same default.
        activation: as for `keras_vit.ViT`, with the same default.
        layer_norm_epsilon: as for `keras_vit.ViT`, with the same default.
        position_embedding: as for `keras_vit.ViT`, with the same default.
        position_embedding_placement: as for `keras_vit.ViT`, with the same default.
        input_channels: as for `keras_vit.ViT`, with the same default.
        dynamic_image_size: as for `keras_vit.ViT`, with the same default;
            the model then takes any size divisible by the stem's stride times
            `patch_size`.
        resample_method: as for `keras_vit.ViT`, with the same default.
        remat: as for `keras_vit.ViT`, with the same default.
        class_token: as for `keras_vit.ViT`, with the same default.
        distillation_token: as for `keras_vit.ViT`, with the same default.
        num_registers: as for `keras_vit.ViT`, with the same default.
        layer_scale_init: as for `keras_vit.ViT`, with the same default.
        pre_norm: as for `keras_vit.ViT`, with the same default.
        qkv_bias: as for `keras_vit.ViT`, with the same default.
        patch_bias: as for `keras_vit.ViT`, with the same default.
        projection_dim: as for `keras_vit.ViT`, with the same default.
        pixel_mean: as for `keras_vit.ViT`, with the same default.
        pixel_std: as for `keras_vit.ViT`, with the same default.

    Returns:
        A `keras_vit.models.VisionTransformer` (a functional `keras.Model`
        holding its `ViTConfig` as `vit_config`) mapping `(batch, height,
        width, channels)` images to `(batch, num_classes)` outputs (or the
        pooled features).

    Example:

    >>> model = ViTHybrid(resnet_layers=(1, 1), resnet_width=0.5, image_size=32,
    ...                   hidden_dim=16, num_layers=1, num_heads=2, mlp_dim=32,
    ...                   num_classes=10)
    >>> model.get_layer("pos_embedding").grid_size
    (4, 4)
    >>> keras.ops.shape(model(keras.ops.zeros((1, 32, 32, 3))))
    (1, 10)
    """
    if resnet_layers is None:
        raise ValueError(
            "`resnet_layers` must be a tuple of positive ints such as (3, 4, 9) for a "
            "hybrid; keras_vit.ViT builds the plain ViT. Received: resnet_layers=None"
        )
    arguments = dict(locals())
    weights, name = arguments.pop("weights"), arguments.pop("name")
    return build_with_weights(arguments, weights, name or "vit_hybrid")
