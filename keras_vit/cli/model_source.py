"""The MODEL argument of `export` and `predict`: a `.keras` file or a variant name."""

import os
import sys


def add_model_arguments(parser):
    """Adds `--weights`, `--image-size` and `--num-classes`, used with a variant name."""
    parser.add_argument("--weights", help="with a variant name: published weights' name or a checkpoint path")
    parser.add_argument("--image-size", type=int, help="with a variant name: input resolution")
    parser.add_argument("--num-classes", type=int, help="with a variant name: classes of the head")


def keras_model(spec, args):
    """Loads a `.keras` file, or builds the variant `spec` ("B/16" or "ViTB16")."""
    import keras

    from keras_vit.models.variants import BUILDERS

    if spec.endswith(".keras"):
        if not os.path.isfile(spec):
            raise ValueError(f"No such model file: {spec}")
        if args.weights or args.image_size or args.num_classes:
            raise ValueError(
                "--weights, --image-size and --num-classes go with a variant name, not a .keras file."
            )
        return keras.saving.load_model(spec)
    builders = {**BUILDERS, **{builder.__name__: builder for builder in BUILDERS.values()}}
    if spec not in builders:
        raise ValueError(
            f"MODEL must be a .keras file or a variant ({', '.join(BUILDERS)}, or "
            f"{', '.join(b.__name__ for b in BUILDERS.values())}). Received: {spec}"
        )
    overrides = {"image_size": args.image_size, "num_classes": args.num_classes}
    overrides = {key: value for key, value in overrides.items() if value is not None}
    if args.weights is None:
        print(f"note: {spec} has random weights (no --weights given)", file=sys.stderr)
    return builders[spec](weights=args.weights, **overrides)
