"""`keras-vit export`: a model to a SavedModel, a LiteRT file or an ONNX file, checked."""

import os

from keras_vit.cli.model_source import add_model_arguments, keras_model

SUFFIXES = {"tf_saved_model": "_saved_model", "litert": ".tflite", "onnx": ".onnx"}


def register(commands):
    export = commands.add_parser(
        "export",
        help="export to SavedModel, LiteRT (TFLite) or ONNX, checked against the Keras model",
    )
    export.add_argument("model", help="a .keras file, or a variant such as B/16 or ViTB16")
    export.add_argument(
        "--format", required=True, help="tflite (litert), saved_model (tf_saved_model) or onnx"
    )
    export.add_argument("-o", "--output", help="where to write; default: beside MODEL, or here")
    export.add_argument(
        "--quantize", help="tflite only: float16, dynamic_int8 or int8 (needs --calibration-images)"
    )
    export.add_argument(
        "--calibration-images", nargs="+", default=(), help="images (or folders) to calibrate int8 on"
    )
    export.add_argument("--overwrite", action="store_true", help="replace an existing output")
    export.add_argument("--no-verify", action="store_true", help="do not check the artifact against the model")
    add_model_arguments(export)
    export.set_defaults(run=run)


def run(args):
    from keras_vit.cli.images import read_images
    from keras_vit.export import export
    from keras_vit.export.exporter import ALIASES, FORMATS

    name = ALIASES.get(args.format, args.format)
    if name not in FORMATS:
        raise ValueError(f"--format must be tflite, saved_model or onnx. Received: {args.format}")
    output = args.output or _default_output(args.model, name, args.quantize)
    if os.path.lexists(output) and not args.overwrite:
        raise ValueError(f"{output} exists; pass --overwrite to replace it.")
    model = keras_model(args.model, args)
    calibration = None
    if args.calibration_images:
        _, calibration = read_images(args.calibration_images, model.input_shape[1:3])
    report = export(
        model,
        output,
        name,
        quantize=args.quantize,
        verify=not args.no_verify,
        overwrite=args.overwrite,
        representative_data=calibration,
    )
    print(report)


def _default_output(model, format, quantize):
    stem = model[: -len(".keras")] if model.endswith(".keras") else model.replace("/", "").lower()
    stem = stem if model.endswith(".keras") else "vit_" + stem.removeprefix("vit")
    return stem + (f"_{quantize}" if quantize else "") + SUFFIXES[format]
