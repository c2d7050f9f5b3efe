"""`keras-vit demo`: train a small ViT on the bundled digits, offline, in a few minutes."""

from keras_vit.cli.common import (
    add_training_flags,
    config_from_flags,
    precision_note,
    report,
    run_fitting_batch,
    starter,
)
from keras_vit.cli.model_source import image_size_hint

# A 4-block ViT on 16x16 digits cut into 4x4 patches (16 tokens), trained from
# scratch with AdamW, cosine decay and label smoothing. Random crops hurt on
# 8x8 scans (they cut strokes off), so there is no augmentation.
DEMO = dict(
    model="ViT", image_size=16, patch_size=4, hidden_dim=64, num_layers=4, num_heads=4, mlp_dim=128,
    epochs=40, recipe="pretrain", learning_rate=3e-3, weight_decay=0.05, decay="cosine",
    label_smoothing=0.1, no_crop=True, no_flip=True, crop_fraction=1.0, overwrite=True,
)
SHOWN = 6
WIDTH = 12


HELP = "train a small ViT on the bundled digits (offline, a few minutes on 2 CPU cores)"
DESCRIPTION = (
    "Trains a small ViT from scratch on scikit-learn's handwritten digits, prints its test accuracy, "
    "saves it and classifies a few test images. Every `keras-vit train` flag applies; the defaults "
    "are the demo's, and --seed makes a run reproducible."
)


def add_arguments(demo):
    demo.add_argument("--model", help="as for train; defaults to the demo's small ViT")
    demo.add_argument("--out", default="keras-vit-demo", help="output directory")
    add_training_flags(demo, defaults=DEMO)
    demo.set_defaults(run=run)


def run(args):
    from keras_vit.training.run import train

    config = config_from_flags(args)
    precision_note(config.precision)
    with image_size_hint(args, "trains at", "the training images are resized to it"):
        result = run_fitting_batch(lambda fitted: train(fitted, on_start=starter("demo")), config, args, "demo")
    report(result)
    _show_predictions(result.model, args)


def _show_predictions(model, args):
    from keras_vit.cli.predict import probabilities
    from keras_vit.data.digits import CLASS_NAMES, load_digits

    images, labels = load_digits(image_size=model.input_shape[1], seed=args.seed)["test"]
    predicted = probabilities(model.predict(images[:SHOWN].astype("float32"), verbose=0)).argmax(-1)
    print("A few test digits:")
    print(*_ascii(images[:SHOWN]), sep="\n")
    pairs = (f"{CLASS_NAMES[t]} -> {CLASS_NAMES[p]}".ljust(WIDTH) for t, p in zip(labels[:SHOWN], predicted))
    print("  ".join(pairs))
    print(f"(true -> predicted; {int((predicted == labels[:SHOWN]).sum())} of {SHOWN} right)")


def _ascii(images):
    """Images side by side as rows of characters, darkest ink first."""
    shades = " .:-=+*#%@"
    step = max(1, images.shape[1] // 8)
    small = images[:, ::step, ::step, 0].astype("float32") / 256 * len(shades)
    return [
        "  ".join(("".join(shades[int(v)] for v in image[row])).ljust(WIDTH) for image in small)
        for row in range(small.shape[1])
    ]
