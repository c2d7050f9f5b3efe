"""`VisionTransformer`: the functional model every builder returns, holding its `ViTConfig`;
and reading the config of any model keras_vit may be handed."""

import keras

from keras_vit.layers import names
from keras_vit.models.config import ViTConfig
from keras_vit.models.configured import ConfiguredModel


@keras.saving.register_keras_serializable(package="keras_vit")
class VisionTransformer(ConfiguredModel):
    """A functional `keras.Model` that keeps the `ViTConfig` it was built from.

    Every keras_vit builder (`keras_vit.ViT`, `keras_vit.ViTHybrid`, the named
    variants, `keras_vit.from_checkpoint`) returns one, as keras-hub's
    `Backbone` keeps its arguments: what the rest of keras_vit needs to know
    about the model (its patch grid, the pixels per token, the prefix tokens,
    the kind and placement of its position embeddings, whether it takes any
    input size, its stem, pooling and head) is read from `vit_config` instead
    of being worked out again from its layers. The config is saved in and
    restored from `.keras` files (`safe_mode=True` works) on every backend.

    The graph is an ordinary functional one: layers keep their stable names
    (`model.get_layer("encoder_norm")`), and `keras.Model(model.input, ...)`
    builds views of it as for any functional model.

    Args:
        inputs: the model's input tensor, a `keras.Input`.
        outputs: its output tensor.
        name: str or None. The model's name.
        **kwargs: `vit_config`, required: the `keras_vit.models.ViTConfig`
            the graph was built from, or its `get_config()` dict (a keyword,
            so that Keras revives the class as a functional model); and
            other `keras.Model` arguments (`trainable`).

    Example:

    >>> model = keras_vit.ViT(image_size=32, patch_size=8, hidden_dim=16, num_layers=1,
    ...                       num_heads=2, mlp_dim=32, num_classes=3)
    >>> type(model).__name__, model.grid_size, model.num_prefix_tokens
    ('VisionTransformer', (4, 4), 1)
    >>> model.vit_config.hidden_dim
    16
    """

    CONFIG_KEYWORD = "vit_config"
    CONFIG_CLASS = ViTConfig

    @property
    def vit_config(self):
        """The `ViTConfig` this model was built from."""
        return self._architecture

    @property
    def image_size(self):
        """The `(height, width)` the model was built for (its position tables' grid
        times `patch_stride`); a dynamic-size model takes other sizes too."""
        return self._architecture.image_size

    @property
    def grid_size(self):
        """The `(rows, cols)` of the patch grid at `image_size`."""
        return self._architecture.grid_size

    @property
    def patch_stride(self):
        """Input pixels per patch token along each axis (the patch size, times the
        ResNet stem's stride in a hybrid)."""
        return self._architecture.patch_stride

    @property
    def num_prefix_tokens(self):
        """Tokens before the patches: 1 with a class token, 0 with `pooling="gap"`."""
        return self._architecture.num_prefix_tokens

    @property
    def position_embedding(self):
        """The kind of position embedding (`keras_vit.layers.POSITION_EMBEDDING_KINDS`)."""
        return self._architecture.position_embedding

    @property
    def position_embedding_placement(self):
        """Where learned position embeddings are added (`"stem"`, `"every_layer"`, ...)."""
        return self._architecture.position_embedding_placement

    @property
    def dynamic_image_size(self):
        """Whether the model takes any height and width `patch_stride` divides."""
        return self._architecture.dynamic_image_size

    @property
    def is_hybrid(self):
        """Whether the patches are cut from a ResNet stem's feature map."""
        return self._architecture.resnet_layers is not None

    @property
    def pooling(self):
        """`"token"` (the class token) or `"gap"` (the mean of the patch tokens)."""
        return self._architecture.pooling

    @property
    def include_top(self):
        """Whether the model ends in the classification head."""
        return self._architecture.include_top

    @property
    def patch_tokens(self):
        """The graph's tensor of patch embeddings as a sequence, `(batch, patches,
        hidden_dim)`: the `patch_tokens` layer's output."""
        return self.get_layer(names.PATCH_TOKENS).output

    @property
    def grid_input(self):
        """The graph's tensor that the position layers of a dynamic-size model read
        each call's grid off (the patch embedding's output on its grid); None for
        a fixed-size model."""
        if not self._architecture.dynamic_image_size:
            return None
        return self.get_layer(names.PATCH_EMBEDDING).output



def find_config(model):
    """The `ViTConfig` of a model keras_vit built, or None for any other model."""
    config = getattr(model, "vit_config", None)
    return config if isinstance(config, ViTConfig) else None


def config_of(model):
    """Returns the `ViTConfig` of a keras_vit model.

    Args:
        model: keras.Model. A `keras_vit.models.VisionTransformer`.

    Returns:
        A `ViTConfig`.

    Raises:
        ValueError: if `model` was not built by keras_vit.
    """
    config = find_config(model)
    if config is None:
        raise ValueError(
            "`model` must be built by keras_vit (a keras_vit.models.VisionTransformer, which keeps "
            f"its ViTConfig). Received: model.name={model.name!r} of type {type(model).__name__}"
        )
    return config


def input_size(model):
    """The `(height, width)` images `model` trains and evaluates at: a keras_vit
    ViT's configured `image_size` (a dynamic-size model's built size), or
    another model's static input size (e.g. a `ResNetV2`)."""
    config = find_config(model)
    if config is not None:
        return config.image_size
    height, width = model.input_shape[1:3]
    if height is None or width is None:
        raise ValueError(
            "`model` must take images of a fixed size to train and evaluate at. Received: "
            f"model.name={model.name!r} with input shape {model.input_shape}"
        )
    return (height, width)


def dynamic_patch_stride(model):
    """The pixels per patch token of a keras_vit model built with
    `dynamic_image_size=True`; None for a fixed-size model or one keras_vit
    did not build (the exporters take any `keras.Model` of images)."""
    config = find_config(model)
    return None if config is None else config.dynamic_patch_stride
