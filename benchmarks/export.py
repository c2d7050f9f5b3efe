"""Size, parity and single-image latency of every export format, on the TensorFlow backend.

    KERAS_BACKEND=tensorflow python benchmarks/export.py --runs 5

Random weights drawn as timm and HF initialise a ViT for training: normal with
std 0.02 for every matrix. Not the builders' Xavier initialisation: a deep ViT
with those random weights is chaotic (its outputs move by about 1 when its
pixels move by one part in a million), so any two runtimes would disagree. Latency is the median of `--runs` calls on
one image after one warm-up call, in each format's own runtime; the Keras row
is `predict_on_batch`. Not a test.
"""

import argparse
import os
import statistics
import tempfile
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_vit  # noqa: E402
from keras_vit.export import FORMATS, export_model, sample_images  # noqa: E402

CASES = [
    ("tf_saved_model", None, "model_saved"),
    ("onnx", None, "model.onnx"),
    ("litert", None, "model.tflite"),
    ("litert", "float16", "model_fp16.tflite"),
    ("litert", "dynamic_int8", "model_dyn8.tflite"),
    ("litert", "int8", "model_int8.tflite"),
]


def random_model(variant):
    model = keras_vit.models.BUILDERS[variant]()
    rng = np.random.default_rng(0)
    for weight in model.weights:
        if len(weight.shape) >= 2 and "pos_embedding" not in weight.path:
            weight.assign(rng.normal(0, 0.02, weight.shape).astype("float32"))
    return model


def latency(call, image, runs):
    call(image)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call(image)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def measure(variant, runs, folder, cases):
    keras.utils.set_random_seed(0)
    model = random_model(variant)
    shape = tuple(model.input_shape[1:])
    image = sample_images(shape, 1, seed=1)
    rows = [(variant, "Keras (predict_on_batch)", "float32", 4 * model.count_params(), None, None, None,
             latency(model.predict_on_batch, image, runs))]
    calibration = sample_images(shape, 16, seed=2)
    for format, precision, name in CASES:
        if cases and f"{format}:{precision or 'float32'}" not in cases:
            continue
        path = os.path.join(folder, f"{variant.replace('/', '')}_{name}")
        report = export_model(model, path, format, precision=precision, representative_data=calibration)
        runner = FORMATS[format].Runner(path)
        parity = report.parity
        rows.append((variant, format, precision or "float32", report.size_bytes, parity.max_abs_diff,
                     parity.noise_floor, parity.top1_agreement, latency(runner, image, runs)))
        print(_row(rows[-1]), flush=True)
    return rows


def _row(row):
    variant, format, precision, size, diff, noise, top1, ms = row
    diff = "–" if diff is None else f"{diff:.2g} ({noise:.2g})"
    top1 = "–" if top1 is None else f"{top1:.0%}"
    return f"| ViT-{variant} | {format} | {precision} | {size / 2**20:.1f} MiB | {diff} | {top1} | {ms:.0f} ms |"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", default=["Ti/16", "B/16"])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cases", nargs="*", help="only these, e.g. litert:int8 onnx:float32")
    args = parser.parse_args()
    print(f"keras {keras.__version__}, backend {keras.backend.backend()}, {os.cpu_count()} CPUs")
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for variant in args.variants:
            rows += measure(variant, args.runs, folder, args.cases)
    print("\n| model | format | weights | file size | max abs diff (noise floor), 8 images | top-1 agreement | latency, 1 image |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        print(_row(row))


if __name__ == "__main__":
    main()
