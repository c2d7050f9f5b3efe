"""`keras-vit predict`: the top classes of image files, from a model or an exported artifact."""

import os
import sys

import numpy as np

from keras_vit.classes import FILES
from keras_vit.cli.model_source import add_model_arguments, image_size, keras_model
from keras_vit.utils.validation import check_grid

ARTIFACT_SUFFIXES = (".tflite", ".onnx")
HELP = "print the top classes of image files"


def add_arguments(parser):
    parser.add_argument("images", nargs="+", help="image files (any size; resized to the model's)")
    parser.add_argument("--top", type=int, default=5, help="classes to print per image (default 5)")
    add_model_arguments(
        parser, what="a .keras, .tflite or .onnx file, a SavedModel folder, or a variant such as B/16"
    )
    parser.set_defaults(run=run)


def run(args):
    from keras_vit.cli.images import open_images, to_batch

    if args.top < 1:
        raise ValueError(f"--top must be a positive integer. Received: {args.top}")
    files, pictures = open_images(args.images)
    model, input_shape = _load(args)
    print(f"keras-vit predict: {len(files)} image(s) with {args.model}", file=sys.stderr)
    images = to_batch(pictures, input_shape[:2])
    scores = probabilities(np.asarray(model(images), dtype="float32"))
    if scores.ndim != 2:
        raise ValueError(f"The model returns outputs of shape {scores.shape}, not class scores.")
    for path, lines in zip(files, _top(scores, args.top, _class_names(args.model, scores.shape[1]))):
        print(path)
        for line in lines:
            print(f"  {line}")


def _load(args):
    """A callable on float32 pixels in [0, 255], and its (height, width, channels)."""
    from keras_vit.export import with_preprocessing
    from keras_vit.inspect.geometry import token_grid

    spec = args.model
    if spec.endswith(ARTIFACT_SUFFIXES) and not os.path.exists(spec):
        raise ValueError(f"No such model file: {spec}")
    if os.path.exists(spec) and not spec.endswith(".keras"):
        return _load_artifact(spec, args)
    model = with_preprocessing(keras_model(args))
    # A dynamic-size model is fed at the size it was built for.
    return (lambda images: model.predict(images, verbose=0)), (*token_grid(model).image_size, model.input_shape[-1])


def _load_artifact(spec, args):
    from keras_vit.export import load

    runner = load(spec)
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
    return runner, (height, width, channels)


def probabilities(scores):
    """Softmax of logits; outputs that are already probabilities stay as they are."""
    if scores.ndim == 2 and (scores.min() < 0 or not np.allclose(scores.sum(axis=1), 1.0, atol=1e-3)):
        shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)
    return scores


def _class_names(model, num_classes):
    """Names for a head: `classes.txt` beside the model file if it has one line
    per class, ImageNet's for 1000 or 21843 classes, else the indices."""
    from keras_vit.training.run import CLASS_NAMES_FILE

    path = os.path.join(os.path.dirname(os.path.abspath(model)), CLASS_NAMES_FILE)
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as file:
            names = file.read().splitlines()
        if len(names) == num_classes:
            return names
    if num_classes in FILES:
        from keras_vit.classes import imagenet_classes

        return [f"{name} ({synset})" for synset, name in imagenet_classes(num_classes)]
    return [f"class {index}" for index in range(num_classes)]


def _top(scores, top, names):
    top = min(top, scores.shape[1])
    for row in scores:
        best = np.argsort(row)[::-1][:top]
        yield [f"{row[i]:7.2%}  {names[i]}" for i in best]
