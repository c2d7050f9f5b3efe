"""Inference throughput of ViT-B/16 at 224, batch 8: keras_vit in float32, bf16, int8 and
float8 per backend, its exported LiteRT, ONNX, OpenVINO and .pt2 files, against timm and HF
transformers, and each as a fraction of the machine's matmul ceiling in its precision.

Every configuration runs in a subprocess of its own (a process holds one Keras
backend), one after the other, round-robin over `--rounds` rounds, keeping each
one's best round, so that a burst of load on the machine hits all of them alike.
Ratios are against timm in fp32 and in bf16 autocast when timm runs, else
against HF transformers in fp32.

    python benchmarks/inference.py                     # everything installed
    python benchmarks/inference.py --iterations 10 --only keras-jax-fp32 timm-fp32
    python benchmarks/inference.py --only 'keras-*-int8' 'litert-*' 'timm-*'

Configurations (`--only` takes these names or shell patterns of them):
  keras-BACKEND-fp32, keras-BACKEND-bf16     float32, and the mixed_bfloat16 policy
  keras-BACKEND-bf16-weights                 the bfloat16 policy: weights stored in bf16 too,
                                             no cast of a weight in any call
  keras-BACKEND-int8, keras-BACKEND-float8   model.quantize(mode) on the float32 model
  keras-BACKEND-bf16-int8                    model.quantize("int8") on a mixed_bfloat16 model
  keras-jax-{fp32,bf16}-onednn               XLA_FLAGS with XLA:CPU's oneDNN matmul fusions
                                             (--xla_cpu_use_onednn=true
                                             --xla_cpu_experimental_onednn_fusion_type=dot)
  keras-torch-fp32-tanh                      tanh GELU (keras_vit's default for the original
                                             checkpoints); every other Keras row uses the exact GELU
  keras-torch-{fp32,bf16,bf16-weights}-timm-env
                                             keras_vit on timm's interpreter (its torch build)
  timm-{fp32,bf16}, hf-{fp32,bf16}           PyTorch models; bf16 is torch.autocast
  litert-fp32, litert-dynamic-int8           LiteRT files written by keras_vit.export.export_model
                                             from the TensorFlow backend, in the LiteRT interpreter
  onnx-fp32                                  the ONNX file from export_model (TensorFlow backend)
  onnx-int8-ort                              that file quantized by onnxruntime's quantize_dynamic
                                             (int8 weights, dynamic int8 activations): not keras_vit's
  openvino-{fp32,bf16,int8-weights,int8}     OpenVINO files from export_model (TensorFlow backend;
                                             int8 calibrated on 32 random images), in OpenVINO's
                                             CPU plugin with the file's inference precision
  pt2-fp32, pt2-bf16                         the .pt2 file from export_model (torch backend), run by
                                             torch alone; bf16 is the file of a model built under
                                             mixed_bfloat16 (torch.autocast cannot enter a program)
  pt2-fp32-compiled, pt2-bf16-compiled       those files run by keras_vit.export.load(path, compile=True):
                                             TorchInductor with the weights frozen into the compiled code
  pt2-bf16-autotune                          the same with compile="max-autotune"
  keras-torch-bf16-compile                   keras_vit on torch, mixed_bfloat16, compiled with
                                             model.compile(jit_compile=True) (torch.compile)
  matmul-fp32, matmul-bf16, matmul-int8      the machine's ceiling: a 2048^3 matmul in torch
                                             (int8: torch._int_mm), GFLOP/s; the "of ceiling" column
                                             reads every row's img/s x 35.13 GFLOP (ViT-B/16's forward,
                                             keras_vit.models.count_flops) against it
BACKEND is jax, tensorflow or torch. The exported files are written once, before
the first round, into `--artifacts` (a temporary folder by default; files already
there are reused). They are exported with `verify=False`: parity of each format
is benchmarks/export.py's subject, and this model's random weights are not the
ones it checks parity on.

timm needs torchvision, which may not install beside the torch that keras_vit's
tests use; `--timm-python` runs the timm configurations with another interpreter
(a virtual environment with timm in it). The `keras-torch-*-timm-env` rows run
keras_vit with that interpreter too, so that the torch builds compared are the same.
"""

import argparse
import fnmatch
import json
import os
import subprocess
import sys
import tempfile
import textwrap

