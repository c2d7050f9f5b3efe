"""BiT's ResNetV2 as data: `ResNetV2Config`, and `ResNetV2Model`, the functional model that holds it."""

import dataclasses
import numbers

import keras

from keras_vit.models.config import check_classifier_activation
from keras_vit.models.configured import ConfiguredModel, FrozenConfig
from keras_vit.utils.validation import check_bool, check_grid, check_positive_int

NUM_STAGES = 4


@dataclasses.dataclass(frozen=True)
class ResNetV2Config(FrozenConfig):
    """Everything that fixes a BiT ResNetV2's graph and weight shapes.

    Every field is validated on construction, so a bad argument fails before
    any layer is built; `get_config()` returns plain JSON. `image_size` None
    takes any input size.
    """

    layers: tuple = (3, 4, 6, 3)
    width: float = 1
    image_size: tuple | None = (224, 224)
    include_top: bool = True
    num_classes: int = 1000
    classifier_activation: str | None = None
    include_preprocessing: bool = True
    input_channels: int = 3

    def __post_init__(self):
        object.__setattr__(self, "layers", check_layers(self.layers))
        object.__setattr__(self, "width", check_width(self.width))
        if self.image_size is not None:
            object.__setattr__(self, "image_size", check_grid("image_size", self.image_size))
        check_bool("include_top", self.include_top)
        check_bool("include_preprocessing", self.include_preprocessing)
        check_positive_int("input_channels", self.input_channels)
        check_positive_int("num_classes", self.num_classes)
        check_classifier_activation(self.classifier_activation)

    @property
    def root_width(self):
        """Channels of the root convolution, `64 * width`."""
        return int(64 * self.width)

    def get_config(self):
        config = dataclasses.asdict(self)
        config["layers"] = list(self.layers)
        config["image_size"] = None if self.image_size is None else list(self.image_size)
        return config


@keras.saving.register_keras_serializable(package="keras_vit")
class ResNetV2Model(ConfiguredModel):
    """A functional `keras.Model` that keeps the `ResNetV2Config` it was built from.

    What `keras_vit.ResNetV2` and the named BiT builders return, as every ViT
    builder returns a `VisionTransformer`: the config is saved in and restored
    from `.keras` files (`safe_mode=True` works) on every backend.

    Args:
        inputs: the model's input tensor, a `keras.Input`.
        outputs: its output tensor.
        name: str or None. The model's name.
        **kwargs: `resnet_config`, required: the `ResNetV2Config` the graph
            was built from, or its `get_config()` dict (a keyword, so that
            Keras revives the class as a functional model); and other
            `keras.Model` arguments (`trainable`).
    """

    CONFIG_KEYWORD = "resnet_config"
    CONFIG_CLASS = ResNetV2Config

    @property
    def resnet_config(self):
        """The `ResNetV2Config` this model was built from."""
        return self._architecture


def check_layers(layers):
    """Returns `layers` as a tuple of 4 positive ints, else raises a `ValueError`."""
    if (
        not isinstance(layers, (tuple, list))
        or len(layers) != NUM_STAGES
        or not all(isinstance(n, numbers.Integral) and not isinstance(n, bool) and n > 0 for n in layers)
    ):
        raise ValueError(
            f"`layers` must be a tuple of {NUM_STAGES} positive ints, the bottleneck units of "
            f"BiT's four stages, e.g. (3, 4, 6, 3) for ResNet-50. Received: layers={layers!r}"
        )
    return tuple(int(n) for n in layers)


def check_width(width):
    """Returns `width` if it is a positive multiple of 0.5, else raises a `ValueError`."""
    if isinstance(width, bool) or not isinstance(width, numbers.Real) or width <= 0 or (64 * width) % 32:
        raise ValueError(
            "`width` must be a positive multiple of 0.5 (BiT uses 1, 2, 3 and 4), so that the "
            f"root's 64 * width channels split into 32 groups. Received: width={width!r}"
        )
    return int(width) if float(width).is_integer() else float(width)
