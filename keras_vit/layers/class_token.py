"""Learned tokens before the patches: the [class] token (and DeiT's distillation
token, a second one), and DINOv2's registers."""

import keras
from keras import ops

from keras_vit.utils.validation import check_non_negative_int, check_positive_int


@keras.saving.register_keras_serializable(package="keras_vit")
class ClassToken(keras.layers.Layer):
    """Prepends a learned `[class]` token to a token sequence (paper Eq. 1, `x_class`).

    The final encoder state of this token serves as the image representation
    when the model pools with `pooling="token"`.

    Args:
        **kwargs: Base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        tokens: Float tensor of shape `(batch, num_tokens, hidden_dim)`.

    Input shape:
        `(batch, num_tokens, hidden_dim)`.

    Output shape:
        `(batch, num_tokens + 1, hidden_dim)`.

    Example:

    >>> keras.ops.shape(ClassToken()(keras.ops.ones((2, 4, 8))))
    (2, 5, 8)
    """

    def build(self, input_shape):
        if len(input_shape) != 3 or input_shape[-1] is None:
            raise ValueError(
                "ClassToken expects tokens of shape (batch, num_tokens, hidden_dim). "
                f"Received: input_shape={tuple(input_shape)}"
            )
        self.token = self.add_weight(
            name="token", shape=(1, 1, input_shape[-1]), initializer="zeros"
        )

    def call(self, tokens):
        batch = ops.shape(tokens)[0]
        token = ops.cast(self.token, tokens.dtype)
        token = ops.broadcast_to(token, (batch, 1, ops.shape(tokens)[-1]))
        return ops.concatenate([token, tokens], axis=1)

    def compute_output_shape(self, input_shape):
        num_tokens = input_shape[1]
        num_tokens = None if num_tokens is None else num_tokens + 1
        return (input_shape[0], num_tokens, input_shape[2])


@keras.saving.register_keras_serializable(package="keras_vit")
class RegisterTokens(keras.layers.Layer):
    """Inserts learned register tokens into a token sequence (Darcet et al.,
    "Vision Transformers Need Registers", ICLR 2024).

    DINOv2 with registers puts them after the class token, once the position
    embeddings are added: they get none, and nothing reads them at the output
    (pooling and features skip them with the other prefix tokens).

    Args:
        num_tokens: int. How many registers.
        index: int. Where they go: after the first `index` tokens. Defaults to 1.
        **kwargs: Base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        tokens: Float tensor of shape `(batch, num_tokens, hidden_dim)`.

    Input shape:
        `(batch, tokens, hidden_dim)`.

    Output shape:
        `(batch, tokens + num_tokens, hidden_dim)`.

    Example:

    >>> keras.ops.shape(RegisterTokens(4)(keras.ops.ones((2, 5, 8))))
    (2, 9, 8)
    """

    def __init__(self, num_tokens, index=1, **kwargs):
        super().__init__(**kwargs)
        self.num_tokens = check_positive_int("num_tokens", num_tokens)
        self.index = check_non_negative_int("index", index)

    def build(self, input_shape):
        self.tokens = self.add_weight(
            name="tokens",
            shape=(1, self.num_tokens, input_shape[-1]),
            initializer=keras.initializers.RandomNormal(stddev=0.02),
        )

    def call(self, tokens):
        batch = ops.shape(tokens)[0]
        shape = (batch, self.num_tokens, ops.shape(tokens)[-1])
        registers = ops.broadcast_to(ops.cast(self.tokens, tokens.dtype), shape)
        return ops.concatenate([tokens[:, : self.index], registers, tokens[:, self.index :]], axis=1)

    def compute_output_shape(self, input_shape):
        num_tokens = None if input_shape[1] is None else input_shape[1] + self.num_tokens
        return (input_shape[0], num_tokens, input_shape[2])

    def get_config(self):
        config = super().get_config()
        config.update(num_tokens=self.num_tokens, index=self.index)
        return config
