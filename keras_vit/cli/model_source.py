"""The MODEL argument of `export` and `predict`: a `.keras` file or a variant name."""

import sys


def add_model_arguments(parser):
    """Adds `--weights`, `--image-size` and `--num-classes`, used with a variant name."""
    parser.add_argument("--weights", help="with a variant name: published weights' name or a checkpoint path")
    parser.add_argument("--image-size", type=int, help="with a variant name: input resolution")
    parser.add_argument("--num-classes", type=int, help="with a variant name: classes of the head")


def keras_model(spec, args):
    """Loads a `.keras` file, or builds the variant `spec` ("B/16", "ViTB16", "R50+B/16")."""
    from keras_vit.models.builders import build_model

    if spec.endswith(".keras"):
        if args.weights or args.image_size or args.num_classes:
            raise ValueError(
                "--weights, --image-size and --num-classes go with a variant name, not a .keras file."
            )
        return build_model(spec)
    overrides = {"image_size": args.image_size, "num_classes": args.num_classes}
    overrides = {key: value for key, value in overrides.items() if value is not None}
    if args.weights is None:
        print(f"note: {spec} has random weights (no --weights given)", file=sys.stderr)
    return build_model(spec, weights=args.weights, **overrides)
