"""Writes `digits_vit.npz`, the trained digits ViT the quantization and LoRA tests
start from: `python -m tests.training.make_digits_weights` from the repository root,
under any backend. Run it again only if `digits_vit.ARCHITECTURE` changes."""

import keras
import numpy as np

from tests.training import digits_vit

EPOCHS = 30


def main():
    keras.utils.set_random_seed(0)
    model = digits_vit.build()
    digits_vit.train(model, *digits_vit.digits()["train"], EPOCHS)
    images, labels = digits_vit.digits()["test"]
    accuracy = float(np.mean(np.argmax(digits_vit.predict(model, images), axis=-1) == labels))
    np.savez(digits_vit.WEIGHTS, *[np.asarray(weight, "float32") for weight in model.get_weights()])
    print(f"wrote {digits_vit.WEIGHTS.name}: {model.count_params():,} parameters, test accuracy {accuracy:.4f}")


if __name__ == "__main__":
    main()
