"""Multi-head self-attention with the original checkpoints' kernel layout."""

import keras
from keras import ops

from keras_vit.layers.interpolation import resize_offsets
from keras_vit.layers.fast_path import attend, contract, project
from keras_vit.layers.quantized_policy import quantized_dtype_config, sublayer_policy
from keras_vit.utils.resample import resample_relative_embedding
from keras_vit.utils.validation import check_bool, check_heads, check_positive_int, check_rate

# The projections' layer names, which are also their checkpoint weight paths.
PROJECTIONS = ("query", "key", "value", "out")


@keras.saving.register_keras_serializable(package="keras_vit")
class MultiHeadSelfAttention(keras.layers.Layer):
    """Multi-head self-attention (paper Appendix A, Eq. 5-8).

    Query, key and value kernels have shape `(hidden_dim, num_heads, head_dim)`
    and the output kernel `(num_heads, head_dim, hidden_dim)`, the layout of the
    original checkpoints and of `keras.layers.MultiHeadAttention`. The attention
    product goes through `keras.ops.dot_product_attention`, so every backend
    runs its fused kernel. Attention weights are computed explicitly only when
    they are asked for, when attention dropout is active in training, and in
    float16 on a host with no accelerator, where XLA:CPU cannot lower the
    float16 x float16 -> float32 matmul of JAX's fused attention.

    With `relative_position_tokens=T` the layer adds the paper's 1D relative
    position embeddings (Appendix D.4): for a query at index `i` and a key at
    index `j` of the `T` tokens (class token at 0), the offset `i - j` selects
    one of `2T - 1` learned embeddings, `relative_embedding` of shape
    `(2T - 1, num_heads, head_dim)` (row `i - j + T - 1`). The scaled query's
    dot product with that embedding, an "extra attention" with the offsets'
    embeddings as keys, is added to the content logits before the softmax:
    `logits[h, i, j] = q_i . (k_j + r_(i-j)) / sqrt(head_dim)`. The bias goes
    into the fused kernel through its `bias` argument. Called on a sequence
    of another length (a model built with `dynamic_image_size=True`, at
    another resolution), the table is resampled inside the graph to that
    length's offsets, as the loaders resample it.

    `model.quantize(mode)` quantizes the four projections (Keras' `EinsumDense`
    modes "int8", "float8" and "int4"); `relative_embedding` stays float. The
    layer's config then carries a `keras.dtype_policies.DTypePolicyMap` of the
    projections' quantized policies, keyed by their names, so a saved
    quantized model rebuilds them quantized when it loads.

    Args:
        num_heads: int. Number of attention heads; must divide the input width.
        dropout_rate: float. Dropout on the attention weights. Defaults to 0.
        relative_position_tokens: int or None. The sequence length `T` of the
            relative position embeddings; None for none. Defaults to None.
        qkv_bias: bool. Whether the query, key and value projections have a
            bias (the output projection always has one). Defaults to True.
        **kwargs: Base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        tokens: Float tensor of shape `(batch, num_tokens, hidden_dim)`.
        training: bool. Whether dropout is active. Defaults to None.
        return_attention_scores: bool. Also return the attention weights of
            shape `(batch, num_heads, num_tokens, num_tokens)`. Defaults to False.

    Input shape:
        `(batch, num_tokens, hidden_dim)`.

    Output shape:
        `(batch, num_tokens, hidden_dim)`, and the attention weights when asked.

    Example:

    >>> layer = MultiHeadSelfAttention(num_heads=2)
    >>> out, weights = layer(keras.ops.ones((1, 5, 8)), return_attention_scores=True)
    >>> keras.ops.shape(out), keras.ops.shape(weights)
    ((1, 5, 8), (1, 2, 5, 5))
    """

    def __init__(self, num_heads, dropout_rate=0.0, relative_position_tokens=None, qkv_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.qkv_bias = check_bool("qkv_bias", qkv_bias)
        self.num_heads = check_positive_int("num_heads", num_heads)
        self.dropout_rate = check_rate("dropout_rate", dropout_rate)
        self.relative_position_tokens = None
        if relative_position_tokens is not None:
            self.relative_position_tokens = check_positive_int(
                "relative_position_tokens", relative_position_tokens
            )

    def build(self, input_shape):
        hidden_dim = input_shape[-1]
        self.head_dim = check_heads(hidden_dim, self.num_heads)
        heads, size = self.num_heads, self.head_dim
        for name in PROJECTIONS[:3]:
            projection = self._projection(
                name, "btd,dhk->bthk", (None, heads, size), "hk" if self.qkv_bias else None, (heads + size) / 2
            )
            projection.build(input_shape)
            setattr(self, name, projection)
        self.out = self._projection(
            "out", "bthk,hkd->btd", (None, hidden_dim), "d", (1 + heads) / 2
        )
        self.out.build((*input_shape[:-1], heads, size))
        self.dropout = keras.layers.Dropout(self.dropout_rate, dtype=sublayer_policy(self, "dropout"))
        self.dropout.build((input_shape[0], heads, input_shape[1], input_shape[1]))  # the weights
        self._fused = not _float16_on_cpu(self.compute_dtype)
        if self.relative_position_tokens is not None:
            self._build_relative(input_shape)

    def _build_relative(self, input_shape):
        tokens = self.relative_position_tokens
        if input_shape[1] not in (None, tokens):
            raise ValueError(
                f"The relative position embeddings cover {tokens} tokens. "
                f"Received: input_shape={tuple(input_shape)}"
            )
        self.relative_embedding = self.add_weight(
            name="relative_embedding",
            shape=(2 * tokens - 1, self.num_heads, self.head_dim),
            initializer=keras.initializers.RandomNormal(stddev=0.02),
        )

    def _projection(self, name, equation, output_shape, bias_axes, fan_scale):
        # Scaling the variance keeps Xavier-uniform over the (in, out) matrix the
        # kernel reshapes to, as the original initialises it; Keras would count the
        # extra kernel axis as a receptive field.
        initializer = keras.initializers.VarianceScaling(
            scale=fan_scale, mode="fan_avg", distribution="uniform"
        )
        return keras.layers.EinsumDense(
            equation,
            output_shape=output_shape,
            bias_axes=bias_axes,
            kernel_initializer=initializer,
            name=name,
            dtype=sublayer_policy(self, name),
        )

    def projections(self):
        """The built layer's query, key, value and output `EinsumDense`
        layers, by name."""
        return {name: getattr(self, name) for name in PROJECTIONS}

    def call(self, tokens, training=None, return_attention_scores=False):
        query, key, value = (project(layer, tokens) for layer in (self.query, self.key, self.value))
        bias = None if self.relative_position_tokens is None else self.relative_logits(query)
        dropout_active = training and self.dropout_rate > 0
        if return_attention_scores or dropout_active or not self._fused:
            mixed, weights = self._explicit_attention(query, key, value, bias, training)
        else:
            scale = 1.0 / self.head_dim**0.5
            mixed = attend(query, key, value, bias, scale)
        output = project(self.out, mixed)
        return (output, weights) if return_attention_scores else output

    def compute_output_spec(self, tokens, training=None, return_attention_scores=False):
        return attention_output_spec(self, tokens, return_attention_scores)

    def relative_logits(self, query):
        """The relative-position bias: `(batch, heads, T, T)` logits of the
        scaled queries `(batch, T, heads, head_dim)` (the `query` projection's
        output) against the embedding of each query-key offset."""
        tokens = ops.shape(query)[1]
        query = query * ops.cast(1.0 / self.head_dim**0.5, query.dtype)
        # A sequence of another length (a dynamic-size model at another
        # resolution) gets the table resampled to its offsets, as on load.
        table = resize_offsets(self.relative_embedding, tokens)
        # Reversed, column m of the logits holds offset T - 1 - m, and the
        # bias of query i and key j (offset i - j) sits at m = T - 1 - i + j:
        # in the flattened rows, at T - 1 + i * (2T - 2) + j. Slices and
        # reshapes pick them out, with no gather for exporters to translate.
        # The logits are flipped, not the table: the same products, and
        # OpenVINO 2026.4 miscomputes an einsum of a reversed weight.
        logits = contract("bqhk,ohk->bhqo", query, ops.cast(table, query.dtype))
        logits = ops.flip(logits, axis=-1)
        if isinstance(tokens, int) and tokens == 1:
            return logits
        # Explicit sizes, no -1: JAX cannot infer one from symbolic dimensions.
        batch, width = ops.shape(query)[0], 2 * tokens - 2
        flat = ops.reshape(logits, (batch, self.num_heads, tokens * (2 * tokens - 1)))
        flat = flat[:, :, tokens - 1 : tokens - 1 + tokens * width]
        return ops.reshape(flat, (batch, self.num_heads, tokens, width))[..., :tokens]

    def _explicit_attention(self, query, key, value, bias, training):
        query = query * ops.cast(1.0 / self.head_dim**0.5, query.dtype)
        logits = contract("bqhk,bthk->bhqt", query, key)
        if bias is not None:
            logits = logits + bias
        # Softmax in float32: float16 logits can overflow exp().
        weights = ops.softmax(ops.cast(logits, "float32"), axis=-1)
        weights = ops.cast(weights, value.dtype)
        mixed = contract("bhqt,bthk->bqhk", self.dropout(weights, training=training), value)
        return mixed, weights

    def resample_weight(self, name, array, method="zoom"):
        """`array`, a `relative_embedding` learned for another sequence length,
        resized to this layer's `2T - 1` offsets (linear, corners aligned,
        whatever `method`: the offset axis is one-dimensional)."""
        if name != "relative_embedding":
            raise ValueError(f"{name!r} of {type(self).__name__} cannot be resampled.")
        return resample_relative_embedding(array, self.relative_position_tokens)

    def get_config(self):
        config = super().get_config()
        config.update(
            num_heads=self.num_heads,
            dropout_rate=self.dropout_rate,
            relative_position_tokens=self.relative_position_tokens,
            qkv_bias=self.qkv_bias,
        )
        if self.built:
            config.update(quantized_dtype_config(self, self.projections()))
        return config


def attention_output_spec(layer, tokens, return_attention_scores):
    """The outputs of an attention `layer` (or a block around one) on `tokens`:
    the same shape, and the `(batch, heads, T, T)` weights when asked.

    Stated rather than traced: a sequence of open length is a symbolic
    dimension on JAX, and the relative bias' reshape to `T * (2T - 1)` is a
    product of two that JAX cannot prove non-negative.
    """
    output = keras.KerasTensor(tokens.shape, dtype=layer.compute_dtype)
    if not return_attention_scores:
        return output
    batch, length = tokens.shape[:2]
    weights = keras.KerasTensor((batch, layer.num_heads, length, length), dtype=layer.compute_dtype)
    return output, weights


def _float16_on_cpu(compute_dtype):
    if compute_dtype != "float16":
        return False
    try:
        devices = keras.distribution.list_devices()
    except AttributeError:
        # keras.distribution has no device listing on the torch backend, whose
        # fused attention runs float16 on any device.
        return False
    return all(device.lower().startswith("cpu") for device in devices)
