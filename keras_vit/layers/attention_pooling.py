"""Multi-head attention pooling (MAP): big_vision's and SigLIP's head."""

import keras
from keras import ops

from keras_vit.layers.activations import ACTIVATIONS, expansion, mlp_activation
from keras_vit.layers.fast_path import attend, normalize, project
from keras_vit.layers.quantized_policy import quantized_dtype_config, sublayer_policy
from keras_vit.utils.validation import check_choice, check_heads, check_positive_int


@keras.saving.register_keras_serializable(package="keras_vit")
class AttentionPooling(keras.layers.Layer):
    """Pools a token sequence into one vector with a learned query (MAP).

    A learned `probe` token attends to every token (multi-head attention,
    `1 / sqrt(head_dim)` scaling); the result `x` then goes through
    `x + MLP(LayerNorm(x))`. This is big_vision's `MAPHead`, timm's
    `AttentionPoolLatent` and transformers' `SiglipMultiheadAttentionPoolingHead`:
    SigLIP's `pooler_output`.

    The query, key, value and output projections have the layouts of
    `MultiHeadSelfAttention`; `model.quantize(mode)` quantizes them and the
    MLP, and the layer's config then carries their quantized dtype policies.

    Args:
        num_heads: int. Attention heads; must divide the token width.
        mlp_dim: int. Width of the MLP's hidden layer.
        activation: str. The MLP's activation, one of
            `keras_vit.layers.activations.ACTIVATIONS`. Defaults to `"gelu_tanh"`.
        layer_norm_epsilon: float. The LayerNorm's epsilon. Defaults to 1e-6.
        **kwargs: Base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        tokens: Float tensor of shape `(batch, num_tokens, hidden_dim)`.

    Input shape:
        `(batch, num_tokens, hidden_dim)`.

    Output shape:
        `(batch, hidden_dim)`.

    Example:

    >>> layer = AttentionPooling(num_heads=2, mlp_dim=16)
    >>> keras.ops.shape(layer(keras.ops.ones((3, 5, 8))))
    (3, 8)
    """

    def __init__(self, num_heads, mlp_dim, activation="gelu_tanh", layer_norm_epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = check_positive_int("num_heads", num_heads)
        self.mlp_dim = check_positive_int("mlp_dim", mlp_dim)
        self.activation = check_choice("activation", activation, ACTIVATIONS)
        if not layer_norm_epsilon > 0:
            raise ValueError(
                f"`layer_norm_epsilon` must be positive. Received: layer_norm_epsilon={layer_norm_epsilon!r}"
            )
        self.layer_norm_epsilon = float(layer_norm_epsilon)

    def build(self, input_shape):
        width = input_shape[-1]
        heads, size = self.num_heads, check_heads(width, self.num_heads)
        self.head_dim = size
        self.probe = self.add_weight(
            name="probe", shape=(1, 1, width), initializer=keras.initializers.RandomNormal(stddev=width**-0.5)
        )
        for name in ("query", "key", "value"):
            layer = self._einsum(name, "btd,dhk->bthk", (None, heads, size), "hk")
            layer.build((None, 1, width) if name == "query" else input_shape)
            setattr(self, name, layer)
        self.out = self._einsum("out", "bthk,hkd->btd", (None, width), "d")
        self.out.build((None, 1, heads, size))
        self.norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, name="norm", dtype=sublayer_policy(self, "norm")
        )
        self.norm.build((None, 1, width))
        self.mlp_fc1 = self._dense(self.mlp_dim * expansion(self.activation), "mlp_fc1")
        self.mlp_fc1.build((None, 1, width))
        self.mlp_fc2 = self._dense(width, "mlp_fc2")
        self.mlp_fc2.build((None, 1, self.mlp_dim))

    def _einsum(self, name, equation, output_shape, bias_axes):
        return keras.layers.EinsumDense(
            equation, output_shape=output_shape, bias_axes=bias_axes, name=name, dtype=sublayer_policy(self, name)
        )

    def _dense(self, units, name):
        return keras.layers.Dense(units, name=name, dtype=sublayer_policy(self, name))

    def projections(self):
        """The built layer's `EinsumDense` and `Dense` layers by name."""
        names = ("query", "key", "value", "out", "mlp_fc1", "mlp_fc2")
        return {name: getattr(self, name) for name in names}

    def call(self, tokens):
        batch = ops.shape(tokens)[0]
        probe = ops.broadcast_to(ops.cast(self.probe, tokens.dtype), (batch, 1, ops.shape(tokens)[-1]))
        query = project(self.query, probe)
        key, value = project(self.key, tokens), project(self.value, tokens)
        pooled = project(self.out, attend(query, key, value, None, 1.0 / self.head_dim**0.5))
        hidden = mlp_activation(project(self.mlp_fc1, normalize(self.norm, pooled)), self.activation)
        return (pooled + project(self.mlp_fc2, hidden))[:, 0]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(
            num_heads=self.num_heads,
            mlp_dim=self.mlp_dim,
            activation=self.activation,
            layer_norm_epsilon=self.layer_norm_epsilon,
        )
        if self.built:
            config.update(quantized_dtype_config(self, self.projections()))
        return config
