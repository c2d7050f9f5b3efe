"""bfloat16 inference on a CPU without bfloat16 units: keras_vit on torch against torch's
bf16 autocast of the same ViT written in plain PyTorch, each also in float32.

`reference-*` is a ViT written as timm writes it (one fused qkv `nn.Linear`,
`scaled_dot_product_attention`, exact GELU, `nn.LayerNorm`), run under
`torch.inference_mode()`, in bf16 under `torch.autocast("cpu", dtype=torch.bfloat16)`,
which is what timm's bf16 inference does; timm itself needs a torchvision that
imports beside torch. `keras-torch-*` is keras_vit's ViT of the same size on
the torch backend (exact GELU), `predict_on_batch`, in float32, `mixed_bfloat16`
and `bfloat16` (weights stored in bf16). `--cpu-isa AVX2` runs every
configuration as a CPU with AVX2 alone runs it: oneDNN capped to AVX2
(`ONEDNN_MAX_CPU_ISA`) and ATen's own kernels too (`ATEN_CPU_CAPABILITY`),
so that torch has no bf16 kernel in oneDNN, as on a real AVX2 CPU.

Each configuration runs in a subprocess of its own, round-robin, keeping its best
round (see inference.py). `--profile` prints the ops that take the most time in
one more call of each configuration (torch.profiler); `--other-tree` adds the keras rows
run with another checkout's keras_vit, to compare two versions in one run.

    python benchmarks/bfloat16_cpu.py --cpu-isa AVX2                 # ViT-B/16, 224, batch 8
    python benchmarks/bfloat16_cpu.py --cpu-isa AVX2 --layers 2 --image-size 64 --profile
"""

import os

import inference

# With --profile, one more call before the timed ones, under torch.profiler: its ops
# that take the most time, as the configuration's report.
PROFILE = """
if {profile}:
    from torch.profiler import ProfilerActivity, profile
    with scope():
        predict()
        with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as profiler:
            predict()
    report = profiler.key_averages(group_by_input_shape=True).table(
        sort_by="self_cpu_time_total", row_limit=12, max_name_column_width=36, max_shapes_column_width=60)
"""

KERAS = inference.timed("""
import numpy as np, keras, keras_vit, torch
try:
    from keras_vit.training.precision import bfloat16_note
except ImportError:  # an --other-tree from before it
    bfloat16_note = lambda precision: None
keras.config.set_dtype_policy("{policy}")
note = bfloat16_note("{policy}")
model = keras_vit.ViT(image_size={image_size}, num_layers={layers}, num_classes=1000, activation="gelu")
images = np.random.default_rng(0).uniform(0, 255, ({batch}, {image_size}, {image_size}, 3)).astype("float32")
def predict():
    return keras.ops.convert_to_numpy(model.predict_on_batch(images))
""" + PROFILE)

# ViT-B's width, as timm's VisionTransformer computes it.
REFERENCE = inference.timed("""
import torch
from torch import nn
F = nn.functional

class Block(nn.Module):
    def __init__(self, width=768, heads=12, mlp=3072):
        super().__init__()
        self.heads = heads
        self.norm1, self.norm2 = nn.LayerNorm(width, eps=1e-6), nn.LayerNorm(width, eps=1e-6)
        self.qkv, self.proj = nn.Linear(width, 3 * width), nn.Linear(width, width)
        self.fc1, self.fc2 = nn.Linear(width, mlp), nn.Linear(mlp, width)

    def forward(self, x):
        batch, tokens, width = x.shape
        qkv = self.qkv(self.norm1(x)).reshape(batch, tokens, 3, self.heads, width // self.heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        mixed = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(batch, tokens, width)
        x = x + self.proj(mixed)
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))

class ViT(nn.Module):
    def __init__(self, image_size, layers, width=768, patch=16, classes=1000):
        super().__init__()
        self.patches = nn.Conv2d(3, width, patch, patch)
        self.cls = nn.Parameter(torch.zeros(1, 1, width))
        self.position = nn.Parameter(torch.randn(1, (image_size // patch) ** 2 + 1, width) * 0.02)
        self.blocks = nn.Sequential(*(Block(width) for _ in range(layers)))
        self.norm, self.head = nn.LayerNorm(width, eps=1e-6), nn.Linear(width, classes)

    def forward(self, images):
        x = self.patches(images).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.position
        return self.head(self.norm(self.blocks(x))[:, 0])

model = ViT({image_size}, {layers}).eval()
images = torch.rand({batch}, 3, {image_size}, {image_size})
autocast = torch.autocast("cpu", dtype=torch.bfloat16) if "{precision}" == "bf16" else contextlib.nullcontext()
@contextlib.contextmanager
def scope():
    with torch.inference_mode(), autocast:
        yield
def predict():
    return model(images)
""" + PROFILE)

