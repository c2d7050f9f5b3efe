"""The learnable [class] token prepended to the patch sequence."""

import keras
from keras import ops


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
