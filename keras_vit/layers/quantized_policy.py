"""The dtype policies that make a layer's quantized sublayers save and load quantized.

Keras rebuilds a layer's sublayers from the layer's config alone. keras_vit's
blocks create their projections in `build()`, so a block whose projections
Keras quantized (`keras_vit.training.quantize`) records their policies in its config
(`quantized_dtype_config`) and hands each sublayer its own when it is rebuilt
(`sublayer_policy`).
"""

import keras
from keras.dtype_policies import DTypePolicyMap


def sublayer_policy(layer, path):
    """The dtype policy for `layer`'s sublayer at `path` (relative, such as
    `"attn/query"`): `layer`'s own policy or, when `layer` was loaded with
    a `DTypePolicyMap`, the policy that map holds for the path, a map of
    its own for a path with quantized sublayers below it."""
    policy = layer.dtype_policy
    if not isinstance(policy, DTypePolicyMap):
        return policy
    prefix = path + "/"
    below = {key[len(prefix) :]: policy[key] for key in policy if key.startswith(prefix)}
    if below:
        return DTypePolicyMap(policy.default_policy.name, below)
    return policy[path] if path in policy else policy.default_policy


def quantized_dtype_config(layer, sublayers):
    """`{"dtype": ...}`, a serialized `DTypePolicyMap` of the quantized layers
    among `sublayers` (`{relative path: layer}`) over `layer`'s float policy,
    or `{}` when none is quantized.

    Keras rebuilds a layer's sublayers from the layer's config alone; without
    the map, a quantized model's projections would come back float and their
    saved int8 kernels and scales would not fit them. The keys are relative to
    `layer`, not Keras paths, so they hold wherever the layer is nested.
    """
    quantized = {
        path: sublayer.dtype_policy
        for path, sublayer in sublayers.items()
        if sublayer.quantization_mode is not None
    }
    if not quantized:
        return {}
    policy = layer.dtype_policy
    if isinstance(policy, DTypePolicyMap):
        policy = policy.default_policy
    return {"dtype": keras.dtype_policies.serialize(DTypePolicyMap(policy.name, quantized))}
