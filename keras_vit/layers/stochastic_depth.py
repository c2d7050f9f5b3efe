"""Stochastic depth: drops a residual branch for whole examples while training."""

import keras
from keras import ops

from keras_vit.utils.validation import check_rate


@keras.saving.register_keras_serializable(package="keras_vit")
class StochasticDepth(keras.layers.Layer):
    """Zeroes a residual branch per example with probability `rate` (Huang et
    al., 2016), scaling the kept ones by `1 / (1 - rate)`.

    The fine-tuning recipes of ViT's successors (DeiT, AugReg) use it as a
    regulariser; the original ViT did not. At inference it is the identity.

    Args:
        rate: float. Probability of dropping the branch, in [0, 1).
            Defaults to 0.
        seed: int or None. Seed of the random draws. Defaults to None.
        **kwargs: Base `keras.layers.Layer` arguments.

    Call arguments:
        branch: Float tensor; the residual branch's output, batch first.
        training: bool. Whether to drop. Defaults to None (inference).

    Input shape:
        Any shape `(batch, ...)`.

    Output shape:
        The input shape.

    Example:

    >>> layer = StochasticDepth(rate=0.5, seed=0)
    >>> out = layer(keras.ops.ones((8, 3, 4)), training=True)
    >>> sorted(set(keras.ops.convert_to_numpy(out).ravel().tolist()))  # dropped, kept x2
    [0.0, 2.0]
    """

    def __init__(self, rate=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = check_rate("rate", rate)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, branch, training=None):
        if not training or self.rate == 0.0:
            return branch
        keep = 1.0 - self.rate
        shape = (ops.shape(branch)[0],) + (1,) * (len(branch.shape) - 1)
        draws = keras.random.uniform(shape, seed=self.seed_generator, dtype=branch.dtype)
        mask = ops.floor(keep + draws)
        return branch * mask / ops.cast(keep, branch.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(rate=self.rate, seed=self.seed)
        return config
