"""Switches that change how keras_vit computes, not what: the fused torch operations.

On the torch backend, keras_vit's encoder block runs its projections,
LayerNorms and attention product as one fused PyTorch call each
(`keras_vit.layers.fast_path`), as timm does. They compute what Keras' layers
compute, to float rounding; turn them off to run Keras' own layers, for
instance to compare the two or to profile Keras. The environment variable
`KERAS_VIT_FUSED_OPS=0` sets the default to off.
"""

import os

_fused_ops = os.environ.get("KERAS_VIT_FUSED_OPS", "1") != "0"


def set_fused_ops(enabled):
    """Turns keras_vit's fused torch operations on or off, for every model.

    Takes effect at the next call of a model (a model compiled with
    `jit_compile=True` keeps what it was traced with).

    Args:
        enabled: bool. True runs the fused calls on torch where a layer is
            eligible; False always calls Keras' layers.

    Example:

    >>> set_fused_ops(False); fused_ops_enabled()
    False
    >>> set_fused_ops(True); fused_ops_enabled()
    True
    """
    global _fused_ops
    if not isinstance(enabled, bool):
        raise TypeError(f"`enabled` must be True or False. Received: enabled={enabled!r}")
    _fused_ops = enabled


def fused_ops_enabled():
    """Whether keras_vit's fused torch operations are on (see `set_fused_ops`).

    Returns:
        bool. True by default, False where `KERAS_VIT_FUSED_OPS=0` was set at import.
    """
    return _fused_ops
