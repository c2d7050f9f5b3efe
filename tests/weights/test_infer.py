"""`from_checkpoint`'s inference recovers every variant from key names and shapes alone."""

import numpy as np
import pytest

from keras_vit.models import VARIANTS
from keras_vit.weights import infer_architecture
from keras_vit.weights.formats import flax_npz


def _abstract(shape):
    # A zero-strided view: the right shape, one float of memory.
    return np.broadcast_to(np.float32(0), shape)


def _original_shapes(variant, classes=21843, representation=True, image=224):
    v = VARIANTS[variant]
    d, h = v.hidden_dim, v.num_heads
    tokens = (image // v.patch_size) ** 2 + 1
    shapes = {
        "embedding/kernel": (v.patch_size, v.patch_size, 3, d),
        "embedding/bias": (d,),
        "cls": (1, 1, d),
        "Transformer/posembed_input/pos_embedding": (1, tokens, d),
        "Transformer/encoder_norm/scale": (d,),
        "Transformer/encoder_norm/bias": (d,),
        "head/kernel": (d, classes),
        "head/bias": (classes,),
    }
    if representation:
        shapes |= {"pre_logits/kernel": (d, d), "pre_logits/bias": (d,)}
    for i in range(v.num_layers):
        b = f"Transformer/encoderblock_{i}/"
        for part in ("query", "key", "value"):
            shapes[f"{b}MultiHeadDotProductAttention_1/{part}/kernel"] = (d, h, d // h)
        shapes[f"{b}MultiHeadDotProductAttention_1/out/kernel"] = (h, d // h, d)
        shapes[f"{b}MlpBlock_3/Dense_0/kernel"] = (d, v.mlp_dim)
    return {key: _abstract(shape) for key, shape in shapes.items()}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_variant_is_recovered(variant):
    architecture = infer_architecture(flax_npz.convert(_original_shapes(variant)), "abstract", "gelu_tanh")
    expected = vars(VARIANTS[variant])
    assert {k: architecture[k] for k in expected} == expected
    assert architecture["num_classes"] == 21843
    assert architecture["representation_size"] == expected["hidden_dim"]
    assert architecture["image_size"] == 224 and architecture["pooling"] == "token"


def test_fine_tuned_384_without_pre_logits():
    shapes = _original_shapes("B/16", classes=1000, representation=False, image=384)
    architecture = infer_architecture(flax_npz.convert(shapes), "abstract", "gelu_tanh")
    assert architecture["image_size"] == 384
    assert architecture["num_classes"] == 1000
    assert architecture["representation_size"] is None
