"""The pre-LayerNorm Transformer encoder block of the Vision Transformer."""

import functools

import keras
from keras import ops

from keras_vit.layers.activations import ACTIVATIONS, expansion, mlp_activation, upgrade_config
from keras_vit.layers.attention import MultiHeadSelfAttention, attention_output_spec
from keras_vit.layers.fast_path import normalize, project
from keras_vit.layers.layer_scale import LayerScale
from keras_vit.layers.stochastic_depth import StochasticDepth
from keras_vit.layers.quantized_policy import quantized_dtype_config, sublayer_policy
from keras_vit.utils.validation import (
    check_bool,
    check_choice,
    check_heads,
    check_positive_int,
    check_rate,
    is_positive_number,
)


@keras.saving.register_keras_serializable(package="keras_vit")
class TransformerBlock(keras.layers.Layer):
    """One Transformer encoder layer (paper Eq. 2-3, Appendix A).

    `x = x + MSA(LN(x)); x = x + MLP(LN(x))`, with `MLP = Dense(mlp_dim) -> GELU
    -> Dense(hidden_dim)` and dropout after the attention and after each MLP
    Dense, as in the original implementation. The ViT family's options: the
    MLP's `activation` (a gated SwiGLU MLP for DINOv2-g), LayerScale on both
    branches (`x = x + ls1 * MSA(LN(x))`, DINOv2) and query, key and value
    projections without bias.

    `model.quantize(mode)` quantizes the attention's projections and both MLP
    `Dense` layers; the block's config then carries their quantized dtype
    policies (a `keras.dtype_policies.DTypePolicyMap` keyed `"attn/query"`,
    ..., `"mlp_fc2"`), so a saved quantized model loads as it was saved.

    Args:
        num_heads: int. Number of attention heads; must divide the token width.
        mlp_dim: int. Width of the MLP's hidden layer.
        dropout_rate: float. Dropout after attention and in the MLP. Defaults to 0.
        attention_dropout_rate: float. Dropout on the attention weights.
            Defaults to 0.
        layer_norm_epsilon: float. LayerNorm epsilon. Defaults to 1e-6.
        activation: str. The MLP's activation, one of
            `keras_vit.layers.activations.ACTIVATIONS`: `"gelu_tanh"` (the
            original implementation's tanh approximation), `"gelu"` (exact),
            `"quick_gelu"` (CLIP) or `"swiglu"` (a gated MLP whose first
            `Dense` has `2 * mlp_dim` units). Defaults to `"gelu_tanh"`.
        layer_scale_init: float or None. LayerScale (`ls1`, `ls2`) on both
            residual branches, each channel's scale starting at this value;
            None for none. Defaults to None.
        qkv_bias: bool. Whether the query, key and value projections have a
            bias. Defaults to True.
        stochastic_depth_rate: float. Probability of dropping each residual
            branch for an example while training (`StochasticDepth`).
            Defaults to 0.
        relative_position_tokens: int or None. With a sequence length `T`,
            the attention adds 1D relative position embeddings over the `T`
            tokens (`MultiHeadSelfAttention`, paper Appendix D.4); None for
            none. Defaults to None.
        remat: bool. Rematerialize the block: keep only its input for the
            backward pass and compute its activations again there, through
            `keras.remat` (`jax.checkpoint` on JAX, `tf.recompute_grad` on
            TensorFlow, `torch.utils.checkpoint.checkpoint` on PyTorch).
            Same outputs and gradients (the recomputation draws the same
            dropout and stochastic-depth masks), less memory, about a third
            more compute per training step. Defaults to False.
        **kwargs: Base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        tokens: Float tensor of shape `(batch, num_tokens, hidden_dim)`.
        training: bool. Whether dropout and stochastic depth are active. Defaults to None.
        return_attention_scores: bool. Also return the attention weights of
            shape `(batch, num_heads, num_tokens, num_tokens)`. The ordinary
            path never computes them. Defaults to False.

    Input shape:
        `(batch, num_tokens, hidden_dim)`.

    Output shape:
        `(batch, num_tokens, hidden_dim)`, and the attention weights when asked.

    Example:

    >>> block = TransformerBlock(num_heads=2, mlp_dim=16)
    >>> keras.ops.shape(block(keras.ops.ones((1, 5, 8))))
    (1, 5, 8)
    """

    def __init__(
        self,
        num_heads,
        mlp_dim,
        dropout_rate=0.0,
        attention_dropout_rate=0.0,
        layer_norm_epsilon=1e-6,
        activation="gelu_tanh",
        stochastic_depth_rate=0.0,
        relative_position_tokens=None,
        remat=False,
        layer_scale_init=None,
        qkv_bias=True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_heads = check_positive_int("num_heads", num_heads)
        self.mlp_dim = check_positive_int("mlp_dim", mlp_dim)
        self.dropout_rate = check_rate("dropout_rate", dropout_rate)
        self.attention_dropout_rate = check_rate(
            "attention_dropout_rate", attention_dropout_rate
        )
        if not layer_norm_epsilon > 0:
            raise ValueError(
                "`layer_norm_epsilon` must be positive. "
                f"Received: layer_norm_epsilon={layer_norm_epsilon!r}"
            )
        self.layer_norm_epsilon = float(layer_norm_epsilon)
        self.activation = check_choice("activation", activation, ACTIVATIONS)
        if layer_scale_init is not None and not is_positive_number(layer_scale_init):
            raise ValueError(
                "`layer_scale_init` must be None or a positive number. "
                f"Received: layer_scale_init={layer_scale_init!r}"
            )
        self.layer_scale_init = None if layer_scale_init is None else float(layer_scale_init)
        self.qkv_bias = check_bool("qkv_bias", qkv_bias)
        self.stochastic_depth_rate = check_rate("stochastic_depth_rate", stochastic_depth_rate)
        self.relative_position_tokens = None
        if relative_position_tokens is not None:
            self.relative_position_tokens = check_positive_int(
                "relative_position_tokens", relative_position_tokens
            )
        self.remat = check_bool("remat", remat)

    def build(self, input_shape):
        if len(input_shape) != 3 or input_shape[-1] is None:
            raise ValueError(
                "TransformerBlock expects tokens of shape (batch, num_tokens, "
                f"hidden_dim). Received: input_shape={tuple(input_shape)}"
            )
        hidden_dim = input_shape[-1]
        check_heads(hidden_dim, self.num_heads)
        policy = sublayer_policy(self, "norm1")  # the block's float policy
        eps = self.layer_norm_epsilon
        self.norm1 = keras.layers.LayerNormalization(epsilon=eps, name="norm1", dtype=policy)
        self.attn = MultiHeadSelfAttention(
            self.num_heads,
            self.attention_dropout_rate,
            relative_position_tokens=self.relative_position_tokens,
            qkv_bias=self.qkv_bias,
            name="attn",
            dtype=sublayer_policy(self, "attn"),
        )
        self.norm2 = keras.layers.LayerNormalization(epsilon=eps, name="norm2", dtype=policy)
        self.mlp_fc1 = self._dense(self.mlp_dim * expansion(self.activation), "mlp_fc1")
        self.mlp_fc2 = self._dense(hidden_dim, "mlp_fc2")
        self.dropout = keras.layers.Dropout(self.dropout_rate, dtype=policy)
        self.drop_branch = StochasticDepth(self.stochastic_depth_rate, dtype=policy)
        self.ls1 = self.ls2 = None
        if self.layer_scale_init is not None:
            self.ls1 = LayerScale(self.layer_scale_init, name="ls1", dtype=policy)
            self.ls2 = LayerScale(self.layer_scale_init, name="ls2", dtype=policy)
            self.ls1.build(input_shape)
            self.ls2.build(input_shape)
        # Built here, weights or not: functional models state the block's
        # output (`compute_output_spec`) without calling it.
        for layer in (self.norm1, self.attn, self.norm2, self.mlp_fc1, self.dropout, self.drop_branch):
            layer.build(input_shape)
        self.mlp_fc2.build((*input_shape[:-1], self.mlp_dim))

    def _dense(self, units, name):
        return keras.layers.Dense(
            units,
            kernel_initializer="glorot_uniform",
            bias_initializer=keras.initializers.RandomNormal(stddev=1e-6),
            name=name,
            dtype=sublayer_policy(self, name),
        )

    def projections(self):
        """The built block's `Dense` and `EinsumDense` layers by path:
        `"attn/query"`, `"attn/key"`, `"attn/value"`, `"attn/out"`,
        `"mlp_fc1"` and `"mlp_fc2"`."""
        layers = {f"attn/{name}": layer for name, layer in self.attn.projections().items()}
        return {**layers, "mlp_fc1": self.mlp_fc1, "mlp_fc2": self.mlp_fc2}

    def call(self, tokens, training=None, return_attention_scores=False):
        # The flags stay Python values bound outside the rematerialized function:
        # jax.checkpoint would trace them into arrays.
        forward = functools.partial(
            self._forward, training=training, return_attention_scores=return_attention_scores
        )
        if not self.remat:
            return forward(tokens)
        return _rematerialized(forward, self._seed_generators_drawn(training))(tokens)

    def _seed_generators_drawn(self, training):
        """The generators of the dropout and stochastic-depth masks this call draws."""
        layers = (self.attn.dropout, self.dropout, self.drop_branch)
        return [layer.seed_generator for layer in layers if _drops(layer, training)]

    def _forward(self, tokens, training, return_attention_scores):
        attended = self.attn(
            normalize(self.norm1, tokens),
            training=training,
            return_attention_scores=return_attention_scores,
        )
        if return_attention_scores:
            attended, weights = attended
        tokens = tokens + self._residual(attended, self.ls1, training)
        hidden = project(self.mlp_fc1, normalize(self.norm2, tokens))
        hidden = mlp_activation(hidden, self.activation)
        hidden = project(self.mlp_fc2, _drop(self.dropout, hidden, training))
        tokens = tokens + self._residual(hidden, self.ls2, training)
        return (tokens, weights) if return_attention_scores else tokens

    def compute_output_spec(self, tokens, training=None, return_attention_scores=False):
        return attention_output_spec(self, tokens, return_attention_scores)

    def _residual(self, branch, layer_scale, training):
        branch = _drop(self.dropout, branch, training)
        if layer_scale is not None:
            branch = layer_scale(branch)
        return _drop(self.drop_branch, branch, training)

    def get_config(self):
        config = super().get_config()
        config.update(
            num_heads=self.num_heads,
            mlp_dim=self.mlp_dim,
            dropout_rate=self.dropout_rate,
            attention_dropout_rate=self.attention_dropout_rate,
            layer_norm_epsilon=self.layer_norm_epsilon,
            activation=self.activation,
            stochastic_depth_rate=self.stochastic_depth_rate,
            relative_position_tokens=self.relative_position_tokens,
            remat=self.remat,
            layer_scale_init=self.layer_scale_init,
            qkv_bias=self.qkv_bias,
        )
        if self.built:
            config.update(quantized_dtype_config(self, self.projections()))
        return config

    @classmethod
    def from_config(cls, config):
        return super().from_config(upgrade_config(config))


def _drops(layer, training):
    """Whether a `Dropout` or `StochasticDepth` layer drops anything, and so draws masks."""
    return bool(training) and layer.rate > 0


def _drop(layer, tensor, training):
    """`layer(tensor, training=training)` for a `Dropout` or `StochasticDepth`
    layer; `tensor` itself, with no layer call, when the layer drops nothing
    (each Keras layer call costs time of its own on torch, which runs eagerly;
    a block makes five of these)."""
    if not _drops(layer, training):
        return tensor
    return layer(tensor, training=training)


def _rematerialized(forward, seed_generators):
    """`keras.remat(forward)` for a function of one tensor that draws from `seed_generators`.

    The backward pass runs `forward` again. Left to themselves, the generators
    would have moved on by then and draw other masks (wrong gradients on
    TensorFlow and torch), and under `jax.checkpoint` their new states would
    leak out of the trace. So each state goes into the rematerialized function
    as an argument and comes out as a result: the second run starts from the
    states of the first. (torch's checkpoint restores torch's own generator,
    which Keras' unseeded torch Dropout draws from.)
    """
    if not seed_generators:
        return keras.remat(forward)

    def stateless(inputs, *states):
        for generator, state in zip(seed_generators, states):
            generator.state.assign(state)
        outputs = forward(inputs)
        return outputs, [ops.copy(generator.state.value) for generator in seed_generators]

    recomputed = keras.remat(stateless)

    def call(inputs):
        states = [ops.copy(generator.state.value) for generator in seed_generators]
        outputs, states = recomputed(inputs, *states)
        for generator, state in zip(seed_generators, states):
            generator.state.assign(state)
        return outputs

    return call
