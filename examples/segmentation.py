"""A ViT backbone under a small segmentation head, trained with `model.fit`. Offline.

    KERAS_BACKEND=jax python examples/segmentation.py            # ViT-B/16 at 224
    KERAS_BACKEND=jax python examples/segmentation.py --tiny     # a small ViT, seconds

The images are synthetic: noise with one bright rectangle, whose pixels are
class 1 and the rest class 0. `keras_vit.models.feature_maps` turns the last
block's patch tokens into a `(batch, rows, cols, D)` map; a convolution and
a bilinear upsampling make per-pixel logits. Pass `weights="imagenet21k"` to
the backbone on a machine that can download it.
"""

import argparse

import keras
import numpy as np

import keras_vit


def backbone(tiny):
    if tiny:
        return keras_vit.ViT(image_size=32, patch_size=8, hidden_dim=32, num_layers=2, num_heads=2,
                             mlp_dim=64, include_top=False)
    return keras_vit.ViTB16(include_top=False)   # weights="imagenet21k" to start pre-trained


def segmenter(vit, num_classes=2):
    features = keras_vit.models.feature_maps(vit)             # {"encoderblock_11": (batch, 14, 14, 768)}
    images = keras.Input(vit.input_shape[1:])
    (tokens,) = features(images).values()
    patch = vit.input_shape[1] // tokens.shape[1]
    x = keras.layers.Conv2D(64, 3, padding="same", activation="relu")(tokens)
    x = keras.layers.UpSampling2D(patch, interpolation="bilinear")(x)
    return keras.Model(images, keras.layers.Conv2D(num_classes, 1)(x))


def rectangles(count, size, seed=0):
    """Noise images with one bright rectangle each, and the rectangle's mask."""
    rng = np.random.default_rng(seed)
    images = rng.uniform(0, 100, (count, size, size, 3)).astype("float32")
    masks = np.zeros((count, size, size), "int32")
    for image, mask in zip(images, masks):
        top, left = rng.integers(0, size // 2, 2)
        height, width = rng.integers(size // 4, size // 2, 2)
        image[top : top + height, left : left + width] += 150
        mask[top : top + height, left : left + width] = 1
    return images, masks


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="a small ViT at 32x32, for a quick run")
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args(argv)
    keras.utils.set_random_seed(0)
    model = segmenter(backbone(args.tiny))
    size = model.input_shape[1]
    images, masks = rectangles(256, size)
    test_images, test_masks = rectangles(64, size, seed=1)
    model.compile(keras.optimizers.Adam(1e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    before = model.evaluate(test_images, test_masks, verbose=0, return_dict=True)
    model.fit(images, masks, batch_size=16, epochs=args.epochs, verbose=0)
    after = model.evaluate(test_images, test_masks, verbose=0, return_dict=True)
    background = 1 - test_masks.mean()
    print(f"pixel accuracy {before['accuracy']:.3f} -> {after['accuracy']:.3f} after {args.epochs} epochs "
          f"(all background: {background:.3f})")
    return before, after, background


if __name__ == "__main__":
    main()
