"""LayerScale: a learned per-channel scale on a residual branch (Touvron et al., CaiT, 2021)."""

import keras
from keras import ops

from keras_vit.utils.validation import is_positive_number


@keras.saving.register_keras_serializable(package="keras_vit")
class LayerScale(keras.layers.Layer):
    """Multiplies each channel of a residual branch by a learned `gamma`.

    DINOv2 scales both branches of every block this way (timm's `ls1`/`ls2`,
    transformers' `layer_scale1`/`layer_scale2`).

    Args:
        init_value: float. The initial value of every entry of `gamma`.
        **kwargs: Base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: Float tensor whose last axis holds the channels.

    Input shape:
        `(..., channels)`.

    Output shape:
        Same as the input.

    Example:

    >>> layer = LayerScale(0.5)
    >>> keras.ops.convert_to_numpy(layer(keras.ops.ones((1, 2)))).tolist()
    [[0.5, 0.5]]
    """

    def __init__(self, init_value, **kwargs):
        super().__init__(**kwargs)
        if not is_positive_number(init_value):
            raise ValueError(
                "`init_value` must be a positive number, the initial scale of each channel. "
                f"Received: init_value={init_value!r}"
            )
        self.init_value = float(init_value)

    def build(self, input_shape):
        self.gamma = self.add_weight(
            name="gamma", shape=(input_shape[-1],), initializer=keras.initializers.Constant(self.init_value)
        )

    def call(self, inputs):
        return inputs * ops.cast(self.gamma, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(init_value=self.init_value)
        return config