def timed(setup):
    """A configuration's script: `setup` defines `predict()` (one batch, through to
    its NumPy or torch result) and may replace `scope`, the context the calls run in,
    `note` (a line for the user, such as `bfloat16_note`'s) and `report` (text to show);
    then `{warmup}` untimed calls and `{iterations}` timed ones, printed as JSON."""
    header = "import contextlib, json, os, time\nscope = contextlib.nullcontext\nnote = report = None\n"
    timing = (
        "with scope():\n"
        "    for _ in range({warmup}):\n"
        "        predict()\n"
        "    start = time.perf_counter()\n"
        "    for _ in range({iterations}):\n"
        "        predict()\n"
        'print(json.dumps({{"seconds": time.perf_counter() - start, "note": note, "report": report}}))\n'
    )
    return header + textwrap.dedent(setup) + timing


KERAS = timed("""
import numpy as np, keras, keras_vit
from keras_vit.training.precision import bfloat16_note
keras.config.set_dtype_policy("{policy}")
note = bfloat16_note("{policy}")
model = keras_vit.ViTB16(activation="{activation}")
if "{quantize}":
    model.quantize("{quantize}")
if {jit_compile}:
    model.compile(jit_compile=True)
images = np.random.default_rng(0).uniform(0, 255, ({batch}, 224, 224, 3)).astype("float32")
def predict():
    return keras.ops.convert_to_numpy(model.predict_on_batch(images))
""")

TORCH = timed("""
import torch
{build}
model.eval()
images = torch.rand({batch}, 3, 224, 224)
autocast = torch.autocast("cpu", dtype=torch.bfloat16) if "{precision}" == "bf16" else contextlib.nullcontext()
@contextlib.contextmanager
def scope():
    with torch.inference_mode(), autocast:
        yield
def predict():
    return model(images)
""")

# The exported files take float32 pixels in [0, 255], channels last, any batch.
LITERT = timed("""
import numpy as np
from ai_edge_litert.interpreter import Interpreter
images = np.random.default_rng(0).uniform(0, 255, ({batch}, 224, 224, 3)).astype("float32")
interpreter = Interpreter(model_path={path!r}, num_threads=os.cpu_count())
input, output = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
interpreter.resize_tensor_input(input["index"], images.shape)
interpreter.allocate_tensors()
def predict():
    interpreter.set_tensor(input["index"], images)
    interpreter.invoke()
    return interpreter.get_tensor(output["index"])
assert predict().shape == ({batch}, 1000)
""")

ONNX = timed("""
import numpy as np, onnxruntime
images = np.random.default_rng(0).uniform(0, 255, ({batch}, 224, 224, 3)).astype("float32")
session = onnxruntime.InferenceSession({path!r}, providers=["CPUExecutionProvider"])
feed = {{session.get_inputs()[0].name: images}}
def predict():
    return session.run(None, feed)
""")

OPENVINO = timed("""
import numpy as np, openvino
images = np.random.default_rng(0).uniform(0, 255, ({batch}, 224, 224, 3)).astype("float32")
core = openvino.Core()
model = core.read_model({path!r})
precision = model.get_rt_info(["keras_vit", "inference_precision"]).astype(str)
compiled = core.compile_model(model, "CPU", {{"INFERENCE_PRECISION_HINT": precision}})
def predict():
    return compiled(images)
""")

PT2 = timed("""
import numpy as np, torch
module = torch.export.load({path!r}).module()
images = torch.from_numpy(np.random.default_rng(0).uniform(0, 255, ({batch}, 224, 224, 3)).astype("float32"))
scope = torch.inference_mode
def predict():
    return module(images)
""")

# A .pt2 file as keras_vit.export.load(path, compile=...) runs it; the first
# (warm-up) call compiles.
PT2_COMPILED = timed("""
import numpy as np
from keras_vit.export import load
runner = load({path!r}, compile={mode!r})
images = np.random.default_rng(0).uniform(0, 255, ({batch}, 224, 224, 3)).astype("float32")
def predict():
    return runner(images)
""")

# The machine's ceiling: a 2048^3 matmul. Reported as "seconds" for the work of
# one ViT-B/16 image batch, so that it reads in img/s like the other rows.
MATMUL = """
import time, json
import torch
size = 2048
if "{precision}" == "int8":
    a = torch.randint(-128, 127, (size, size), dtype=torch.int8)
    b = torch.randint(-128, 127, (size, size), dtype=torch.int8)
    multiply = lambda: torch._int_mm(a, b)
else:
    dtype = torch.bfloat16 if "{precision}" == "bf16" else torch.float32
    a, b = torch.randn(size, size, dtype=dtype), torch.randn(size, size, dtype=dtype)
    multiply = lambda: a @ b
for _ in range(3):
    multiply()
calls = 20
start = time.perf_counter()
for _ in range(calls):
    multiply()
per_flop = (time.perf_counter() - start) / (calls * 2 * size**3)
print(json.dumps({{"seconds": per_flop * {iterations} * {batch} * {flops}, "gflops": 1e-9 / per_flop}}))
"""

