"""Wrote `images_grid_vit.keras` and `images_grid_outputs.npz` beside it, with keras_vit
at 9315000: a `VisionTransformer` that keeps its config, built with
`dynamic_image_size=True`, from before its position layers read each call's grid
off the patch embedding (they were called with the input images, after an
`ImageSizeCheck` layer). Kept for the record; running it again with later code
writes a file of the new kind."""
import keras
import numpy as np

import keras_vit

keras.utils.set_random_seed(0)
model = keras_vit.ViT(image_size=32, patch_size=8, hidden_dim=16, num_layers=2, num_heads=2, mlp_dim=32,
                      num_classes=3, position_embedding_placement="every_layer", dynamic_image_size=True,
                      name="images_grid_vit")
rng = np.random.default_rng(1)
for weight in model.weights:  # non-trivial head: builders start it at zero
    if weight.path.startswith("head/"):
        weight.assign(rng.normal(0, 0.5, weight.shape).astype("float32"))
images = rng.uniform(0, 255, (2, 32, 32, 3)).astype("float32")
wide = rng.uniform(0, 255, (2, 32, 48, 3)).astype("float32")
model.save(f"tests/models/legacy/{model.name}.keras")
np.savez("tests/models/legacy/images_grid_outputs.npz", images=images, wide=wide,
         outputs=keras.ops.convert_to_numpy(model(images)), wide_outputs=keras.ops.convert_to_numpy(model(wide)))
