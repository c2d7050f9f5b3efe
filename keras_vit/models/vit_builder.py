"""The Vision Transformer as a functional Keras model (paper Section 3.1)."""

import keras

from keras_vit.layers import names
from keras_vit.layers.attention_pooling import AttentionPooling
from keras_vit.layers.class_token import ClassToken, RegisterTokens
from keras_vit.layers.patch_embedding import PatchEmbedding
from keras_vit.layers.pooling import SequencePooling
from keras_vit.layers.position_embedding import POSITION_EMBEDDINGS
from keras_vit.layers.resnet import resnet_stem
from keras_vit.layers.transformer_block import TransformerBlock
from keras_vit.models.pretrained import open_config, resolve_weights
from keras_vit.models.vision_transformer import VisionTransformer
from keras_vit.preprocessing import rescaling_layer
from keras_vit.weights.load import load_weights


def ViT(
    image_size=None,
    patch_size=16,
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
    """Builds a Vision Transformer of any size (Dosovitskiy et al., ICLR 2021).

    The image is cut into `patch_size` patches, each linearly embedded; a class
    token and learned position embeddings are added and the sequence runs
    through `num_layers` pre-LayerNorm Transformer blocks. The final LayerNorm's
    class token (or the mean of the patch tokens) feeds an optional `tanh`
    pre-logits layer and the classification head.

    The paper's descendants are options of the same architecture (see
    docs/models.md for each family's values): DeiT's distillation token,
    DINOv2's LayerScale, register tokens and SwiGLU MLP, SigLIP's attention
    pooling without class token, CLIP's LayerNorm before the encoder,
    QuickGELU and projection, and each family's pixel mean and std.

    Layer names are stable, so intermediate outputs can be read by name:
    `model.get_layer("encoder_norm").output` is the full token sequence
    `(batch, tokens, hidden_dim)`, `model.get_layer(f"encoderblock_{i}").output`
    the output of block `i`; `keras_vit.models.intermediates(model)` returns a
    model with all of them and every block's attention weights.

    Args:
        image_size: int, pair of ints or None. Input `(height, width)`, each
            divisible by `patch_size`. None takes the weights' resolution, or
            224 without weights. Defaults to None.
        patch_size: int. Side of the square patches. Weights of another
            patch size have their patch embedding resampled to it (FlexiViT,
            `keras_vit.utils.resample_patch_embedding`) and their position
            embeddings to the new grid. Defaults to 16.
        hidden_dim: int. Token width `D`. Defaults to 768.
        num_layers: int. Number of Transformer blocks. Defaults to 12.
        num_heads: int. Attention heads; must divide `hidden_dim`. Defaults to 12.
        mlp_dim: int. Width of each block's MLP. Defaults to 3072.
        weights: None (random initialisation), the name of published weights
            for this size (see `keras_vit.weights.names()`), or the path of a
            checkpoint: an original `.npz`, a timm `.safetensors`/`.pth`/`.bin`,
            a HF model folder, or a keras_vit `.weights.h5`/`.keras` file.
            Arguments left at None follow the weights: their resolution,
            classes and pre-logits width, and for checkpoint files their GELU
            and LayerNorm epsilon. Arguments given win: the position
            embeddings are resampled to `image_size`, a head for another
            `num_classes` starts from zero. Defaults to None.
        include_top: bool. Whether to end in the classification head; if False
            the model returns the pooled representation. Defaults to True.
        num_classes: int or None. Number of classes of the head. None takes
            the weights' head, or 1000 without weights. Defaults to None.
        pooling: str. `"token"` takes the class token's final state; `"gap"`
            averages the patch tokens (and builds no class token unless
            `class_token=True`); `"map"` pools with a learned query through
            multi-head attention, a LayerNorm and an MLP (SigLIP's and
            big_vision's MAP head, `keras_vit.layers.AttentionPooling`).
            Defaults to `"token"`.
        representation_size: int or None. Width of a `Dense + tanh` pre-logits
            layer before the head. None takes the weights' pre-logits layer if
            they have one (and `include_top` is True), else builds none.
            Defaults to None.
        classifier_activation: str or None. Activation of the head's output,
            e.g. `"softmax"`; None returns logits. Defaults to None.
        include_preprocessing: bool. If True the model takes RGB pixels in
            `[0, 255]` and maps them to what the weights expect (`[-1, 1]` for
            the original checkpoints, see `pixel_mean`); if False the caller
            feeds that. Defaults to True.
        dropout_rate: float. Dropout on the embeddings, after attention and in
            the MLPs. Defaults to 0.
        attention_dropout_rate: float. Dropout on the attention weights.
            Defaults to 0.
        stochastic_depth_rate: float. Drop rate of the last block's residual
            branches while training, rising linearly from 0 in the first
            block (`keras_vit.layers.StochasticDepth`). Defaults to 0.
        activation: str or None. The MLP's activation: `"gelu_tanh"` (the
            tanh approximation of GELU, as the original implementation and
            SigLIP compute it), `"gelu"` (exact, as timm, DeiT and DINOv2),
            `"quick_gelu"` (OpenAI CLIP's `x * sigmoid(1.702 x)`) or
            `"swiglu"` (a gated MLP, DINOv2-g: the first Dense has
            `2 * mlp_dim` units, `silu(gate) * value`). None follows a
            checkpoint file, else `"gelu_tanh"`. Defaults to None.
        layer_norm_epsilon: float or None. Epsilon of every LayerNorm. None
            follows a checkpoint file (HF's `layer_norm_eps`), else 1e-6.
            Defaults to None.
        position_embedding: str. The kind of position information (paper
            Appendix D.4): `"learned_1d"` (the paper's choice, one learned
            embedding per token), `"learned_2d"` (learned row and column
            embeddings of width `hidden_dim / 2`, concatenated), `"relative"`
            (learned embeddings of the query-key offset inside every block's
            attention), `"sincos_2d"` (big_vision's fixed sine-cosine
            embedding of the column and row, nothing learned; `hidden_dim` a
            multiple of 4) or `"none"`. Defaults to `"learned_1d"`.
        position_embedding_placement: str. Where the learned 1D or 2D
            embedding is added: `"stem"` (once, after the patch embedding and
            class token), `"every_layer"` (a separate embedding added at the
            start of every block) or `"every_layer_shared"` (one embedding
            added at the start of every block). `"none"`, `"relative"` and
            `"sincos_2d"` take only `"stem"`. Defaults to `"stem"`.
        input_channels: int. Channels of the input images (1 for
            grayscale, more for multispectral). Weights for RGB images are
            adapted as timm's `adapt_input_conv` does: the patch embedding's
            (a hybrid's: the stem's first convolution's) three input
            channels summed for 1 channel, repeated and scaled by
            `3 / input_channels` for more; the weights' `pixel_mean` and
            `pixel_std` likewise: their mean for 1 channel, repeated for
            more. Defaults to 3.
        dynamic_image_size: bool. If True the model takes images of any
            height and width divisible by `patch_size` (for a hybrid: by the
            stem's stride times `patch_size`): its input is `(batch, None,
            None, channels)` and every position embedding is resampled inside
            the graph from the `image_size` grid it holds to the grid of each
            call, with `resample_method`. At `image_size` it computes exactly
            what the static model computes. Under `jit_compile` JAX and
            TensorFlow compile once per input size. Defaults to False.
        resample_method: str or None. How position embeddings move to
            another grid: `"zoom"` (the original implementation's linear
            zoom, corners aligned), `"bicubic"` (transformers'
            `interpolate_pos_encoding`) or `"bicubic_antialias"` (DINOv2's and
            timm's). Used when `weights` were trained at another resolution
            and, with `dynamic_image_size`, at every call. None follows a
            checkpoint of the ViT family (timm's files and transformers'
            DINOv2 with registers: `"bicubic_antialias"`; transformers'
            DINOv2, DeiT, SigLIP and CLIP: `"bicubic"`), else `"zoom"`.
            Defaults to None.
        remat: bool. If True every Transformer block is rematerialized: the
            backward pass keeps only each block's input and computes its
            activations again, through `keras.remat` (`jax.checkpoint` on
            JAX, `tf.recompute_grad` on TensorFlow,
            `torch.utils.checkpoint.checkpoint` on PyTorch). Outputs,
            gradients and weights are unchanged; training takes less memory
            and one more forward pass of the encoder per step (about a third
            more compute). Saved in `.keras` files. Defaults to False.
        class_token: bool or None. Whether a class token leads the sequence.
            None builds one exactly when `pooling="token"`; `False` with
            `"map"` is SigLIP's layout. Defaults to None.
        distillation_token: bool. DeiT's distillation token after the class
            token, with a head of its own (`head_dist`): the output is the
            mean of the two heads' logits, and without the heads the mean of
            the two tokens. Needs `pooling="token"`. Defaults to False.
        num_registers: int. Register tokens after the class token (4 in
            DINOv2 with registers), without position embedding; pooling and
            features leave them out. Defaults to 0.
        layer_scale_init: float or None. LayerScale on both residual
            branches of every block, each channel's scale starting at this
            value (DINOv2: 1e-5); None for none. Defaults to None.
        pre_norm: bool. A LayerNorm on the whole sequence before the first
            block (CLIP's `ln_pre`). Defaults to False.
        qkv_bias: bool. Whether the query, key and value projections have a
            bias. Defaults to True.
        patch_bias: bool. Whether the patch embedding has a bias (CLIP's has
            none). Defaults to True.
        projection_dim: int or None. A linear map without bias after the
            pooled features (CLIP's `visual_projection`, giving its
            `image_embeds`); None for none. Defaults to None.
        pixel_mean: tuple of floats or None. Per-channel mean of pixels in
            `[0, 1]` that the weights expect; with `include_preprocessing`
            the model maps `[0, 255]` to `(x / 255 - mean) / std`. None
            follows the weights, else 0.5 (the paper's `[-1, 1]`).
            Defaults to None.
        pixel_std: tuple of floats or None. The per-channel std that goes
            with `pixel_mean`; None as for it. Defaults to None.
        name: str or None. Model name. Defaults to `"vit"`.

    Returns:
        A `keras_vit.models.VisionTransformer` (a functional `keras.Model`
        holding this `ViTConfig` as `vit_config`) mapping `(batch, height,
        width, channels)` images to `(batch, num_classes)` outputs (or the
        pooled features).

    Example:

    >>> model = ViT(image_size=32, patch_size=8, hidden_dim=16, num_layers=2,
    ...             num_heads=2, mlp_dim=32, num_classes=10)
    >>> keras.ops.shape(model(keras.ops.zeros((1, 32, 32, 3))))
    (1, 10)
    >>> model = ViT(image_size=32, patch_size=8, hidden_dim=16, num_layers=2,
    ...             num_heads=2, mlp_dim=32, num_classes=10, dynamic_image_size=True)
    >>> keras.ops.shape(model(keras.ops.zeros((1, 48, 24, 3))))
    (1, 10)
    """
    arguments = dict(locals())
    weights, name = arguments.pop("weights"), arguments.pop("name")
    return build_with_weights(arguments, weights, name or "vit")


def build_with_weights(arguments, weights, name):
    """What every ViT builder does: `arguments` (`ViTConfig` fields, those of
    `FOLLOW_WEIGHTS` at None left open) become a `ViTConfig`, `weights` fill the
    open fields and name the source, the model is built and the source loaded."""
    config, open_fields = open_config(arguments)
    config, source = resolve_weights(config, weights, open_fields)
    model = build_vit(config, name=name)
    if source is not None:
        load_weights(model, source, resample_method=config.resample_method)
    return model


def build_vit(config, name="vit"):
    """Builds the functional model that `config` describes, with fresh weights.

    Args:
        config: `keras_vit.models.ViTConfig`.
        name: str. The model's name. Defaults to `"vit"`.

    Returns:
        A `keras_vit.models.VisionTransformer`.
    """
    size = (None, None) if config.dynamic_image_size else config.image_size
    images = keras.Input((*size, config.input_channels), name="images")
    features = images
    if config.include_preprocessing:
        features = rescaling_layer(config.pixel_mean, config.pixel_std)(features)
    if config.resnet_layers is not None:
        features = resnet_stem(
            features, config.resnet_layers, config.stem_width, size_multiple=config.dynamic_patch_stride
        )
    patches = PatchEmbedding(
        config.patch_size, config.hidden_dim, flatten=False, use_bias=config.patch_bias, name=names.PATCH_EMBEDDING
    )(features)
    tokens = keras.layers.Reshape((-1, config.hidden_dim), name=names.PATCH_TOKENS)(patches)
    outputs = head(encode(tokens, config, patches if config.dynamic_image_size else None), config)
    return VisionTransformer(images, outputs, name=name, vit_config=config)


def encode(tokens, config, grid=None):
    """Prefix tokens, position embeddings and the Transformer encoder (paper Eq. 1-4).

    The sequence is `[class, distillation, registers..., patches]`, each
    prefix token where the config has it; the registers join after the
    position embedding, and CLIP's `pre_norm` normalises the whole sequence
    before the first block. `grid` is the patch embedding's output on its
    grid in a dynamic-size model, from which the position layers read each
    call's grid; None in a fixed-size one.
    """
    # Each token is prepended: the distillation token first, so that the class
    # token ends up before it.
    if config.distillation_token:
        tokens = ClassToken(name=names.DISTILLATION_TOKEN)(tokens)
    if config.class_token:
        tokens = ClassToken(name=names.CLASS_TOKEN)(tokens)
    # The layer after the stem always exists and knows the grid; it adds the
    # embedding only when placed there.
    at_stem = config.position_embedding_placement == "stem"
    tokens = _position_embedding(config, names.POSITION_EMBEDDING, added=at_stem)(tokens, grid)
    if config.num_registers:
        index = config.num_position_prefix_tokens
        tokens = RegisterTokens(config.num_registers, index=index, name=names.REGISTERS)(tokens)
    tokens = keras.layers.Dropout(config.dropout_rate, name="pos_dropout")(tokens)
    if config.pre_norm:
        tokens = keras.layers.LayerNormalization(epsilon=config.layer_norm_epsilon, name=names.PRE_NORM)(tokens)
    shared = None
    if config.position_embedding_placement == "every_layer_shared":
        shared = _position_embedding(config, names.SHARED_POSITION_EMBEDDING)
    relative = config.num_tokens if config.position_embedding == "relative" else None
    for index in range(config.num_layers):
        if config.position_embedding_placement == "every_layer":
            tokens = _position_embedding(config, names.position_embedding(index))(tokens, grid)
        elif shared is not None:
            tokens = shared(tokens, grid)
        tokens = TransformerBlock(
            config.num_heads,
            config.mlp_dim,
            dropout_rate=config.dropout_rate,
            attention_dropout_rate=config.attention_dropout_rate,
            layer_norm_epsilon=config.layer_norm_epsilon,
            activation=config.activation,
            stochastic_depth_rate=config.stochastic_depth(index),
            relative_position_tokens=relative,
            remat=config.remat,
            layer_scale_init=config.layer_scale_init,
            qkv_bias=config.qkv_bias,
            name=names.block(index),
        )(tokens)
    return keras.layers.LayerNormalization(
        epsilon=config.layer_norm_epsilon, name=names.ENCODER_NORM
    )(tokens)


def _position_embedding(config, name, added=True):
    kind = config.position_embedding if added else "none"
    layer = POSITION_EMBEDDINGS[kind]
    prefix = config.num_position_prefix_tokens
    return layer(config.grid_size, prefix, resample_method=config.resample_method, name=name)


def head(tokens, config):
    """Pooling, the optional pre-logits layer or projection, and the classification head."""
    if config.distillation_token:
        return _distilled_head(tokens, config)
    features = _pooling(config)(tokens)
    if config.representation_size is not None:
        features = keras.layers.Dense(
            config.representation_size, activation="tanh", name=names.PRE_LOGITS
        )(features)
    if config.projection_dim is not None:
        features = keras.layers.Dense(config.projection_dim, use_bias=False, name=names.PROJECTION)(features)
    if not config.include_top:
        return features
    return _predictions(_classifier(config, names.HEAD)(features), config)


def _pooling(config):
    if config.pooling == "map":
        return AttentionPooling(
            config.num_heads,
            config.mlp_dim,
            activation=config.activation,
            layer_norm_epsilon=config.layer_norm_epsilon,
            name=names.POOLING,
        )
    return SequencePooling(config.pooling, config.num_prefix_tokens, name=names.POOLING)


def _distilled_head(tokens, config):
    """DeiT's two heads: one on the class token, one on the distillation token,
    their logits averaged (timm's and transformers' inference output); without
    the heads, the two tokens' mean (timm's pre-logits)."""
    token = SequencePooling("token", name=names.POOLING)(tokens)
    distillation = SequencePooling("token", index=1, name=names.DISTILLATION_POOLING)(tokens)
    if not config.include_top:
        return keras.layers.Average(name="features")([token, distillation])
    logits = [_classifier(config, names.HEAD)(token), _classifier(config, names.DISTILLATION_HEAD)(distillation)]
    return _predictions(keras.layers.Average(name="logits")(logits), config)


def _classifier(config, name):
    return keras.layers.Dense(config.num_classes, kernel_initializer="zeros", name=name)


def _predictions(logits, config):
    # A float32 output keeps softmax and the loss out of float16/bfloat16.
    return keras.layers.Activation(
        config.classifier_activation or "linear", dtype="float32", name="predictions"
    )(logits)
