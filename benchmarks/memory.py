"""Peak memory of one training step, with and without rematerialization, per backend and for timm.

Each configuration runs in a fresh process: it builds the model and AdamW's
state and makes the batch (the baseline, resident memory then), resets the
process's peak-RSS mark (`/proc/self/clear_refs`), runs `--steps` training
steps (`train_on_batch`; JAX and TensorFlow compile in the first) and reports
the peak resident memory. Peak minus baseline is what the step itself needs:
activations, gradients, temporaries and compilation. timm runs a plain
PyTorch AdamW step, with `set_grad_checkpointing(True)` for its remat rows.

    python benchmarks/memory.py                                    # ViT-B/16, 224, batch 32
    python benchmarks/memory.py --timm-python <python with timm>   # with timm's rows
    python benchmarks/memory.py --largest L/16 --backend torch     # ViT-L/16's largest batch

`--largest` fits the step's memory as a line in the batch size from two small
batches, predicts the largest batch whose peak stays under this machine's
memory less 1 GiB, and runs that batch to check it.
"""

import argparse
import json
import os
import subprocess
import sys
import textwrap

MIB = 2**20

MEASURE = """
def _status(field):
    with open("/proc/self/status") as file:
        for line in file:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
def _reset_peak():
    with open("/proc/self/clear_refs", "w") as file:
        file.write("5")
"""

KERAS = MEASURE + """
import json
import numpy as np, keras, keras_vit
model = keras_vit.models.build_model("{variant}", image_size={image_size}, remat={remat})
model.compile(optimizer=keras.optimizers.AdamW(1e-4), loss=keras_vit.training.classification_loss())
model.optimizer.build(model.trainable_variables)
rng = np.random.default_rng(0)
images = rng.uniform(0, 255, ({batch}, {image_size}, {image_size}, 3)).astype("float32")
labels = np.eye(1000, dtype="float32")[rng.integers(0, 1000, {batch})]
baseline = _status("VmRSS")
_reset_peak()
for _ in range({steps}):
    model.train_on_batch(images, labels)
print(json.dumps({{"baseline": baseline, "peak": _status("VmHWM"), "parameters": model.count_params()}}))
"""

TIMM = MEASURE + """
import json
import torch, timm
model = timm.create_model("{timm_name}", pretrained=False, img_size={image_size})
model.set_grad_checkpointing({remat})
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
for parameter in model.parameters():  # AdamW's state, made now as Keras' optimizer.build makes it
    optimizer.state[parameter] = dict(step=torch.tensor(0.0), exp_avg=torch.zeros_like(parameter),
                                      exp_avg_sq=torch.zeros_like(parameter))
images = torch.rand({batch}, 3, {image_size}, {image_size}) * 255
labels = torch.randint(0, 1000, ({batch},))
baseline = _status("VmRSS")
_reset_peak()
for _ in range({steps}):
    optimizer.zero_grad(set_to_none=True)
    torch.nn.functional.cross_entropy(model(images), labels).backward()
    optimizer.step()
print(json.dumps({{"baseline": baseline, "peak": _status("VmHWM"),
                  "parameters": sum(p.numel() for p in model.parameters())}}))
"""

TIMM_NAMES = {"B/16": "vit_base_patch16_224", "L/16": "vit_large_patch16_224", "S/16": "vit_small_patch16_224"}
BACKENDS = ("jax", "tensorflow", "torch")


