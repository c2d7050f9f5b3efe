"""Reduction of the encoder's token sequence to one representation per image."""

import keras
from keras import ops

from keras_vit.utils.validation import check_choice, check_non_negative_int

# How a sequence becomes one vector; builders take these as `pooling`: the
# class token, the mean of the patch tokens, or multi-head attention pooling
# (`keras_vit.layers.AttentionPooling`).
POOLINGS = ("token", "gap", "map")
# The poolings of `SequencePooling`.
TOKEN_POOLINGS = ("token", "gap")


@keras.saving.register_keras_serializable(package="keras_vit")
class SequencePooling(keras.layers.Layer):
    """Takes the class token's state or averages the patch tokens (paper Eq. 4, App. D.3).

    Args:
        mode: str. `"token"` returns token `index`; `"gap"` returns the mean of
            the tokens after the first `num_prefix_tokens`. Defaults to `"token"`.
        num_prefix_tokens: int. Leading non-patch tokens that `"gap"` leaves
            out (class, distillation and register tokens). Defaults to 0.
        index: int. The token `"token"` returns: 0, the class token, or 1,
            DeiT's distillation token. Defaults to 0.
        **kwargs: Base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        tokens: Float tensor of shape `(batch, num_tokens, hidden_dim)`.

    Input shape:
        `(batch, num_tokens, hidden_dim)`.

    Output shape:
        `(batch, hidden_dim)`.

    Example:

    >>> tokens = keras.ops.reshape(keras.ops.arange(6.0), (1, 3, 2))
    >>> keras.ops.convert_to_numpy(SequencePooling("gap", 1)(tokens)).tolist()
    [[3.0, 4.0]]
    """

    def __init__(self, mode="token", num_prefix_tokens=0, index=0, **kwargs):
        super().__init__(**kwargs)
        self.mode = check_choice("mode", mode, TOKEN_POOLINGS)
        self.num_prefix_tokens = check_non_negative_int("num_prefix_tokens", num_prefix_tokens)
        self.index = check_non_negative_int("index", index)

    def call(self, tokens):
        if self.mode == "token":
            return tokens[:, self.index]
        return ops.mean(tokens[:, self.num_prefix_tokens :], axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(mode=self.mode, num_prefix_tokens=self.num_prefix_tokens, index=self.index)
        return config
