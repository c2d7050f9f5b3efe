"""The Vision Transformer's building blocks as serializable Keras 3 layers."""

from keras_vit.layers.attention import MultiHeadSelfAttention
from keras_vit.layers.class_token import ClassToken
from keras_vit.layers.grid import GridLayer
from keras_vit.layers.patch_embedding import PatchEmbedding
from keras_vit.layers.pooling import POOLINGS, SequencePooling
from keras_vit.layers.position_embedding import (
    LEARNED_KINDS,
    POSITION_EMBEDDING_KINDS,
    POSITION_EMBEDDING_PLACEMENTS,
    POSITION_EMBEDDINGS,
    AddPositionEmbedding,
    AddPositionEmbedding2D,
    AddSinCosPositionEmbedding2D,
    NoPositionEmbedding,
)
from keras_vit.layers.resnet import (
    BottleneckUnit,
    MaxPooling2DSame,
    ResNetStage,
    StdConv2D,
    resnet_stem,
)
from keras_vit.layers.resnet_v2 import PreActBottleneckUnit, PreActResNetStage
from keras_vit.layers.stochastic_depth import StochasticDepth
from keras_vit.layers.token_map import TokenMap
from keras_vit.layers.transformer_block import TransformerBlock

__all__ = [
    "AddPositionEmbedding",
    "AddPositionEmbedding2D",
    "AddSinCosPositionEmbedding2D",
    "BottleneckUnit",
    "ClassToken",
    "GridLayer",
    "MaxPooling2DSame",
    "MultiHeadSelfAttention",
    "NoPositionEmbedding",
    "PatchEmbedding",
    "PreActBottleneckUnit",
    "PreActResNetStage",
    "POOLINGS",
    "LEARNED_KINDS",
    "POSITION_EMBEDDINGS",
    "POSITION_EMBEDDING_KINDS",
    "POSITION_EMBEDDING_PLACEMENTS",
    "ResNetStage",
    "SequencePooling",
    "StdConv2D",
    "StochasticDepth",
    "TokenMap",
    "TransformerBlock",
    "resnet_stem",
]
