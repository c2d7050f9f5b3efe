"""The model card (`README.md`) `keras-vit push` writes: what keras_vit knows of a model.

Everything comes from the model and its run folder: the architecture and
parameter count from `model.vit_config`, the starting weights, data, recipe,
scores and command from `run.json` (`keras_vit.training.run_record`), the
classes from `classes.txt`. What is not known is left out, never guessed.
"""

from keras_vit import variants
from keras_vit.weights import registry

_ARCHITECTURE_FIELDS = ("patch_size", "hidden_dim", "num_layers", "num_heads", "mlp_dim")
_TRAINING_FIELDS = (
    ("data", "data"), ("epochs", "epochs"), ("batch_size", "batch size"), ("recipe", "recipe"),
    ("learning_rate", "peak learning rate"), ("weight_decay", "weight decay"), ("label_smoothing", "label smoothing"),
    ("precision", "precision"), ("seed", "seed"), ("lora_rank", "LoRA rank"), ("train_fraction", "training fraction"),
)


def model_card(model, handle, record=None, class_names=None, format="keras"):
    """The card's Markdown text.

    Args:
        model: a keras_vit `VisionTransformer`.
        handle: str. Where it is published (`hf://USER/REPO`, `kaggle://...`).
        record: dict or None. The run's `run.json`.
        class_names: list of str or None. The head's classes, in order.
        format: str. `"keras"` (a `.keras` file) or `"keras_hub"` (a preset).

    Returns:
        str.
    """
    config = model.vit_config
    record = record or {}
    run = record.get("config") or {}
    licence = _licence(config, run.get("weights"))
    sections = [
        _front_matter(licence, format),
        f"# {handle.rstrip('/').rsplit('/', 1)[-1]}\n\nA Vision Transformer (Dosovitskiy et al., ICLR 2021) "
        "published with keras_vit (`pip install keras-vit-zoo`).",
        _architecture(model, config),
        _origin(config, run, licence),
        _training(run, record),
        _results(record),
        _preprocessing(config),
        _classes(class_names),
        _usage(handle, format),
        _command(record),
    ]
    return "\n\n".join(section for section in sections if section) + "\n"


def _front_matter(licence, format):
    lines = ["---", "library_name: keras-hub" if format == "keras_hub" else "library_name: keras",
             "pipeline_tag: image-classification", "tags:", "- keras-vit", "- vision-transformer"]
    if licence:
        lines.append(f"license: {licence.lower()}")
    return "\n".join(lines + ["---"])


def _variant(config):
    """The variant table's name for `config`'s size, or None for a custom size."""
    return variants.find({f: getattr(config, f) for f in variants.size_fields(config.resnet_layers)})


def _architecture(model, config):
    variant = _variant(config)
    rows = [("variant", variants.title(variant) if variant else "custom size")]
    rows += [(field.replace("_", " "), getattr(config, field)) for field in _ARCHITECTURE_FIELDS]
    rows += [("image size", "x".join(map(str, _image_size(config)))),
             ("classes", config.num_classes if config.include_top else "none (features)"),
             ("parameters", f"{model.count_params():,}")]
    return "## Architecture\n\n" + _table(rows)


def _image_size(config):
    size = config.image_size
    return (size, size) if isinstance(size, int) else tuple(size)


def _origin(config, run, licence):
    weights = run.get("weights")
    if not weights:
        return "## Starting weights\n\nTrained from a random initialisation." if run else ""
    entry = _entry(config, weights)
    where = f"`{weights}`"
    if entry is not None:
        where += f" ({entry.source}; {entry.url})"
    text = f"## Starting weights\n\nFine-tuned from {where}."
    return text + (f" Their licence: {licence}." if licence else "")


def _entry(config, weights):
    return registry.REGISTRY.get((_variant(config), weights))


def _licence(config, weights):
    entry = _entry(config, weights) if weights else None
    return entry.licence if entry is not None else None


def _training(run, record):
    if not run:
        return ""
    rows = [(label, run[key]) for key, label in _TRAINING_FIELDS if run.get(key) is not None]
    if record.get("epochs_run") is not None:
        rows.append(("epochs run", record["epochs_run"]))
    return "## Training\n\n" + _table(rows)


def _results(record):
    if record.get("test_accuracy") is None:
        return ""
    text = (f"## Results\n\nTest accuracy {100 * record['test_accuracy']:.2f}% "
            f"(test loss {record['test_loss']:.4f}) on the test split of `{(record.get('config') or {}).get('data')}`.")
    few_shot = record.get("few_shot")
    if few_shot:
        rows = [(f"{shots}-shot", f"{100 * v['mean']:.2f}% ± {100 * v['std']:.2f}") for shots, v in few_shot.items()]
        text += "\n\nFew-shot linear accuracy of the features (mean ± std over seeds):\n\n" + _table(rows, ("shots", "accuracy"))
    return text


def _preprocessing(config):
    mean, std = config.normalization
    if config.include_preprocessing:
        return (f"## Preprocessing\n\nThe model takes RGB pixels in 0..255 at {'x'.join(map(str, _image_size(config)))} "
                f"and normalises them itself (mean {list(mean)}, std {list(std)}, on 0..1 pixels).")
    return (f"## Preprocessing\n\nThe model takes normalised pixels: `keras_vit.preprocess_input(images, "
            f"{list(mean)}, {list(std)})` maps RGB 0..255 to them.")


def _classes(class_names):
    if not class_names:
        return ""
    shown = ", ".join(class_names[:10]) + (", ..." if len(class_names) > 10 else "")
    return f"## Classes\n\n{len(class_names)} classes, in the head's order in `classes.txt`: {shown}."


def _usage(handle, format):
    if format == "keras_hub":
        return ("## Use\n\n```python\nimport keras_hub\n\n"
                f"classifier = keras_hub.models.ImageClassifier.from_preset(\"{handle}\")\n```\n\n"
                f"or with keras_vit: `keras_vit.from_checkpoint(\"{handle}\")`.")
    return ("## Use\n\n```python\nimport keras_vit\n\n"
            f"model = keras_vit.models.build_model(\"{handle}\")\n```\n\n"
            f"or from a shell: `keras-vit predict image.jpg --model {handle}`. For keras-hub, publish with "
            "`keras-vit push ... --format keras_hub`.")


def _command(record):
    if not record.get("command"):
        return ""
    return f"## How it was made\n\n```sh\n{record['command']}\n```"


def _table(rows, header=("", "")):
    lines = [f"| {header[0]} | {header[1]} |", "|---|---|"]
    return "\n".join(lines + [f"| {key} | {value} |" for key, value in rows])
