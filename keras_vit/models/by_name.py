"""Models by name, for command lines and configs: "B/16", "ViTB16", or a saved file."""

import os

import keras


def builders():
    """Every named builder, by variant (`"B/16"`, `"R50+B/16"`) and by function name (`"ViTB16"`)."""
    from keras_vit.models.hybrid import HYBRID_BUILDERS
    from keras_vit.models.variants import BUILDERS

    table = {}
    for variant, builder in {**BUILDERS, **HYBRID_BUILDERS}.items():
        table[variant] = builder
        table[builder.__name__] = builder
    return table


def build_model(name, weights=None, **kwargs):
    """Builds a model from a variant or builder name, or loads a `.keras` file.

    Args:
        name: str. A variant (`"B/16"`), a builder's name (`"ViTB16"`, any
            case), or the path of a `.keras` file (then `weights` and `kwargs`
            must be empty).
        weights: None, a registry name or a checkpoint path, as every builder
            takes. Defaults to None.
        **kwargs: Builder arguments (`image_size`, `num_classes`, ...).

    Returns:
        A `keras.Model`.

    Example:

    >>> model = build_model("Ti/16", image_size=32, num_classes=3)
    >>> model.name, model.output_shape
    ('vit_ti16', (None, 3))
    """
    if isinstance(name, str) and name.endswith(".keras"):
        if weights is not None or kwargs:
            raise ValueError(
                f"A saved model ({name}) is loaded as it is; builder arguments apply to "
                f"names only. Received: weights={weights!r}, {sorted(kwargs)}"
            )
        if not os.path.isfile(name):
            raise ValueError(f"Model file {name!r} does not exist.")
        return keras.saving.load_model(name)
    table = builders()
    folded = {key.lower(): builder for key, builder in table.items()}
    builder = folded.get(str(name).lower())
    if builder is None:
        raise ValueError(
            f"`model` must be a `.keras` file or one of {', '.join(sorted(table))}. "
            f"Received: model={name!r}"
        )
    return builder(weights=weights, **kwargs)
