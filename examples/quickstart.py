"""Build a Vision Transformer, classify a batch of pixels and look inside it. Offline.

    KERAS_BACKEND=jax python examples/quickstart.py     # or tensorflow, torch

The weights are random (pretrained checkpoints come through `keras_vit.weights`),
so the classes it prints mean nothing; everything else is what a user does.
"""

import keras
import numpy as np

import keras_vit


def main():
    model = keras_vit.ViTB16(classifier_activation="softmax")
    print(f"{model.name} on {keras.backend.backend()}: {model.count_params():,} parameters")

    pixels = np.random.default_rng(0).integers(0, 256, size=(2, 224, 224, 3)).astype("float32")
    probabilities = model.predict(pixels, verbose=0)
    # The head starts at zero, as in the original implementation, so an untrained
    # model gives every class the same probability.
    print(f"class probabilities: min {probabilities.min():.6f}, max {probabilities.max():.6f}")

    # The same weights, cut before the head: the pooled class-token representation.
    features = keras.Model(model.input, model.get_layer("pooling").output)
    representation = features.predict(pixels, verbose=0)
    print(f"pooled representation: shape {representation.shape}, std {representation.std():.3f}")

    inside = keras_vit.models.intermediates(model)(pixels[:1])
    attention = keras.ops.convert_to_numpy(inside["attention"][-1])
    print(
        f"{len(inside['blocks'])} blocks; the last block's attention has shape "
        f"{attention.shape} and each row sums to {attention.sum(-1).mean():.3f}"
    )


if __name__ == "__main__":
    main()
