"""Architecture of a Vision Transformer as data: `ViTConfig`, and the cost of a forward pass."""

import dataclasses
import math
import numbers

import keras

from keras_vit.layers.activations import ACTIVATIONS, expansion, upgrade_config
from keras_vit.layers.pooling import POOLINGS
from keras_vit.layers.position_embedding import (
    LEARNED_KINDS,
    POSITION_EMBEDDING_KINDS,
    POSITION_EMBEDDING_PLACEMENTS,
    check_sincos_width,
)
from keras_vit.models.configured import FrozenConfig
from keras_vit.utils.resample import METHODS
from keras_vit.utils.validation import (
    check_bool,
    check_choice,
    check_grid,
    check_heads,
    check_positive_int,
    check_rate,
)
from keras_vit.variants import stem_stride


@dataclasses.dataclass(frozen=True)
class ViTConfig(FrozenConfig):
    """Everything that fixes a Vision Transformer's graph and weight shapes.

    Every field is validated on construction, so a bad argument fails before
    any layer is built. `get_config()` returns plain JSON. `resnet_layers` is
    None for the plain ViT and the units per ResNet stage for a hybrid, whose
    patches are cut from the stem's feature map (paper Section 3.1). `remat`
    changes no weight and no output, only what the backward pass keeps.

    The fields after `remat` are the options of the paper's descendants
    (DeiT, DINOv2, SigLIP, CLIP); their defaults give the paper's ViT.
    `pixel_mean` and `pixel_std` None stand for 0.5 on every channel.
    """

    image_size: tuple = (224, 224)
    patch_size: int = 16
    hidden_dim: int = 768
    num_layers: int = 12
    num_heads: int = 12
    mlp_dim: int = 3072
    input_channels: int = 3
    include_top: bool = True
    num_classes: int = 1000
    pooling: str = "token"
    representation_size: int | None = None
    classifier_activation: str | None = None
    include_preprocessing: bool = True
    dropout_rate: float = 0.0
    attention_dropout_rate: float = 0.0
    stochastic_depth_rate: float = 0.0
    activation: str = "gelu_tanh"
    layer_norm_epsilon: float = 1e-6
    position_embedding: str = "learned_1d"
    position_embedding_placement: str = "stem"
    resnet_layers: tuple | None = None
    resnet_width: float = 1
    dynamic_image_size: bool = False
    resample_method: str = "zoom"
    remat: bool = False
    class_token: bool | None = None
    distillation_token: bool = False
    num_registers: int = 0
    layer_scale_init: float | None = None
    pre_norm: bool = False
    qkv_bias: bool = True
    patch_bias: bool = True
    projection_dim: int | None = None
    pixel_mean: tuple | None = None
    pixel_std: tuple | None = None

    def __post_init__(self):
        image_size = check_grid("image_size", self.image_size)
        object.__setattr__(self, "image_size", image_size)
        self._check_stem()
        for name in ("patch_size", "hidden_dim", "num_layers", "num_heads", "mlp_dim"):
            check_positive_int(name, getattr(self, name))
        check_positive_int("input_channels", self.input_channels)
        check_positive_int("num_classes", self.num_classes)
        if self.representation_size is not None:
            check_positive_int("representation_size", self.representation_size)
        check_choice("pooling", self.pooling, POOLINGS)
        check_choice("resample_method", self.resample_method, METHODS)
        check_bool("dynamic_image_size", self.dynamic_image_size)
        check_bool("remat", self.remat)
        self._check_position_embedding()
        check_rate("dropout_rate", self.dropout_rate)
        check_rate("attention_dropout_rate", self.attention_dropout_rate)
        check_rate("stochastic_depth_rate", self.stochastic_depth_rate)
        self._check_divisibility()
        check_classifier_activation(self.classifier_activation)
        check_choice("activation", self.activation, ACTIVATIONS)
        self._check_tokens()
        self._check_family()
        for name in ("pixel_mean", "pixel_std"):
            object.__setattr__(self, name, check_channel_values(name, getattr(self, name), self.input_channels))

    def _check_tokens(self):
        if self.class_token is None:
            object.__setattr__(self, "class_token", self.pooling == "token")
        check_bool("class_token", self.class_token)
        check_bool("distillation_token", self.distillation_token)
        if self.pooling == "token" and not self.class_token:
            raise ValueError(
                "pooling='token' reads the class token: `class_token` must be True (or None). "
                "Received: class_token=False"
            )
        if self.distillation_token and self.pooling != "token":
            raise ValueError(
                "`distillation_token=True` (DeiT) pairs a second head on the distillation token with "
                f"the head on the class token: `pooling` must be 'token'. Received: pooling={self.pooling!r}"
            )
        registers = self.num_registers
        if isinstance(registers, bool) or not isinstance(registers, numbers.Integral) or registers < 0:
            raise ValueError(
                "`num_registers` must be an int >= 0, the register tokens after the class token "
                f"(4 for DINOv2 with registers). Received: num_registers={self.num_registers!r}"
            )
        if self.num_registers and self.position_embedding_placement != "stem":
            raise ValueError(
                "Register tokens join the sequence after the position embedding: "
                "`position_embedding_placement` must be 'stem' with `num_registers`. "
                f"Received: position_embedding_placement={self.position_embedding_placement!r}"
            )

    def _check_family(self):
        init = self.layer_scale_init
        if init is not None and (isinstance(init, bool) or not isinstance(init, numbers.Real) or not init > 0):
            raise ValueError(
                "`layer_scale_init` must be None (no LayerScale) or a positive number, the initial "
                f"scale of each channel (1e-5 in DINOv2). Received: layer_scale_init={init!r}"
            )
        for name in ("pre_norm", "qkv_bias", "patch_bias"):
            check_bool(name, getattr(self, name))
        if self.projection_dim is not None:
            check_positive_int("projection_dim", self.projection_dim)
        if self.projection_dim and self.representation_size:
            raise ValueError(
                "`projection_dim` (CLIP's linear projection) and `representation_size` (a tanh "
                "pre-logits layer) are two heads of two families: set one. Received: "
                f"representation_size={self.representation_size}, projection_dim={self.projection_dim}"
            )
        if self.distillation_token and (self.representation_size or self.projection_dim):
            raise ValueError(
                "A model with `distillation_token=True` averages two heads on the tokens themselves: "
                "it takes no `representation_size` or `projection_dim`. Received: "
                f"representation_size={self.representation_size}, projection_dim={self.projection_dim}"
            )

    def _check_position_embedding(self):
        kind, placement = self.position_embedding, self.position_embedding_placement
        check_choice("position_embedding", kind, POSITION_EMBEDDING_KINDS)
        check_choice("position_embedding_placement", placement, POSITION_EMBEDDING_PLACEMENTS)
        if kind == "sincos_2d":
            check_sincos_width("hidden_dim", self.hidden_dim)
            if placement != "stem":
                raise ValueError(
                    "position_embedding='sincos_2d' is big_vision's fixed embedding, added once "
                    "after the patch embedding: `position_embedding_placement` must be 'stem'. "
                    f"Received: position_embedding_placement={placement!r}"
                )
        elif kind not in LEARNED_KINDS and placement != "stem":
            raise ValueError(
                f"`position_embedding_placement` applies to the learned 1D and 2D "
                f"embeddings only: position_embedding={kind!r} adds nothing to the tokens "
                f"(the paper's N/A cells, Appendix D.4). Leave it at 'stem'. "
                f"Received: position_embedding_placement={placement!r}"
            )
        if kind == "learned_2d" and self.hidden_dim % 2:
            raise ValueError(
                "position_embedding='learned_2d' gives half of each token to the row and "
                f"half to the column embedding: `hidden_dim` must be even. "
                f"Received: hidden_dim={self.hidden_dim}"
            )

    def _check_stem(self):
        if self.resnet_layers is None:
            return
        layers = self.resnet_layers
        if not isinstance(layers, (tuple, list)) or not all(
            isinstance(depth, numbers.Integral) and not isinstance(depth, bool) and depth > 0
            for depth in layers
        ):
            raise ValueError(
                "`resnet_layers` must be None or a tuple of positive ints, the units "
                f"of each ResNet stage, e.g. (3, 4, 9). Received: resnet_layers={layers!r}"
            )
        object.__setattr__(self, "resnet_layers", tuple(int(depth) for depth in layers))
        width = self.resnet_width
        if isinstance(width, bool) or not isinstance(width, numbers.Real) or width <= 0 or (64 * width) % 32:
            raise ValueError(
                "`resnet_width` must be a positive multiple of 0.5, so that the stem's "
                f"64 * resnet_width channels split into 32 groups. Received: resnet_width={width!r}"
            )

    def _check_divisibility(self):
        for axis, size, features in zip(("height", "width"), self.image_size, self.feature_size):
            if features % self.patch_size == 0:
                continue
            if self.resnet_layers is None:
                raise ValueError(
                    f"`image_size` {axis} must be divisible by patch_size="
                    f"{self.patch_size}. Received: image_size={self.image_size}"
                )
            raise ValueError(
                f"`image_size` {axis} must give a feature map divisible by patch_size="
                f"{self.patch_size}: the ResNet stem (stride {self.stem_stride}) maps "
                f"{size} to {features}. Received: image_size={self.image_size}"
            )
        check_heads(self.hidden_dim, self.num_heads)

    @property
    def patch_stride(self):
        """Input pixels per patch token along each axis: the patch size times
        the stem's stride. A dynamic-size model takes sizes it divides."""
        return self.patch_size * self.stem_stride

    @property
    def dynamic_patch_stride(self):
        """`patch_stride` for a model built with `dynamic_image_size=True`, which
        takes any image size it divides; None for a fixed size."""
        return self.patch_stride if self.dynamic_image_size else None

    @property
    def stem_width(self):
        """Channels of the ResNet root, `64 * resnet_width` as in the original."""
        return int(64 * self.resnet_width)

    @property
    def stem_stride(self):
        """How much the ResNet stem downsamples; 1 without a stem."""
        return stem_stride(self.resnet_layers)

    @property
    def feature_size(self):
        """The `(rows, cols)` the patches are cut from: the image, or the stem's output.

        Every stride-2 step of the stem rounds up, as SAME padding does.
        """
        size = self.image_size
        for _ in range(self.stem_stride.bit_length() - 1):  # log2(stride) halvings
            size = tuple(math.ceil(s / 2) for s in size)
        return size

    @property
    def feature_channels(self):
        """Channels the patch embedding sees: the image's, or the stem's output."""
        if self.resnet_layers is None:
            return self.input_channels
        if not self.resnet_layers:
            return self.stem_width
        return 4 * self.stem_width * 2 ** (len(self.resnet_layers) - 1)

    @property
    def grid_size(self):
        """The `(rows, cols)` of the patch grid."""
        return tuple(size // self.patch_size for size in self.feature_size)

    @property
    def num_tokens(self):
        """The length of the token sequence: prefix tokens and patches."""
        return self.num_prefix_tokens + self.grid_size[0] * self.grid_size[1]

    @property
    def num_prefix_tokens(self):
        """Tokens before the patches: the class and distillation tokens and the registers."""
        return self.num_position_prefix_tokens + self.num_registers

    @property
    def num_position_prefix_tokens(self):
        """Prefix tokens that get a position embedding: the class and distillation
        tokens (registers join after it)."""
        return int(self.class_token) + int(self.distillation_token)

    @property
    def normalization(self):
        """The `(mean, std)` per channel of pixels in [0, 1] that the model's
        weights expect: `pixel_mean` and `pixel_std`, 0.5 where None."""
        default = (0.5,) * self.input_channels
        return self.pixel_mean or default, self.pixel_std or default

    def stochastic_depth(self, index):
        """Block `index`'s drop rate: 0 for the first block, rising linearly
        to `stochastic_depth_rate` for the last (as in DeiT and timm)."""
        if self.num_layers == 1:
            return self.stochastic_depth_rate
        return self.stochastic_depth_rate * index / (self.num_layers - 1)

    def get_config(self):
        config = dataclasses.asdict(self)
        config["image_size"] = list(self.image_size)
        for name in ("resnet_layers", "pixel_mean", "pixel_std"):
            if config[name] is not None:
                config[name] = list(config[name])
        return config

    @classmethod
    def from_config(cls, config):
        return super().from_config(upgrade_config(config))


def check_channel_values(name, values, input_channels):
    """`values` as a tuple of `input_channels` floats (positive for `pixel_std`), or None."""
    if values is None:
        return None
    if not isinstance(values, (tuple, list)) or len(values) != input_channels or not all(
        isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values
    ):
        raise ValueError(
            f"`{name}` must be None or {input_channels} numbers, one per input channel, for pixels "
            f"in [0, 1] (ImageNet's mean is (0.485, 0.456, 0.406)). Received: {name}={values!r}"
        )
    if name == "pixel_std" and not all(v > 0 for v in values):
        raise ValueError(f"`pixel_std` must be positive on every channel. Received: pixel_std={values!r}")
    return tuple(float(v) for v in values)


def check_classifier_activation(activation):
    """Raises a `ValueError` unless `activation` is None or a Keras activation's name."""
    if activation is None:
        return
    if not isinstance(activation, str):
        raise ValueError(
            "`classifier_activation` must be None or the name of a Keras "
            f"activation. Received: classifier_activation={activation!r}"
        )
    try:
        keras.activations.get(activation)
    except ValueError:
        raise ValueError(
            "`classifier_activation` must be None or the name of a Keras "
            f"activation such as 'softmax'. Received: classifier_activation={activation!r}"
        ) from None


def macs(config):
    """Multiply-accumulates of one image's forward pass, counting matmuls and convolutions.

    The formula for the model `config` describes, at its `image_size`, with
    nothing built: what `keras_vit.models.count_flops` counts on a built
    model, halved (`count_flops(model) == 2 * macs(model.vit_config)`; see it
    for what is and is not counted).

    Args:
        config: `ViTConfig`.

    Returns:
        int.
    """
    rows, cols = config.grid_size
    patches = rows * cols
    tokens = patches + config.num_prefix_tokens
    dim, mlp = config.hidden_dim, config.mlp_dim
    mlp_macs = (expansion(config.activation) + 1) * dim * mlp  # per token
    embedding = patches * config.patch_size**2 * config.feature_channels * dim
    block = 4 * tokens * dim * dim + 2 * tokens * tokens * dim + tokens * mlp_macs
    if config.position_embedding == "relative":
        block += tokens * (2 * tokens - 1) * dim  # the queries against every offset
    pooling = 0
    if config.pooling == "map":  # one query: its projections, the products, the MLP
        pooling = 2 * dim * dim + 2 * tokens * dim * dim + 2 * tokens * dim + mlp_macs
    # The pre-logits layer and the projection exist with or without the head.
    width = config.projection_dim or config.representation_size or dim
    head = dim * config.representation_size if config.representation_size else 0
    head += dim * config.projection_dim if config.projection_dim else 0
    if config.include_top:
        head += width * config.num_classes * (2 if config.distillation_token else 1)
    return stem_macs(config) + embedding + config.num_layers * block + pooling + head


def stem_macs(config):
    """Multiply-accumulates of the ResNet stem's convolutions; 0 without a stem."""
    if config.resnet_layers is None:
        return 0
    rows, cols = (math.ceil(size / 2) for size in config.image_size)
    channels = config.stem_width
    total = rows * cols * 7 * 7 * config.input_channels * channels
    rows, cols = math.ceil(rows / 2), math.ceil(cols / 2)
    for index, num_units in enumerate(config.resnet_layers):
        filters = config.stem_width * 2**index
        for unit in range(num_units):
            stride = 2 if index and not unit else 1
            out_rows, out_cols = math.ceil(rows / stride), math.ceil(cols / stride)
            total += rows * cols * channels * filters
            total += out_rows * out_cols * filters * (9 * filters + 4 * filters)
            if channels != 4 * filters or stride != 1:
                total += out_rows * out_cols * channels * 4 * filters
            rows, cols, channels = out_rows, out_cols, 4 * filters
    return total
