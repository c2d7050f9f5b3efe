"""Wrote the legacy .keras files beside it, with keras_vit at f249017, before models
kept their ViTConfig: the fallback for files without `vit_config` is tested on them.
Kept for the record; running it again with later code writes files of the new kind."""
import numpy as np, keras, keras_vit
keras.utils.set_random_seed(0)
out = {}
static = keras_vit.ViT(image_size=32, patch_size=8, hidden_dim=16, num_layers=2, num_heads=2, mlp_dim=32,
                       num_classes=3, representation_size=8, name="legacy_vit")
hybrid = keras_vit.ViTHybrid(resnet_layers=(1,), resnet_width=0.5, patch_size=2, image_size=32, hidden_dim=16,
                             num_layers=1, num_heads=2, mlp_dim=32, num_classes=4, pooling="gap",
                             position_embedding="learned_2d", dynamic_image_size=True, name="legacy_hybrid")
rng = np.random.default_rng(0)
images = rng.uniform(0, 255, (2, 32, 32, 3)).astype("float32")
wide = rng.uniform(0, 255, (2, 32, 48, 3)).astype("float32")
for model in (static, hybrid):
    for w in model.weights:  # non-trivial heads: builders start them at zero
        if w.path.startswith("head/"):
            w.assign(rng.normal(0, 0.5, w.shape).astype("float32"))
    model.save(f"tests/models/legacy/{model.name}.keras")
out["images"] = images; out["wide"] = wide
out["legacy_vit"] = keras.ops.convert_to_numpy(static(images))
out["legacy_hybrid"] = keras.ops.convert_to_numpy(hybrid(images))
out["legacy_hybrid_wide"] = keras.ops.convert_to_numpy(hybrid(wide))
np.savez("tests/models/legacy/outputs.npz", **out)
print({k: v.shape for k, v in out.items()}, out["legacy_vit"])
