"""The model a command works on: a variant or builder name, or a `.keras` file.

`export`, `predict` and `inspect` take the same flags for it and build it the
same way, through `keras_vit.models.build_model`.
"""

import contextlib
import os
import sys

EXPORTED_SUFFIXES = (".tflite", ".onnx", ".xml", ".pt2")
# Files that hold weights without a model: checkpoints, and Keras' own weights files.
CHECKPOINT_SUFFIXES = (".npz", ".safetensors", ".pth", ".bin", ".pt", ".weights.h5")
DEFAULT_SIZE = 224  # every builder's default `image_size`


def add_model_arguments(parser, positional=False, what="a variant (B/16, R50+B/16), a builder (ViTB16) or a .keras file"):
    """Adds MODEL (positional, or `--model`), `--weights`, `--image-size` and `--num-classes`."""
    if positional:
        parser.add_argument("model", help=what)
    else:
        parser.add_argument("--model", required=True, help=what)
    parser.add_argument("--weights", help="published weights' name, or a checkpoint path, to load")
    add_image_size_argument(parser, "with a variant name: input size, N or HEIGHT WIDTH")
    parser.add_argument("--num-classes", type=int, help="with a variant name: classes of the head")


def add_image_size_argument(parser, help):
    parser.add_argument("--image-size", type=int, nargs="+", metavar="N", help=help)


def image_size(values):
    """`--image-size` as a builder takes it: None, N, or (HEIGHT, WIDTH)."""
    if not values or isinstance(values, int):
        return values or None
    if len(values) > 2:
        raise ValueError(f"--image-size takes N or HEIGHT WIDTH. Received: {' '.join(map(str, values))}")
    return values[0] if len(values) == 1 else tuple(values)


def keras_model(args):
    """Builds or loads the model the flags describe."""
    from keras_vit.models.builders import build_model

    _check_keras_model(args.model)
    overrides = {"image_size": image_size(args.image_size), "num_classes": args.num_classes}
    overrides = {key: value for key, value in overrides.items() if value is not None}
    with image_size_hint(args, "takes", "image files of any size are resized to it"):
        model = build_model(args.model, weights=args.weights, **overrides)
    if args.weights is None and not args.model.endswith(".keras"):
        print(f"note: {args.model} has random weights (no --weights given)", file=sys.stderr)
    return model


@contextlib.contextmanager
def image_size_hint(args, verb, resized):
    """Adds to an error on `--image-size` the flag and the size used without it."""
    try:
        yield
    except ValueError as error:
        if not args.image_size or not str(error).startswith("`image_size`"):
            raise
        raise ValueError(
            f"{error} (--image-size). Without --image-size, {args.model} {verb} {DEFAULT_SIZE}x{DEFAULT_SIZE} "
            f"images, or its --weights' size; {resized}."
        ) from None


def is_checkpoint(spec):
    """Whether `spec` names weights without a model: a checkpoint file or a HF model folder."""
    return spec.endswith(CHECKPOINT_SUFFIXES) or os.path.isfile(os.path.join(spec, "config.json"))


def checkpoint_as_model(spec, takes):
    """The error for a checkpoint given as `--model`, which takes `takes`."""
    if spec.endswith(".weights.h5"):
        also = f"or with the .keras file it was saved from (--model model.keras --weights {spec})"
    else:
        also = f"or make a .keras file of it first (keras-vit convert {spec} model.keras)"
    return ValueError(
        f"{spec} is a checkpoint, not a model: --model takes {takes}. Pass a checkpoint as --weights with "
        f"the variant of its size (--model B/16 --weights {spec}), {also}."
    )


def _check_keras_model(spec):
    """Refuses a file that is not a Keras model before its name is taken for a variant's."""
    if spec.endswith(".keras") or not os.path.exists(spec):
        return
    if is_checkpoint(spec):
        raise checkpoint_as_model(spec, "a .keras file or a variant name such as B/16")
    exported = spec.endswith(EXPORTED_SUFFIXES) or os.path.isfile(os.path.join(spec, "saved_model.pb"))
    what = "an exported model (keras-vit predict runs those)" if exported else "not a .keras file"
    raise ValueError(
        f"This command needs a Keras model: a .keras file, or a variant name such as B/16 with "
        f"--weights for a checkpoint. {spec} is {what}."
    )
