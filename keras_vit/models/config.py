"""Architecture of a Vision Transformer as data, and the paper's variant table."""

import dataclasses

import keras

from keras_vit.layers.position_embedding import POSITION_EMBEDDINGS
from keras_vit.layers.validation import (
    check_choice,
    check_grid,
    check_positive_int,
    check_rate,
)

POOLINGS = ("token", "gap")


@dataclasses.dataclass(frozen=True)
class Variant:
    """The size of a Vision Transformer (paper Table 1)."""

    patch_size: int
    hidden_dim: int
    num_layers: int
    num_heads: int
    mlp_dim: int


# The fields that fix a model's size; a variant is one value of each.
SIZE_FIELDS = tuple(field.name for field in dataclasses.fields(Variant))

# Paper Table 1 for B, L and H; Ti and S as in the AugReg checkpoints
# (Steiner et al., "How to train your ViT?", 2021).
VARIANTS = {
    "Ti/16": Variant(16, 192, 12, 3, 768),
    "S/16": Variant(16, 384, 12, 6, 1536),
    "S/32": Variant(32, 384, 12, 6, 1536),
    "B/16": Variant(16, 768, 12, 12, 3072),
    "B/32": Variant(32, 768, 12, 12, 3072),
    "L/16": Variant(16, 1024, 24, 16, 4096),
    "L/32": Variant(32, 1024, 24, 16, 4096),
    "H/14": Variant(14, 1280, 32, 16, 5120),
}


@dataclasses.dataclass(frozen=True)
class ViTConfig:
    """Everything that fixes a Vision Transformer's graph and weight shapes.

    Every field is validated on construction, so a bad argument fails before
    any layer is built. `get_config()` returns plain JSON.
    """

    image_size: tuple = (224, 224)
    patch_size: int = 16
    hidden_dim: int = 768
    num_layers: int = 12
    num_heads: int = 12
    mlp_dim: int = 3072
    num_channels: int = 3
    include_top: bool = True
    num_classes: int = 1000
    pooling: str = "token"
    representation_size: int | None = None
    classifier_activation: str | None = None
    include_preprocessing: bool = True
    dropout_rate: float = 0.0
    attention_dropout_rate: float = 0.0
    stochastic_depth_rate: float = 0.0
    approximate_gelu: bool = True
    layer_norm_epsilon: float = 1e-6
    position_embedding: str = "learned_1d"

    def __post_init__(self):
        image_size = check_grid("image_size", self.image_size)
        object.__setattr__(self, "image_size", image_size)
        for name in ("patch_size", "hidden_dim", "num_layers", "num_heads", "mlp_dim"):
            check_positive_int(name, getattr(self, name))
        check_positive_int("num_channels", self.num_channels)
        check_positive_int("num_classes", self.num_classes)
        if self.representation_size is not None:
            check_positive_int("representation_size", self.representation_size)
        check_choice("pooling", self.pooling, POOLINGS)
        check_choice("position_embedding", self.position_embedding, tuple(POSITION_EMBEDDINGS))
        check_rate("dropout_rate", self.dropout_rate)
        check_rate("attention_dropout_rate", self.attention_dropout_rate)
        check_rate("stochastic_depth_rate", self.stochastic_depth_rate)
        self._check_divisibility()
        _check_activation(self.classifier_activation)

    def _check_divisibility(self):
        for axis, size in zip(("height", "width"), self.image_size):
            if size % self.patch_size:
                raise ValueError(
                    f"`image_size` {axis} must be divisible by patch_size="
                    f"{self.patch_size}. Received: image_size={self.image_size}"
                )
        if self.hidden_dim % self.num_heads:
            raise ValueError(
                f"`hidden_dim` must be divisible by num_heads={self.num_heads}. "
                f"Received: hidden_dim={self.hidden_dim}"
            )

    @property
    def grid_size(self):
        """The `(rows, cols)` of the patch grid."""
        return tuple(size // self.patch_size for size in self.image_size)

    @property
    def num_prefix_tokens(self):
        """Tokens before the patches: the class token when pooling on it."""
        return 1 if self.pooling == "token" else 0

    def stochastic_depth(self, index):
        """Block `index`'s drop rate: 0 for the first block, rising linearly
        to `stochastic_depth_rate` for the last (as in DeiT and timm)."""
        if self.num_layers == 1:
            return self.stochastic_depth_rate
        return self.stochastic_depth_rate * index / (self.num_layers - 1)

    def replace(self, **changes):
        """Returns a copy with `changes` applied and validated."""
        return dataclasses.replace(self, **changes)

    def get_config(self):
        config = dataclasses.asdict(self)
        config["image_size"] = list(self.image_size)
        return config


def _check_activation(activation):
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
    """Multiply-accumulates of one forward pass, counting matmuls and convolutions."""
    rows, cols = config.grid_size
    patches = rows * cols
    tokens = patches + config.num_prefix_tokens
    dim, mlp = config.hidden_dim, config.mlp_dim
    embedding = patches * config.patch_size**2 * config.num_channels * dim
    block = 4 * tokens * dim * dim + 2 * tokens * tokens * dim + 2 * tokens * dim * mlp
    head = 0
    if config.include_top:
        width = config.representation_size or dim
        head = width * config.num_classes + (dim * width if config.representation_size else 0)
    return embedding + config.num_layers * block + head
