"""`keras-vit inspect`: the paper's Figures 6 and 7 for a model and an image, as PNG files."""

import os
import sys

from keras_vit.cli.model_source import add_model_arguments, keras_model
from keras_vit.utils.folders import removed_if_unwritten

FIGURES = ("rollout.png", "attention_distance.png", "embedding_filters.png")


HELP = "attention maps and the paper's Figure 7 for a model and an image"


def add_arguments(parser):
    parser.add_argument("image", help="an image file PIL can read; resized to the model's input")
    add_model_arguments(parser)
    parser.add_argument("--out", default=".", help="folder for the PNG files; created if needed")
    parser.set_defaults(run=run)


def run(args):
    from keras_vit import inspect
    from keras_vit.cli.images import open_images, to_batch

    picture = open_images([args.image])[1]  # a missing or unreadable image is named before the model loads
    model = keras_model(args)
    image = to_batch(picture, inspect.token_grid(model).image_size)[0]
    print(f"keras-vit inspect: {model.name} on {args.image}, figures into {args.out}", file=sys.stderr)
    with removed_if_unwritten(args.out):
        _draw(inspect, model, image, args.out)


def _draw(inspect, model, image, out):
    attention = inspect.attention_weights(model, _model_input(model, image)[None])
    grid = inspect.token_grid(model)
    os.makedirs(out, exist_ok=True)
    paths = dict(zip(FIGURES, (os.path.join(out, name) for name in FIGURES)))

    heads = inspect.last_layer_map(attention, grid)[0]
    maps = inspect.upsample([inspect.rollout_map(attention, grid)[0], *heads], grid.image_size)
    titles = ["rollout"] + [f"last layer, head {h + 1}" for h in range(len(heads))]
    inspect.plot_attention(image, maps, titles=titles, path=paths["rollout.png"])
    distances = [inspect.mean_distance(weights, grid)[0] for weights in attention]
    inspect.plot_attention_distance(distances, path=paths["attention_distance.png"])
    written = _plot_positions(inspect, model, _model_input(model, image)[None], out)
    kernel = inspect.filter_kernel(model)
    count = min(28, kernel.shape[-1], kernel[..., 0].size)
    filters = inspect.principal_components(kernel, count)
    inspect.plot_embedding_filters(filters, path=paths["embedding_filters.png"])
    for path in [*paths.values(), written]:
        if path is not None:
            print(f"wrote {path}")


def _plot_positions(inspect, model, images, folder):
    """Writes the position figure: the embedding similarity, or for relative
    attention its bias by offset. Returns its path; None if the model has neither."""
    from keras_vit.models import config_of

    if config_of(model).position_embedding == "relative":
        path = os.path.join(folder, "relative_position_bias.png")
        inspect.plot_relative_position_bias(*inspect.relative_position_bias(model, images), path=path)
        return path
    try:
        similarity = inspect.position_embedding_similarity(model)
    except ValueError as error:
        print(f"skipped position_embedding_similarity.png: {error}")
        return None
    path = os.path.join(folder, "position_embedding_similarity.png")
    inspect.plot_position_embedding_similarity(similarity, path=path)
    return path


def _model_input(model, image):
    """`image` as the model takes it: [0, 255] unless built without preprocessing."""
    from keras_vit.preprocessing import includes_preprocessing, preprocess_input

    return image if includes_preprocessing(model) else preprocess_input(image)
