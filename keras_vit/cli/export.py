"""`keras-vit export`: a model to a SavedModel, a LiteRT, ONNX, OpenVINO or `.pt2` file, or a keras-hub preset, checked."""

import argparse
import os
import sys

from keras_vit.cli.choices import EXPORT_FORMATS, EXPORT_PRECISIONS
from keras_vit.cli.class_names import imagenet_class_names, run_class_names
from keras_vit.cli.common import precision_note
from keras_vit.cli.model_source import add_model_arguments, keras_model
from keras_vit.cli.framework_output import framework_output_held

SUFFIXES = {"tf_saved_model": "_saved_model", "litert": ".tflite", "onnx": ".onnx", "openvino": ".xml", "torch": ".pt2",
            "keras_hub": "_keras_hub"}


HELP = "export to SavedModel, LiteRT (TFLite), ONNX, OpenVINO, PyTorch .pt2 or a keras-hub preset, checked against the Keras model"


def add_arguments(parser):
    add_model_arguments(parser, positional=True)
    parser.add_argument("--format", required=True, choices=EXPORT_FORMATS, help="tflite is litert, saved_model is tf_saved_model, pt2 is torch (torch.export)")
    parser.add_argument("-o", "--output", help="where to write; default: beside MODEL, or here")
    parser.add_argument("--precision", choices=EXPORT_PRECISIONS, help="the file's own conversion; litert: float16, dynamic_int8, int8; openvino: bfloat16, int8_weights, int8 (int8 needs --calibration-images)")
    # The flag's name before --precision, kept to say so.
    parser.add_argument("--quantize", dest="removed_quantize", help=argparse.SUPPRESS)
    parser.add_argument(
        "--calibration-images", nargs="+", default=(), help="images (or folders) to calibrate int8 on"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output")
    parser.add_argument("--no-verify", action="store_true", help="do not check the artifact against the model")
    parser.set_defaults(run=run)


def run(args):
    from keras_vit.cli.images import open_images, to_batch
    from keras_vit.export import check_request, export_model
    from keras_vit.export.labels import class_names_path
    from keras_vit.inspect.geometry import token_grid

    if args.removed_quantize is not None:
        raise ValueError(f"--quantize is now --precision (the file's own conversion). Received: --quantize {args.removed_quantize}")
    # Everything that can be checked without the model is, before it loads.
    name, precision = check_request(args.format, args.precision, verify=not args.no_verify)
    precision_note(precision)
    _check_calibration(precision, args.calibration_images)
    output = args.output or _default_output(args.model, name, args.precision)
    if os.path.lexists(output) and not args.overwrite:
        raise ValueError(f"{output} exists; pass --overwrite to replace it.")
    pictures = open_images(args.calibration_images)[1] if args.calibration_images else None
    model = keras_model(args)
    print(f"keras-vit export: {model.name} to {name} at {output}", file=sys.stderr)
    calibration = None if pictures is None else to_batch(pictures, token_grid(model).image_size)
    names = run_class_names(args.model, model.output_shape[-1]) or imagenet_class_names(model.output_shape[-1])
    with framework_output_held():
        report = export_model(
            model,
            output,
            name,
            precision=args.precision,
            verify=not args.no_verify,
            overwrite=args.overwrite,
            representative_data=calibration,
            class_names=names,
        )
    print(report)
    if names is not None:
        print(f"{len(names)} class names, {_first(names)}, in {class_names_path(report.path)}")


def _check_calibration(precision, images):
    if precision == "int8" and not images:
        raise ValueError(
            "--precision int8 calibrates its activation ranges on images like the ones the model will "
            "see: pass them with --calibration-images (files or folders; a few hundred is typical)."
        )
    if images and precision != "int8":
        raise ValueError(
            f"--calibration-images apply to --precision int8 only. Received: --precision {precision or 'float32'}"
        )


def _first(names, count=3):
    return ", ".join(names[:count]) + (", ..." if len(names) > count else "")


def _default_output(model, format, precision):
    stem = model[: -len(".keras")] if model.endswith(".keras") else model.replace("/", "").lower()
    stem = stem if model.endswith(".keras") else "vit_" + stem.removeprefix("vit")
    return stem + (f"_{precision}" if precision else "") + SUFFIXES[format]