def measure(args, backend, remat, batch, variant=None):
    """One configuration in a fresh process: `{"baseline", "peak", "parameters"}` in bytes, or an error."""
    variant = variant or args.variant
    fields = dict(variant=variant, image_size=args.image_size, remat=remat, batch=batch, steps=args.steps,
                  timm_name=TIMM_NAMES.get(variant))
    python, template = (args.timm_python, TIMM) if backend == "timm" else (sys.executable, KERAS)
    environment = {**os.environ, "KERAS_BACKEND": backend if backend != "timm" else "torch",
                   "TF_CPP_MIN_LOG_LEVEL": "2"}
    try:
        result = subprocess.run([python, "-c", textwrap.dedent(template).format(**fields)], env=environment,
                                capture_output=True, text=True, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {args.timeout:.0f} s"}
    if result.returncode < 0:
        return {"error": f"killed by signal {-result.returncode} (out of memory, if 9)"}
    if result.returncode:
        return {"error": (result.stderr.strip().splitlines() or [f"exit {result.returncode}"])[-1]}
    return json.loads(result.stdout.strip().splitlines()[-1])


def step_memory(result):
    return result["peak"] - result["baseline"]


def compare(args):
    """The table: per backend (and timm), the step's memory with and without remat, and their ratio."""
    names = [*args.backends, *(["timm"] if args.timm_python else [])]
    lines = [
        f"{args.variant} at {args.image_size}, batch {args.batch}, AdamW, {args.steps} step(s); MiB of resident memory",
        "",
        "| backend | baseline (weights, AdamW, batch) | step peak | step without remat | step with remat | remat / plain |",
        "|---|---|---|---|---|---|",
    ]
    for name in names:
        plain = measure(args, name, False, args.batch)
        remat = measure(args, name, True, args.batch)
        print(f"{name}: plain {plain}, remat {remat}", flush=True)
        if "error" in plain or "error" in remat:
            lines.append(f"| {name} | failed: {plain.get('error') or remat.get('error')} | | | | |")
            continue
        ratio = step_memory(remat) / step_memory(plain)
        lines.append(
            f"| {name} | {plain['baseline'] / MIB:,.0f} | {plain['peak'] / MIB:,.0f} | "
            f"{step_memory(plain) / MIB:,.0f} | {step_memory(remat) / MIB:,.0f} | {ratio:.2f}x |"
        )
    return "\n".join(lines)


REMAT_ROWS = {"both": (False, True), "off": (False,), "on": (True,)}


def total_memory():
    with open("/proc/meminfo") as file:
        for line in file:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no MemTotal in /proc/meminfo")


def largest(args):
    """`args.largest`'s largest batch under this machine's memory less 1 GiB, with and without remat."""
    limit = total_memory() - 2**30
    lines = [
        f"{args.largest} at {args.image_size}, AdamW, {args.backend}; limit {limit / 2**30:.1f} GiB resident",
        "",
        "| remat | step MiB at 2 / 4 | MiB per image | predicted largest batch | its measured peak | largest batch that trained | its peak |",
        "|---|---|---|---|---|---|---|",
    ]
    for remat in REMAT_ROWS[args.remat]:
        small, large = (measure(args, args.backend, remat, batch, args.largest) for batch in (2, 4))
        if "error" in small or "error" in large:
            lines.append(f"| {remat} | failed: {small.get('error') or large.get('error')} | | | |")
            continue
        per_image = (large["peak"] - small["peak"]) / 2
        batch = int((limit - small["peak"]) // per_image) + 2
        check = measure(args, args.backend, remat, batch, args.largest)
        peak = "failed: " + check["error"] if "error" in check else f"{check['peak'] / 2**30:.1f} GiB"
        print(f"remat={remat}: 2 -> {small}, 4 -> {large}, {batch} -> {check}", flush=True)
        trained, trained_peak = (batch, check["peak"]) if "error" not in check else bisect(args, remat, 4, large, batch)
        lines.append(
            f"| {remat} | {step_memory(small) / MIB:,.0f} / {step_memory(large) / MIB:,.0f} | "
            f"{per_image / MIB:,.0f} | {batch} | {peak} | {trained} | {trained_peak / 2**30:.1f} GiB |"
        )
    return "\n".join(lines)


def bisect(args, remat, good, good_result, bad, probes=5):
    """The largest batch in `[good, bad)` found to train in `probes` halvings, and its peak."""
    peak = good_result["peak"]
    for _ in range(probes):
        if bad - good <= 1:
            break
        middle = (good + bad) // 2
        result = measure(args, args.backend, remat, middle, args.largest)
        print(f"remat={remat}: {middle} -> {result}", flush=True)
        if "error" in result:
            bad = middle
        else:
            good, peak = middle, result["peak"]
    return good, peak


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variant", default="B/16")
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=2, help="training steps per process (the first compiles)")
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    parser.add_argument("--timm-python", help="an interpreter with timm, for timm's rows")
    parser.add_argument("--largest", help="a variant whose largest batch to find instead, e.g. L/16")
    parser.add_argument("--backend", choices=BACKENDS, default="torch", help="the backend of --largest")
    parser.add_argument("--remat", choices=sorted(REMAT_ROWS), default="both", help="the rows of --largest")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds one process may take")
    args = parser.parse_args()
    print(largest(args) if args.largest else compare(args))


if __name__ == "__main__":
    main()