# ViT-B/16 at 224: forward FLOPs of one image (keras_vit.models.count_flops).
FLOPS_PER_IMAGE = 35_127_656_448

# Writes the files that the LITERT, ONNX and OPENVINO configurations run, on the
# TensorFlow backend, and the .pt2 file on the torch backend.
EXPORT = """
import os, json
os.environ["KERAS_BACKEND"] = {backend!r}
import numpy as np
import keras_vit
from keras_vit.export import export_model
files = json.loads({files!r})
model = keras_vit.ViTB16(activation="gelu")
calibration = np.random.default_rng(1).uniform(0, 255, (32, 224, 224, 3)).astype("float32")
for path, format, quantize, source in files:
    if os.path.exists(path):
        continue
    if quantize == "onnxruntime_dynamic_int8":
        from onnxruntime.quantization import QuantType, quantize_dynamic
        if not os.path.exists(source):
            export_model(model, source, "onnx", verify=False)
        quantize_dynamic(source, path, weight_type=QuantType.QInt8)
    elif quantize == "mixed_bfloat16":
        # The model under Keras' mixed_bfloat16 policy, traced as it computes: bf16 inside.
        import keras
        keras.config.set_dtype_policy("mixed_bfloat16")
        export_model(keras_vit.ViTB16(activation="gelu"), path, format, verify=False)
        keras.config.set_dtype_policy("float32")
    else:
        export_model(model, path, format, precision=quantize, verify=False, representative_data=calibration)
    print(path, os.path.getsize(path), flush=True)
"""

# name: (file name, format, quantization), for the configurations that run exported files.
EXPORTED = {
    "litert-fp32": ("vit_b16.tflite", "litert", None),
    "litert-dynamic-int8": ("vit_b16_dynamic_int8.tflite", "litert", "dynamic_int8"),
    "onnx-fp32": ("vit_b16.onnx", "onnx", None),
    "onnx-int8-ort": ("vit_b16_int8_ort.onnx", "onnx", "onnxruntime_dynamic_int8"),
    "openvino-fp32": ("vit_b16.xml", "openvino", None),
    "openvino-bf16": ("vit_b16_bf16.xml", "openvino", "bfloat16"),
    "openvino-int8-weights": ("vit_b16_int8_weights.xml", "openvino", "int8_weights"),
    "openvino-int8": ("vit_b16_int8.xml", "openvino", "int8"),
    "pt2-fp32": ("vit_b16.pt2", "torch", None),
    "pt2-bf16": ("vit_b16_bf16.pt2", "torch", "mixed_bfloat16"),
}
# name: (the configuration whose file it runs, `compile` of keras_vit.export.load).
PT2_COMPILED_ROWS = {
    "pt2-fp32-compiled": ("pt2-fp32", True),
    "pt2-bf16-compiled": ("pt2-bf16", True),
    "pt2-bf16-autotune": ("pt2-bf16", "max-autotune"),
}
TEMPLATES = {"litert": LITERT, "onnx": ONNX, "openvino": OPENVINO, "torch": PT2}

# The ceiling each configuration is read against, by the precision its name ends in.
CEILINGS = {"int8": "matmul-int8", "bf16": "matmul-bf16", "fp32": "matmul-fp32"}

TIMM = "import timm\nmodel = timm.create_model('vit_base_patch16_224', pretrained=False)"
HF = (
    "import transformers\n"
    "model = transformers.ViTForImageClassification(transformers.ViTConfig(num_labels=1000))"
)

BASELINES = ("timm-fp32", "timm-bf16")
FALLBACK_BASELINE = "hf-fp32"


# XLA:CPU calling oneDNN for its matmul fusions, off by default in jaxlib 0.10.
JAX_ONEDNN = {"XLA_FLAGS": "--xla_cpu_use_onednn=true --xla_cpu_experimental_onednn_fusion_type=dot"}

# The Keras dtype policy of each precision's name.
POLICIES = {"fp32": "float32", "bf16": "mixed_bfloat16", "bf16-weights": "bfloat16"}


