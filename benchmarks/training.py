"""Training throughput of ViT-S/16 (and ViT-B/16) at 224 against timm with a plain AdamW loop.

Each step is a full forward, backward and AdamW update on one batch of random
images with random labels; Keras runs `train_on_batch`, timm a hand-written
PyTorch loop. Every configuration runs in a subprocess of its own, round-robin,
keeping each one's best round (see inference.py). The `-onednn` rows run JAX
with XLA:CPU's oneDNN matmul fusions, `-timm-env` rows on timm's interpreter,
and `-denormals`/`-ftz` rows say whether denormal floats are flushed
(`configurations`).

    python benchmarks/training.py --timm-python <python with timm>
    python benchmarks/training.py --variant B/16 --batch 16 --only keras-torch-bf16 timm-bf16
"""

import inference

KERAS = """
import time, json
import numpy as np, keras, keras_vit
from keras_vit.training.precision import bfloat16_note
if "{precision}" == "bf16":
    keras.config.set_dtype_policy("mixed_bfloat16")
note = bfloat16_note(keras.config.dtype_policy().name)
if {ftz}:
    keras_vit.training.flush_denormals()  # as keras_vit.training.train does
model = keras_vit.models.from_variant("{variant}", activation="gelu")
model.compile(optimizer=keras.optimizers.AdamW(1e-4), loss=keras_vit.training.classification_loss())
rng = np.random.default_rng(0)
images = rng.uniform(0, 255, ({batch}, 224, 224, 3)).astype("float32")
labels = np.eye(1000, dtype="float32")[rng.integers(0, 1000, {batch})]
for _ in range({warmup}):
    model.train_on_batch(images, labels)
start = time.perf_counter()
for _ in range({iterations}):
    loss = model.train_on_batch(images, labels)
print(json.dumps({{"seconds": time.perf_counter() - start, "note": note}}))
"""

TIMM = """
import time, json, contextlib
import torch, timm
if {ftz}:
    torch.set_flush_denormal(True)
model = timm.create_model("{timm_name}", pretrained=False)
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
images = torch.rand({batch}, 3, 224, 224)
labels = torch.randint(0, 1000, ({batch},))
autocast = torch.autocast("cpu", dtype=torch.bfloat16) if "{precision}" == "bf16" else contextlib.nullcontext()
def step():
    optimizer.zero_grad(set_to_none=True)
    with autocast:
        loss = torch.nn.functional.cross_entropy(model(images), labels)
    loss.backward()
    optimizer.step()
for _ in range({warmup}):
    step()
start = time.perf_counter()
for _ in range({iterations}):
    step()
print(json.dumps({{"seconds": time.perf_counter() - start}}))
"""

TIMM_NAMES = {"S/16": "vit_small_patch16_224", "B/16": "vit_base_patch16_224"}


def configurations(variant):
    """Every configuration by name. Keras rows flush denormals (`flush_denormals`,
    as `keras_vit.training.train` does; TensorFlow and XLA always do); the
    `-denormals` rows and timm's do not, the `timm-*-ftz` rows do."""
    configs = {}

    def keras_row(name, backend, precision, environment=(), ftz=True):
        fields = {"precision": precision, "variant": variant, "ftz": ftz}
        configs[name] = ({"KERAS_BACKEND": backend, **dict(environment)}, KERAS, fields)

    for backend in ("jax", "tensorflow", "torch"):
        for precision in ("fp32", "bf16"):
            keras_row(f"keras-{backend}-{precision}", backend, precision)
    for precision in ("fp32", "bf16"):
        keras_row(f"keras-torch-{precision}-denormals", "torch", precision, ftz=False)
        keras_row(f"keras-jax-{precision}-onednn", "jax", precision, inference.JAX_ONEDNN)
        keras_row(f"keras-torch-{precision}-timm-env", "torch", precision)
        for ftz in (False, True):
            fields = {"precision": precision, "timm_name": TIMM_NAMES[variant], "ftz": ftz}
            configs[f"timm-{precision}" + ("-ftz" if ftz else "")] = ({}, TIMM, fields)
    return configs


def main():
    parser = inference.arguments(__doc__, batch=16)
    parser.add_argument("--variant", choices=sorted(TIMM_NAMES), default="S/16")
    args = parser.parse_args()
    inference.compare(configurations(args.variant), args)


if __name__ == "__main__":
    main()
