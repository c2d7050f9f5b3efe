"""Conversion time and peak memory for a ViT-L/16-sized original checkpoint.

Writes a random checkpoint in the original `.npz` layout (304 M parameters,
1.2 GB in float32), then, each in a fresh process, times and measures the peak
resident memory of (1) reading and converting it to keras weight paths and
(2) `keras_vit.from_checkpoint`, which also builds the model and assigns the
weights. The peak is the resident memory added during the work, sampled every
2 ms, in copies of the weights.

    python benchmarks/conversion.py [--variant L/16] [--backends jax tensorflow torch]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

MEASURE = """
import json, os, threading, time
import keras, keras_vit
from keras_vit.weights import read_checkpoint

page = os.sysconf("SC_PAGE_SIZE")
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * page
# Import peaks hide in ru_maxrss, so sample the resident size while the work runs.
start_rss, peak, done = rss(), [0], threading.Event()
def sample():
    while not done.is_set():
        peak[0] = max(peak[0], rss())
        time.sleep(0.002)
sampler = threading.Thread(target=sample)
sampler.start()
start = time.perf_counter()
result = keras_vit.from_checkpoint({path!r}) if {full} else read_checkpoint({path!r})
seconds = time.perf_counter() - start
done.set()
sampler.join()
print(json.dumps({{"seconds": seconds, "extra": max(peak[0], rss()) - start_rss}}))
"""


def write_checkpoint(path, variant):
    from keras_vit.models import VARIANTS

    v = VARIANTS[variant]
    d, h, rng = v.hidden_dim, v.num_heads, np.random.default_rng(0)
    shapes = {
        "embedding/kernel": (v.patch_size, v.patch_size, 3, d), "embedding/bias": (d,), "cls": (1, 1, d),
        "Transformer/posembed_input/pos_embedding": (1, (224 // v.patch_size) ** 2 + 1, d),
        "Transformer/encoder_norm/scale": (d,), "Transformer/encoder_norm/bias": (d,),
        "head/kernel": (d, 1000), "head/bias": (1000,),
    }
    for i in range(v.num_layers):
        b = f"Transformer/encoderblock_{i}/"
        for n in ("LayerNorm_0", "LayerNorm_2"):
            shapes[f"{b}{n}/scale"] = shapes[f"{b}{n}/bias"] = (d,)
        for p in ("query", "key", "value"):
            shapes[f"{b}MultiHeadDotProductAttention_1/{p}/kernel"] = (d, h, d // h)
            shapes[f"{b}MultiHeadDotProductAttention_1/{p}/bias"] = (h, d // h)
        shapes[f"{b}MultiHeadDotProductAttention_1/out/kernel"] = (h, d // h, d)
        shapes[f"{b}MultiHeadDotProductAttention_1/out/bias"] = (d,)
        shapes[f"{b}MlpBlock_3/Dense_0/kernel"], shapes[f"{b}MlpBlock_3/Dense_0/bias"] = (d, v.mlp_dim), (v.mlp_dim,)
        shapes[f"{b}MlpBlock_3/Dense_1/kernel"], shapes[f"{b}MlpBlock_3/Dense_1/bias"] = (v.mlp_dim, d), (d,)
    arrays = {k: rng.standard_normal(s, dtype=np.float32) * 0.02 for k, s in shapes.items()}
    np.savez(path, **arrays)
    return sum(a.nbytes for a in arrays.values())


def measure(script, backend):
    env = {**os.environ, "KERAS_BACKEND": backend}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variant", default="L/16")
    parser.add_argument("--backends", nargs="+", default=["jax", "tensorflow", "torch"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "checkpoint.npz")
        size = write_checkpoint(path, args.variant)
        print(f"ViT-{args.variant} checkpoint: {size / 1e9:.2f} GB of weights")
        for backend in args.backends:
            for label, full in (("read + convert", False), ("from_checkpoint", True)):
                result = measure(MEASURE.format(full=full, path=path), backend)
                print(f"{backend:10s} {label:16s} {result['seconds']:6.1f} s   peak memory added: "
                      f"{result['extra'] / 1e9:5.2f} GB = {result['extra'] / size:.2f} copies of the weights")


if __name__ == "__main__":
    main()
