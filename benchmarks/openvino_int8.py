"""OpenVINO int8 files on every kind of x86 CPU, with and without NNCF's overflow fix.

    keras-vit demo --out demo
    KERAS_BACKEND=tensorflow python benchmarks/openvino_int8.py --model demo/model.keras

Exports the digits ViT of `keras-vit demo` to OpenVINO int8 twice, calibrated on
128 training images: as keras_vit writes it (every weight kept to 7 bits,
NNCF's `overflow_fix="enable"`) and with NNCF's default (7 bits in the first
layer only), then runs both files on the 360 test images in one process per
CPU kind. OpenVINO's oneDNN picks its int8 kernels by the widest instruction
set it may use, and `ONEDNN_MAX_CPU_ISA` caps that: AVX2 and AVX512_CORE have
no VNNI and sum pairs of int8 products in 16 bits, AVX512_CORE_VNNI and
wider sum them in 32. A cap above what the CPU has changes nothing, so run it
on the widest CPU at hand. Prints, for each file and kind, the largest logit
difference from the Keras model, the top-1 agreement and the test accuracy.
Not a test.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402

KINDS = ("AVX2", "AVX512_CORE", "AVX512_CORE_VNNI", "default")
FIXES = ("enable", "first_layer_only")


def export(model_path, folder):
    """Writes `{fix}.xml` for each of `FIXES` and `reference.npz`; returns the test labels' accuracy."""
    import keras
    import nncf
    import openvino
    from nncf.quantization.advanced_parameters import AdvancedQuantizationParameters, OverflowFix

    from keras_vit.data import load_digits
    from keras_vit.export import export_model
    from keras_vit.export import openvino as kv_openvino

    model = keras.saving.load_model(model_path)
    splits = load_digits(image_size=model.input_shape[1])
    calibration = splits["train"][0][:128].astype("float32")
    images, labels = splits["test"]
    images = images.astype("float32")
    np.savez(os.path.join(folder, "reference.npz"), images=images, labels=labels,
             logits=model.predict(images, verbose=0))
    export_model(model, os.path.join(folder, "enable.xml"), "openvino", precision="int8",
                 representative_data=calibration)
    # NNCF's default, as keras_vit wrote it before: the same calls without the overflow fix.
    with tempfile.TemporaryDirectory(dir=folder) as staging:
        converted = kv_openvino._convert(model, staging)
    quantized = nncf.quantize(
        converted, nncf.Dataset([image[None] for image in calibration]), model_type=nncf.ModelType.TRANSFORMER,
        subset_size=len(calibration),
        advanced_parameters=AdvancedQuantizationParameters(overflow_fix=OverflowFix.FIRST_LAYER),
    )
    quantized.set_rt_info("f32", kv_openvino.PRECISION_KEY)
    openvino.save_model(quantized, os.path.join(folder, "first_layer_only.xml"), compress_to_fp16=False)


def measure(folder):
    """One JSON line per file, run under this process' `ONEDNN_MAX_CPU_ISA`."""
    from keras_vit.export import load

    reference = np.load(os.path.join(folder, "reference.npz"))
    for fix in FIXES:
        logits = load(os.path.join(folder, f"{fix}.xml"))(reference["images"])
        print(json.dumps({
            "fix": fix,
            "max_logit_difference": float(np.abs(logits - reference["logits"]).max()),
            "top1_agreement": float(np.mean(logits.argmax(1) == reference["logits"].argmax(1))),
            "accuracy": float(np.mean(logits.argmax(1) == reference["labels"])),
        }))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="the digits ViT's .keras file (keras-vit demo's model.keras)")
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # a folder of files: one kind's run
    args = parser.parse_args()
    if args.measure:
        return measure(args.measure)
    if not args.model:
        parser.error("--model is required")
    from keras_vit.utils.cpu import cpu_flags, cpu_kind

    with tempfile.TemporaryDirectory() as folder:
        export(args.model, folder)
        reference = np.load(os.path.join(folder, "reference.npz"))
        scale = float(np.abs(reference["logits"]).max())
        keras_accuracy = float(np.mean(reference["logits"].argmax(1) == reference["labels"]))
        wanted = sorted(cpu_flags() & {"avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_int8"})
        print(f"CPU: {cpu_kind()} ({' '.join(wanted)}); Keras model: test accuracy {keras_accuracy:.1%}, "
              f"logits up to {scale:.2f}")
        print(f"{'ONEDNN_MAX_CPU_ISA':<18} {'overflow_fix':<17} {'max |logit diff|':>16} {'top-1 agree':>11} "
              f"{'accuracy':>8}")
        for kind in KINDS:
            environment = {k: v for k, v in os.environ.items() if k != "ONEDNN_MAX_CPU_ISA"}
            if kind != "default":
                environment["ONEDNN_MAX_CPU_ISA"] = kind
            result = subprocess.run([sys.executable, __file__, "--measure", folder], env=environment,
                                    capture_output=True, text=True, check=True)
            for line in result.stdout.splitlines():
                row = json.loads(line)
                print(f"{kind:<18} {row['fix']:<17} {row['max_logit_difference']:>16.3f} "
                      f"{row['top1_agreement']:>11.1%} {row['accuracy']:>8.1%}")


if __name__ == "__main__":
    main()
