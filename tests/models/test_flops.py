"""`count_flops`: exact counts by formula on every backend, and XLA's own count on JAX."""

import keras
import pytest

import keras_vit
from keras_vit.models import count_flops, macs

TINY = dict(patch_size=8, hidden_dim=16, num_layers=2, num_heads=2, mlp_dim=24, num_classes=5)


def test_a_tiny_vit_by_hand():
    # A 2x3 grid of 8x8 RGB patches, a class token: T = 7 tokens of width 16.
    model = keras_vit.ViT(image_size=(16, 24), representation_size=12, **TINY)
    patches, tokens, width, mlp = 6, 7, 16, 24
    embedding = patches * (8 * 8 * 3) * width
    projections = 4 * tokens * width * width            # query, key, value, out
    products = 2 * tokens * tokens * width              # Q K^T and the weights times V
    block = projections + products + 2 * tokens * width * mlp
    head = width * 12 + 12 * 5                          # pre-logits, head
    assert count_flops(model) == 2 * (embedding + 2 * block + head) == 93_816


@pytest.mark.parametrize("kwargs", [
    dict(position_embedding="relative", pooling="gap", include_top=False, representation_size=8),
    dict(position_embedding="learned_2d", position_embedding_placement="every_layer", dynamic_image_size=True),
    dict(resnet_layers=(1,), resnet_width=0.5, patch_size=1, image_size=(16, 24), position_embedding="sincos_2d"),
])
def test_twice_the_multiply_accumulates_of_the_config(kwargs):
    builder = keras_vit.ViTHybrid if "resnet_layers" in kwargs else keras_vit.ViT
    model = builder(**{**TINY, "image_size": (16, 24), **kwargs})
    assert count_flops(model) == 2 * macs(model.vit_config)


def test_an_open_size_or_another_object_is_refused():
    model = keras.Sequential([keras.Input((None, None, 3)), keras.layers.Conv2D(4, 3, name="conv")])
    with pytest.raises(ValueError, match=r"count_flops needs a model built for one image size.*'conv'"):
        count_flops(model)
    with pytest.raises(TypeError, match=r"`model` must be a keras.Model. Received: model='B/16'"):
        count_flops("B/16")


def _xla_flops_per_image(model):
    """XLA's count of the compiled-to-be forward pass, per image: batch 2 minus
    batch 1, which leaves out the work done once per call on the weights (BiT's
    kernel standardisation)."""
    import jax

    # Shapes are all XLA needs: no weight is drawn.
    trainable = [jax.ShapeDtypeStruct(v.shape, v.dtype) for v in model.trainable_variables]
    non_trainable = [jax.ShapeDtypeStruct(v.shape, v.dtype) for v in model.non_trainable_variables]
    forward = jax.jit(lambda t, n, x: model.stateless_call(t, n, x)[0])
    counts = []
    for batch in (1, 2):
        images = jax.ShapeDtypeStruct((batch, *model.input_shape[1:]), "float32")
        analysis = forward.lower(trainable, non_trainable, images).cost_analysis()
        counts.append((analysis[0] if isinstance(analysis, list) else analysis)["flops"])
    return counts[1] - counts[0]


@pytest.mark.skipif(
    keras.backend.backend() != "jax",
    reason="XLA's cost analysis is JAX's; count_flops itself is NumPy arithmetic on shapes and is "
    "tested on every backend by the exact-count tests",
)
@pytest.mark.parametrize("build", [
    lambda: keras_vit.ViT(image_size=(24, 40), patch_size=8, hidden_dim=256, num_layers=1, num_heads=4,
                          mlp_dim=512, num_classes=10, position_embedding="relative"),
    lambda: keras_vit.ViTHybrid(resnet_layers=(1,), resnet_width=1, patch_size=1, image_size=16, hidden_dim=256,
                                num_layers=1, num_heads=2, mlp_dim=512, num_classes=3),
    lambda: keras_vit.ResNetV2(layers=(1, 1, 1, 1), width=1, image_size=32, num_classes=10),
], ids=["vit", "hybrid", "resnet_v2"])
def test_within_two_percent_of_xla(build):
    # XLA also counts what count_flops leaves out (norms, activations, softmax,
    # additions): about 1-2% at these widths, 0.4% for ViT-B/16 at 224.
    with keras.StatelessScope():
        model = build()
        flops, xla = count_flops(model), _xla_flops_per_image(model)
        # Cleared before the scope's exit, the session leaves no weights to initialise.
        keras.backend.clear_session(free_memory=False)
    assert flops <= xla <= 1.02 * flops, (flops, xla)