def keras_config(backend, precision, quantize="", approximate=False, jit_compile=False):
    """keras_vit's ViT-B/16 on `backend`, under the policy of `precision` (a key of
    POLICIES), optionally quantized or compiled with `jit_compile=True`."""
    fields = {"policy": POLICIES[precision], "quantize": quantize, "activation": "gelu_tanh" if approximate else "gelu",
              "jit_compile": jit_compile}
    return {"KERAS_BACKEND": backend}, KERAS, fields


def configurations(folder):
    """All configurations by name: (environment variables, script template, its fields)."""
    # timm's and HF's ViT-B/16 use the exact GELU, so the Keras rows do too: the same
    # function. The "-tanh" row is keras_vit's default for the original checkpoints.
    configs = {}
    for backend in ("jax", "tensorflow", "torch"):
        for precision in POLICIES:
            configs[f"keras-{backend}-{precision}"] = keras_config(backend, precision)
        for mode in ("int8", "float8"):
            configs[f"keras-{backend}-{mode}"] = keras_config(backend, "fp32", mode)
        configs[f"keras-{backend}-bf16-int8"] = keras_config(backend, "bf16", "int8")
    for precision in ("fp32", "bf16"):
        environment, template, fields = keras_config("jax", precision)
        configs[f"keras-jax-{precision}-onednn"] = ({**environment, **JAX_ONEDNN}, template, fields)
    configs["keras-torch-fp32-tanh"] = keras_config("torch", "fp32", approximate=True)
    configs["keras-torch-bf16-compile"] = keras_config("torch", "bf16", jit_compile=True)
    for precision in POLICIES:
        # The same Keras model on the interpreter (and so the torch build) that timm runs on.
        configs[f"keras-torch-{precision}-timm-env"] = keras_config("torch", precision)
    for name, build in (("timm", TIMM), ("hf", HF)):
        for precision in ("fp32", "bf16"):
            configs[f"{name}-{precision}"] = ({}, TORCH, {"build": build, "precision": precision})
    for name, (file_name, format, _) in EXPORTED.items():
        fields = {"path": os.path.join(folder, file_name), "precision": name.rsplit("-", 1)[-1]}
        configs[name] = ({}, TEMPLATES[format], fields)
    for name, (source, mode) in PT2_COMPILED_ROWS.items():
        fields = {"path": os.path.join(folder, EXPORTED[source][0]), "mode": mode}
        configs[name] = ({"KERAS_BACKEND": "torch"}, PT2_COMPILED, fields)
    for precision in ("fp32", "bf16", "int8"):
        configs[f"matmul-{precision}"] = ({}, MATMUL, {"precision": precision, "flops": FLOPS_PER_IMAGE})
    return configs


def select(configs, only):
    """The configurations whose names match one of the patterns in `only` (all if none)."""
    return {
        name: config for name, config in configs.items()
        if not only or any(fnmatch.fnmatchcase(name, pattern) for pattern in only)
    }


def export_files(names, folder):
    """Writes the exported files that the configurations `names` run, unless already there."""
    float_onnx = os.path.join(folder, EXPORTED["onnx-fp32"][0])  # what onnxruntime quantizes
    names = {*names, *(PT2_COMPILED_ROWS[name][0] for name in names if name in PT2_COMPILED_ROWS)}
    for backend in ("tensorflow", "torch"):
        files = sorted({(os.path.join(folder, file_name), format, quantize, float_onnx)
                        for name, (file_name, format, quantize) in EXPORTED.items()
                        if name in names and (format == "torch") == (backend == "torch")})
        if not files:
            continue
        print(f"exporting to {folder} ({backend} backend)", flush=True)
        script = textwrap.dedent(EXPORT).format(files=json.dumps(files), backend=backend)
        subprocess.run([sys.executable, "-c", script], check=True)


def run(name, environment, template, fields, args):
    """Runs one configuration in a fresh process; returns (img/s, None) or (None, why not)."""
    python = args.timm_python if name.startswith("timm") or name.endswith("timm-env") else sys.executable
    script = textwrap.dedent(template).format(
        batch=args.batch, warmup=args.warmup, iterations=args.iterations, **fields
    )
    try:
        result = subprocess.run(
            [python, "-c", script],
            env={**os.environ, **environment},
            capture_output=True,
            text=True,
            timeout=args.timeout,
        )
    except subprocess.TimeoutExpired:
        return None, f"timed out after {args.timeout:.0f} s"
    if result.returncode:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        return None, last
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    if outcome.get("report"):
        print(f"{name}:\n{outcome['report']}", flush=True)
    if outcome.get("note") and outcome["note"] not in _NOTES:
        _NOTES.add(outcome["note"])
        print(outcome["note"], flush=True)
    return args.batch * args.iterations / outcome["seconds"], None