# What the configurations' environments set for --cpu-isa.
CPU_ISA = {"AVX2": {"ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2"}}


def configurations(args):
    """Every configuration by name: (environment, template, fields)."""
    environment = {"KERAS_BACKEND": "torch", **CPU_ISA.get(args.cpu_isa, {})}
    shared = {"image_size": args.image_size, "layers": args.layers, "profile": args.profile}
    configs = {}
    for name, policy in (("fp32", "float32"), ("bf16", "mixed_bfloat16"), ("bf16-weights", "bfloat16")):
        configs[f"keras-torch-{name}"] = (environment, KERAS, {**shared, "policy": policy})
        if args.other_tree:
            # PYTHONSAFEPATH: the working directory, which may hold this checkout, is not searched first.
            other = {**environment, "PYTHONPATH": os.path.abspath(args.other_tree), "PYTHONSAFEPATH": "1"}
            configs[f"keras-torch-{name}-other"] = (other, KERAS, {**shared, "policy": policy})
    for precision in ("fp32", "bf16"):
        configs[f"reference-{precision}"] = (environment, REFERENCE, {**shared, "precision": precision})
    return configs


def compare(configs, args):
    """Runs the selected `configs` round-robin; prints each round and a table of each one's best."""
    selected = inference.select(configs, args.only)
    best, errors = {}, {}
    for round_index in range(args.rounds):
        for name, (environment, template, fields) in selected.items():
            if name in errors:
                continue
            throughput, error = inference.run(name, environment, template, fields, args)
            if throughput:
                best[name] = max(throughput, best.get(name, 0))
            elif name not in best:
                errors[name] = error
            status = f"{throughput:6.3f} img/s" if throughput else f"failed ({error})"
            print(f"round {round_index + 1}  {name:24s} {status}", flush=True)
    baselines = [name for name in ("reference-fp32", "reference-bf16") if name in best]
    rows = [["configuration", "img/s", *(f"vs {name}" for name in baselines)]]
    rows.append(["---"] * len(rows[0]))
    for name in selected:
        if name in best:
            rows.append([name, f"{best[name]:.3f}", *(f"{best[name] / best[b]:.2f}x" for b in baselines)])
        else:
            rows.append([name, f"failed: {errors[name]}", *([""] * len(baselines))])
    print(f"\n{inference.cpu()}; {_cap(args)}; ViT-B/16 width, {args.layers} blocks, "
          f"{args.image_size} px, batch {args.batch}; best of {args.rounds} rounds:\n")
    print("\n".join("| " + " | ".join(row) + " |" for row in rows))


def _cap(args):
    if not args.cpu_isa:
        return "no ISA cap"
    return "capped: " + " ".join(f"{key}={value}" for key, value in CPU_ISA[args.cpu_isa].items())


def main():
    parser = inference.arguments(__doc__, batch=8)
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--layers", type=int, default=12, help="encoder blocks (ViT-B/16 has 12)")
    parser.add_argument("--cpu-isa", choices=sorted(CPU_ISA), help="run as a CPU with this ISA alone runs")
    parser.add_argument("--profile", action="store_true", help="print each configuration's top ops")
    parser.add_argument(
        "--other-tree", help="also run the keras rows (named *-other) with the keras_vit package found in this "
        "folder, another checkout of the repository, to compare two versions in one run")
    parser.set_defaults(warmup=1, iterations=2, timeout=1800)
    args = parser.parse_args()
    compare(configurations(args), args)


if __name__ == "__main__":
    main()
