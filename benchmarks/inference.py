"""Inference throughput of ViT-B/16 at 224, batch 8, against timm and HF transformers.

Every configuration runs in a subprocess of its own (a process holds one Keras
backend), one after the other, so all of them share the same machine state.
Ratios are against timm in fp32 when timm is installed, else HF transformers.

    python benchmarks/inference.py                     # everything installed
    python benchmarks/inference.py --iterations 10 --only keras-jax-fp32 timm-fp32

timm needs torchvision, which may not install beside the torch that keras_vit's
tests use; `--timm-python` runs the timm configurations with another interpreter
(a virtual environment with timm in it). The `keras-torch-*-timm-env` rows run
keras_vit with that interpreter too, so that the torch builds compared are the same.
"""

import argparse
import json
import os
import subprocess
import sys
import textwrap

KERAS = """
import os, time, json
import numpy as np, keras, keras_vit
if "{precision}" == "bf16":
    keras.config.set_dtype_policy("mixed_bfloat16")
model = keras_vit.ViTB16(approximate_gelu={approximate})
images = np.random.default_rng(0).uniform(0, 255, ({batch}, 224, 224, 3)).astype("float32")
for _ in range({warmup}):
    model.predict_on_batch(images)
start = time.perf_counter()
for _ in range({iterations}):
    keras.ops.convert_to_numpy(model.predict_on_batch(images))
print(json.dumps({{"seconds": time.perf_counter() - start}}))
"""

TORCH = """
import time, json, contextlib
import torch
{build}
model.eval()
images = torch.rand({batch}, 3, 224, 224)
autocast = torch.autocast("cpu", dtype=torch.bfloat16) if "{precision}" == "bf16" else contextlib.nullcontext()
with torch.inference_mode(), autocast:
    for _ in range({warmup}):
        model(images)
    start = time.perf_counter()
    for _ in range({iterations}):
        model(images)
print(json.dumps({{"seconds": time.perf_counter() - start}}))
"""

TIMM = "import timm\nmodel = timm.create_model('vit_base_patch16_224', pretrained=False)"
HF = (
    "import transformers\n"
    "model = transformers.ViTForImageClassification(transformers.ViTConfig(num_labels=1000))"
)


def configurations():
    # timm's and HF's ViT-B/16 use the exact GELU, so the Keras rows do too: the same
    # function. The "-tanh" row is keras_vit's default for the original checkpoints.
    configs = {}
    for backend in ("jax", "tensorflow", "torch"):
        for precision in ("fp32", "bf16"):
            configs[f"keras-{backend}-{precision}"] = (
                {"KERAS_BACKEND": backend}, KERAS, {"precision": precision, "approximate": False}
            )
    configs["keras-torch-fp32-tanh"] = ({"KERAS_BACKEND": "torch"}, KERAS, {"precision": "fp32", "approximate": True})
    for precision in ("fp32", "bf16"):
        # The same Keras model on the interpreter (and so the torch build) that timm runs on.
        configs[f"keras-torch-{precision}-timm-env"] = (
            {"KERAS_BACKEND": "torch"}, KERAS, {"precision": precision, "approximate": False}
        )
    for name, build in (("timm", TIMM), ("hf", HF)):
        for precision in ("fp32", "bf16"):
            configs[f"{name}-{precision}"] = ({}, TORCH, {"build": build, "precision": precision})
    return configs


def run(name, environment, template, fields, args):
    python = args.timm_python if name.startswith("timm") or name.endswith("timm-env") else sys.executable
    script = textwrap.dedent(template).format(
        batch=args.batch, warmup=args.warmup, iterations=args.iterations, **fields
    )
    result = subprocess.run(
        [python, "-c", script],
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
    )
    if result.returncode:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        return None, last
    seconds = json.loads(result.stdout.strip().splitlines()[-1])["seconds"]
    return args.batch * args.iterations / seconds, None


def arguments(description, batch):
    """The flags every benchmark here shares."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=batch)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2, help="best of this many rounds")
    parser.add_argument("--only", nargs="*", help="names of the configurations to run")
    parser.add_argument("--timm-python", default=sys.executable, help="interpreter for timm")
    return parser


def compare(configs, args):
    """Runs `configs` round-robin `args.rounds` times and prints each one's best."""
    selected = {name: config for name, config in configs.items() if not args.only or name in args.only}
    results = {}
    # Round-robin over the configurations, keeping each one's best round, so that a
    # burst of load on the machine hits every configuration alike.
    for round_index in range(args.rounds):
        for name, (environment, template, fields) in selected.items():
            throughput, error = run(name, environment, template, fields, args)
            if throughput and throughput > (results.get(name) or 0):
                results[name] = throughput
            results.setdefault(name, None)
            status = f"{throughput:6.2f} img/s" if throughput else f"skipped ({error})"
            print(f"round {round_index + 1}  {name:28s} {status}", flush=True)
    baseline_name = "timm-fp32" if results.get("timm-fp32") else "hf-fp32"
    baseline = results.get(baseline_name)
    if baseline:
        print(f"\nbest of {args.rounds} rounds, ratio to {baseline_name} ({baseline:.2f} img/s):")
        for name, throughput in results.items():
            if throughput:
                print(f"{name:28s} {throughput:6.2f} img/s {throughput / baseline:5.2f}x")
    return results


def main():
    compare(configurations(), arguments(__doc__, batch=8).parse_args())


if __name__ == "__main__":
    main()
