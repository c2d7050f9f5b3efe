"""`keras-vit predict`: the top classes of image files, from a model or an exported artifact."""

import os
import sys

import numpy as np

from keras_vit.cli.class_names import imagenet_class_names, or_numbers, run_class_names
from keras_vit.cli.model_source import add_model_arguments, checkpoint_as_model, image_size, is_checkpoint, keras_model
from keras_vit.cli.framework_output import framework_output_held
from keras_vit.utils.validation import check_grid

ARTIFACT_SUFFIXES = (".tflite", ".onnx", ".xml", ".pt2")
MODELS = (
    "a .keras file, an exported model (.tflite, .onnx, OpenVINO .xml, .pt2, or a SavedModel folder) or a "
    "variant name such as B/16"
)
# What reads each exported format, for its errors.
RUNTIMES = {".tflite": "the LiteRT interpreter", ".onnx": "onnxruntime", ".xml": "OpenVINO", ".pt2": "torch.export"}
# Under TensorFlow, up to this many images run through the Keras model called
# directly: tracing `model.predict`'s tf.function costs seconds more on so few.
EAGER_IMAGES = 32
HELP = "print the top classes of image files"


def add_arguments(parser):
    parser.add_argument("images", nargs="+", help="image files (any size; resized to the model's)")
    parser.add_argument("--top", type=int, default=5, help="classes to print per image (default 5)")
    add_model_arguments(
        parser, what="a .keras, .tflite, .onnx, OpenVINO .xml or .pt2 file, a SavedModel folder, or a variant such as B/16"
    )
    parser.set_defaults(run=run)


def run(args):
    from keras_vit.cli.images import open_images, to_batch

    if args.top < 1:
        raise ValueError(f"--top must be a positive integer. Received: {args.top}")
    files, pictures = open_images(args.images)
    model, input_shape, names = _load(args)
    print(f"keras-vit predict: {len(files)} image(s) with {args.model}", file=sys.stderr)
    images = to_batch(pictures, input_shape[:2], input_shape[2] or 3)
    scores = probabilities(np.asarray(model(images), dtype="float32"))
    if scores.ndim != 2:
        raise ValueError(f"The model returns outputs of shape {scores.shape}, not class scores.")
    names = or_numbers(names or imagenet_class_names(scores.shape[1]), scores.shape[1])
    for path, lines in zip(files, _top(scores, args.top, names)):
        print(path)
        for line in lines:
            print(f"  {line}")


def _load(args):
    """A callable on float32 pixels in [0, 255], its (height, width, channels),
    and the class names saved with the model (None if there are none)."""
    from keras_vit.export import with_preprocessing
    from keras_vit.inspect.geometry import token_grid

    spec = args.model
    if spec.endswith(ARTIFACT_SUFFIXES) and not os.path.exists(spec):
        raise ValueError(f"No such model file: {spec}")
    if os.path.exists(spec) and not spec.endswith(".keras"):
        _check_artifact(spec)
        return _load_artifact(spec, args)
    model = with_preprocessing(keras_model(args))
    names = run_class_names(spec, model.output_shape[-1])
    # A dynamic-size model is fed at the size it was built for.
    shape = (*token_grid(model).image_size, model.input_shape[-1])
    return _scores(model), shape, names


def _scores(model):
    """`model` as a function of a NumPy batch, run without compiling it for a few images.

    The model is loaded uncompiled, so `model.predict` runs eagerly under torch
    (no TorchDynamo) and as one XLA program under JAX, quicker than JAX's
    op-by-op dispatch; TensorFlow's tf.function is slower to trace than a few
    images take eagerly, so there the model is called directly.
    """
    import keras

    eager = keras.backend.backend() == "tensorflow"

    def run(images):
        if eager and len(images) <= EAGER_IMAGES:
            return keras.ops.convert_to_numpy(model(images, training=False))
        return model.predict(images, verbose=0)

    return run


def _check_artifact(spec):
    """Refuses, in one line, a file that is no model predict runs."""
    if is_checkpoint(spec):
        raise checkpoint_as_model(spec, MODELS)
    if not (spec.endswith(ARTIFACT_SUFFIXES) or os.path.isfile(os.path.join(spec, "saved_model.pb"))):
        raise ValueError(f"{spec} is not a model keras-vit predict runs: --model takes {MODELS}.")


def _read_artifact(spec):
    """The exported model's runner, or a one-line error naming the file if it is damaged."""
    from keras_vit.export import load
    from keras_vit.utils.file_checks import check_exported, unreadable

    check_exported(spec)
    try:
        with framework_output_held():
            return load(spec)
    except ImportError:
        raise
    except Exception as error:  # each runtime raises its own kinds for a file it cannot read
        if isinstance(error, ValueError) and spec in str(error) and len(str(error).splitlines()) == 1:
            raise
        runtime = RUNTIMES.get(os.path.splitext(spec)[1], "TensorFlow")
        raise unreadable(spec, runtime, error) from None


def _load_artifact(spec, args):
    runner = _read_artifact(spec)
    height, width, channels = runner.input_shape
    open_size = height is None or width is None
    if args.weights or args.num_classes or (args.image_size and not open_size):
        raise ValueError(
            "--weights, --image-size and --num-classes go with a variant name, not an exported "
            "model (--image-size only with a file of open height and width)."
        )
    if open_size:
        if not args.image_size:
            raise ValueError(
                f"{spec} takes images of any size its patch stride divides: pass --image-size "
                "N or HEIGHT WIDTH to resize them to."
            )
        height, width = check_grid("image_size", image_size(args.image_size))
    return _quietly(runner, spec, open_size), (height, width, channels), runner.class_names


def _quietly(runner, spec, open_size):
    """`runner` with the runtime's log lines held back, and its errors on an
    open-size file's images explained."""

    def run(images):
        try:
            with framework_output_held():
                return runner(images)
        except Exception as error:
            if not open_size or isinstance(error, ValueError):
                raise
            first = str(error).strip().splitlines()[0] if str(error).strip() else ""
            raise ValueError(
                f"{spec} failed on images of {images.shape[1]}x{images.shape[2]} ({type(error).__name__}: "
                f"{first}). A file exported with open height and width takes the sizes the patch stride "
                "of its model divides (multiples of 16 for a /16 model): pass such an --image-size."
            ) from None

    return run


def probabilities(scores):
    """Softmax of logits; outputs that are already probabilities stay as they are."""
    if scores.ndim == 2 and (scores.min() < 0 or not np.allclose(scores.sum(axis=1), 1.0, atol=1e-3)):
        shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)
    return scores


def _top(scores, top, names):
    top = min(top, scores.shape[1])
    for row in scores:
        best = np.argsort(row)[::-1][:top]
        yield [f"{row[i]:7.2%}  {names[i]}" for i in best]
