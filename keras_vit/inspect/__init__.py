"""Inspecting a Vision Transformer: the paper's Section 4.5, Figures 6 and 7.

Attention rollout and the last layer's attention maps (Figure 6), the mean
attention distance per layer and head, the position-embedding similarity and
the principal components of the embedding filters (Figure 7), the
relative-position bias by offset (Appendix D.4), for any
keras_vit model, as NumPy arrays; `figures` draws them (needs matplotlib).
"""

from keras_vit.inspect.attention import (
    attention_rollout,
    attention_weights,
    last_layer_attention,
    last_layer_map,
    rollout,
    rollout_map,
)
from keras_vit.inspect.distance import distance_matrix, mean_attention_distance, mean_distance
from keras_vit.inspect.figures import (
    plot_attention,
    plot_attention_distance,
    plot_embedding_filters,
    plot_position_embedding_similarity,
    plot_relative_position_bias,
)
from keras_vit.inspect.filters import embedding_filters, filter_kernel, principal_components
from keras_vit.inspect.geometry import TokenGrid, token_grid, upsample
from keras_vit.inspect.position import (
    cosine_similarity_grid,
    position_embedding_similarity,
    relative_position_bias,
)

__all__ = [
    "TokenGrid",
    "attention_rollout",
    "attention_weights",
    "cosine_similarity_grid",
    "distance_matrix",
    "embedding_filters",
    "filter_kernel",
    "last_layer_attention",
    "last_layer_map",
    "mean_attention_distance",
    "mean_distance",
    "plot_attention",
    "plot_attention_distance",
    "plot_embedding_filters",
    "plot_position_embedding_similarity",
    "plot_relative_position_bias",
    "position_embedding_similarity",
    "relative_position_bias",
    "principal_components",
    "rollout",
    "rollout_map",
    "token_grid",
    "upsample",
]