# The notes already printed (`bfloat16_note`'s, once each, whichever configuration gives them).
_NOTES = set()


def arguments(description, batch):
    """The flags every benchmark here shares."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=batch)
    parser.add_argument("--warmup", type=int, default=2, help="untimed calls first (compilation)")
    parser.add_argument("--iterations", type=int, default=5, help="timed calls per round")
    parser.add_argument("--rounds", type=int, default=2, help="best of this many rounds")
    parser.add_argument("--only", nargs="*", help="names of the configurations to run, or shell patterns")
    parser.add_argument("--timm-python", default=sys.executable, help="interpreter for timm")
    parser.add_argument(
        "--timeout", type=float, default=900,
        help="seconds one configuration's process may take; past it, it is recorded as too slow",
    )
    return parser


def compare(configs, args):
    """Runs the selected `configs` round-robin `args.rounds` times; prints and returns each one's best.

    A configuration that fails (or times out) is not run again in later rounds.
    """
    selected = select(configs, args.only)
    best, errors = {}, {}
    for round_index in range(args.rounds):
        for name, (environment, template, fields) in selected.items():
            if name in errors:
                continue
            throughput, error = run(name, environment, template, fields, args)
            if throughput:
                best[name] = max(throughput, best.get(name, 0))
            elif name not in best:
                errors[name] = error
            status = f"{throughput:6.2f} img/s" if throughput else f"failed ({error})"
            print(f"round {round_index + 1}  {name:28s} {status}", flush=True)
    print(table(selected, best, errors, args.rounds))
    return best


def table(names, best, errors, rounds):
    """A Markdown table of each configuration's best img/s and its ratio to each baseline."""
    baselines = [name for name in BASELINES if name in best]
    if not baselines and FALLBACK_BASELINE in best:
        baselines = [FALLBACK_BASELINE]
    columns = ["configuration", "img/s"] + [f"vs {name}" for name in baselines] + ["of ceiling"]
    rows = [columns, ["---"] * len(columns)]
    for name in names:
        if name in best:
            ratios = [f"{best[name] / best[b]:.2f}x" for b in baselines]
            rows.append([name, f"{best[name]:.2f}", *ratios, _of_ceiling(name, best)])
        else:
            rows.append([name, f"failed: {errors.get(name)}"] + [""] * (len(baselines) + 1))
    lines = ["| " + " | ".join(row) + " |" for row in rows]
    return f"\n{cpu()}\nbest of {rounds} rounds:\n\n" + "\n".join(lines)


def _of_ceiling(name, best):
    """The share of the matmul ceiling in the row's precision that the row's throughput is."""
    if name.startswith("matmul-"):
        return f"{best[name] * FLOPS_PER_IMAGE / 1e9:.0f} GFLOP/s"
    # Every name with an int8 part reads against int8: OpenVINO's int8-weights file runs
    # past the float32 ceiling (its CPU plugin quantizes the activations of
    # weight-compressed matmuls on the fly), so float32 is not its ceiling either.
    precision = next((p for p in CEILINGS if p in name.split("-")), "fp32")
    ceiling = best.get(CEILINGS[precision])
    return f"{best[name] / ceiling:.0%}" if ceiling else ""


def cpu():
    """The CPU's model name and the flags that decide which kernels run."""
    model, flags = "unknown CPU", set()
    try:
        with open("/proc/cpuinfo") as file:
            for line in file:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    model = value.strip()
                elif key.strip() == "flags":
                    flags = set(value.split())
                    break
    except OSError:
        pass
    wanted = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "avx512_fp16", "amx_tile", "amx_bf16", "amx_int8")
    present = [flag for flag in wanted if flag in flags]
    return f"CPU: {model}, {os.cpu_count()} logical cores; flags: {', '.join(present) or 'none of ' + ', '.join(wanted)}"


def main():
    parser = arguments(__doc__, batch=8)
    parser.add_argument("--artifacts", help="folder for the exported files, kept and reused (default: temporary)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.artifacts or scratch
        os.makedirs(folder, exist_ok=True)
        configs = configurations(folder)
        print(cpu(), flush=True)
        export_files(select(configs, args.only), folder)
        compare(configs, args)


if __name__ == "__main__":
    main()
