"""The Vision Transformer's building blocks as serializable Keras 3 layers."""

from keras_vit.layers.activations import ACTIVATIONS
from keras_vit.layers.attention import MultiHeadSelfAttention
from keras_vit.layers.attention_pooling import AttentionPooling
from keras_vit.layers.class_token import ClassToken, RegisterTokens
from keras_vit.layers.grid import GridLayer
from keras_vit.layers.layer_scale import LayerScale
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
    "ACTIVATIONS",
    "AddPositionEmbedding",
    "AddPositionEmbedding2D",
    "AddSinCosPositionEmbedding2D",
    "AttentionPooling",
    "BottleneckUnit",
    "ClassToken",
    "GridLayer",
    "LayerScale",
    "MaxPooling2DSame",
    "MultiHeadSelfAttention",
    "NoPositionEmbedding",
    "PatchEmbedding",
    "PreActBottleneckUnit",
    "PreActResNetStage",
    "RegisterTokens",
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
