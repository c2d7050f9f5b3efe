"""`keras-vit predict`: the top classes of image files, from a model or an exported artifact."""

import os

import numpy as np

from keras_vit.cli.model_source import add_model_arguments, keras_model

IMAGENET_SIZES = (1000, 21843)
ARTIFACT_SUFFIXES = (".tflite", ".onnx")


def register(commands):
    predict = commands.add_parser("predict", help="print the top classes of image files")
    predict.add_argument("images", nargs="+", help="image files (any size; resized to the model's)")
    predict.add_argument(
        "--model",
        required=True,
        help="a .keras, .tflite or .onnx file, a SavedModel folder, or a variant such as B/16",
    )
    predict.add_argument("--top", type=int, default=5, help="classes to print per image (default 5)")
    add_model_arguments(predict)
    predict.set_defaults(run=run)


def run(args):
    from keras_vit.cli.images import open_images, to_batch

    if args.top < 1:
        raise ValueError(f"--top must be a positive integer. Received: {args.top}")
    files, pictures = open_images(args.images)
    model, input_shape = _load(args)
    images = to_batch(pictures, input_shape[:2])
    scores = _probabilities(np.asarray(model(images), dtype="float32"))
    if scores.ndim != 2:
        raise ValueError(f"The model returns outputs of shape {scores.shape}, not class scores.")
    for path, lines in zip(files, _top(scores, args.top)):
        print(path)
        for line in lines:
            print(f"  {line}")


def _load(args):
    """A callable on float32 pixels in [0, 255], and its (height, width, channels)."""
    from keras_vit.export import load, with_preprocessing

    spec = args.model
    if spec.endswith(ARTIFACT_SUFFIXES) and not os.path.exists(spec):
        raise ValueError(f"No such model file: {spec}")
    if os.path.exists(spec) and not spec.endswith(".keras"):
        if args.weights or args.image_size or args.num_classes:
            raise ValueError(
                "--weights, --image-size and --num-classes go with a variant name, not an exported model."
            )
        runner = load(spec)
        return runner, runner.input_shape
    model = with_preprocessing(keras_model(spec, args))
    return (lambda images: model.predict(images, verbose=0)), tuple(model.input_shape[1:])


def _probabilities(scores):
    """Softmax of logits; outputs that are already probabilities stay as they are."""
    if scores.ndim == 2 and (scores.min() < 0 or not np.allclose(scores.sum(axis=1), 1.0, atol=1e-3)):
        shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)
    return scores


def _top(scores, top):
    from keras_vit import decode_predictions

    top = min(top, scores.shape[1])
    if scores.shape[1] in IMAGENET_SIZES:
        for row in decode_predictions(scores, top=top):
            yield [f"{score:7.2%}  {name} ({synset})" for synset, name, score in row]
        return
    for row in scores:
        best = np.argsort(row)[::-1][:top]
        yield [f"{row[i]:7.2%}  class {i}" for i in best]
