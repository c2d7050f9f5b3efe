"""Low-rank adaptation (LoRA, Hu et al. 2021) of a keras_vit model with Keras' own LoRA.

`enable_lora` adds trainable low-rank factors to chosen projections of every
Transformer block and freezes the rest of the model except the classifier;
`merge_lora` folds the factors back into plain kernels for saving or export.
"""

import dataclasses
import numbers

import keras
import numpy as np

from keras_vit.layers import names
from keras_vit.layers.transformer_block import TransformerBlock
from keras_vit.utils.validation import check_positive_int

# The layers of a block that LoRA can adapt, by name: the attention's
# projections (inside the block's `attn`) and the MLP's two Dense layers.
LORA_TARGETS = ("query", "key", "value", "out", "mlp_fc1", "mlp_fc2")
DEFAULT_TARGETS = ("query", "value")
# Layers that stay trainable beside the LoRA factors.
CLASSIFIER = (names.PRE_LOGITS, names.HEAD, names.DISTILLATION_HEAD)


@dataclasses.dataclass(frozen=True)
class LoRASummary:
    """What `enable_lora` adapted and how much of the model now trains.

    Attributes:
        rank: int. Rank of every LoRA factor pair.
        alpha: float. Keras' `lora_alpha`; the update is scaled by
            `alpha / rank`.
        layers: tuple of str. The adapted layers' paths, such as
            `"encoderblock_0/attn/query"`.
        trainable_params: int. Parameters the optimizer updates: the LoRA
            factors and the classifier.
        total_params: int. All parameters, LoRA factors included.
    """

    rank: int
    alpha: float
    layers: tuple
    trainable_params: int
    total_params: int

    def __str__(self):
        share = self.trainable_params / max(self.total_params, 1)
        return (
            f"LoRA rank {self.rank} (alpha {self.alpha:g}) on {len(self.layers)} layers: "
            f"{self.trainable_params:,} of {self.total_params:,} parameters trainable ({share:.2%})"
        )


def enable_lora(model, rank, targets=DEFAULT_TARGETS, alpha=None):
    """Adds LoRA factors to the chosen layers of every block and freezes the rest.

    Each chosen `Dense`/`EinsumDense` layer gets Keras' `layer.enable_lora(
    rank, lora_alpha=alpha)`: its kernel `W` is frozen and it computes with
    `W + (alpha / rank) * lora_kernel_a @ lora_kernel_b`, where `lora_kernel_b`
    starts at zero, so the model's outputs do not change. Keras factors an
    `EinsumDense` kernel over its last axis: the `(hidden_dim, heads,
    head_dim)` query, key and value kernels get `a` of shape
    `(hidden_dim, heads, rank)` and `b` of shape `(rank, head_dim)`.

    Every other weight is frozen (its variable's `trainable` set to False),
    biases of the adapted layers included, except the classifier's trainable
    weights: the layers named `head`, `head_dist` (DeiT's second head) and
    `pre_logits`, where present (of an int8 head, the bias). Call it before
    `compile`. A quantized model takes
    LoRA too (QLoRA: int8 or int4 kernels, float factors).

    Keras saves a LoRA layer with the factors merged into its kernel, so a
    saved model (`.keras`, `.weights.h5`) reloads as a plain model with the
    same outputs; `merge_lora` does the same in memory.

    Args:
        model: a keras_vit model (a `keras.Model` with `encoderblock_0`, ...).
        rank: int. Rank of the factors.
        targets: str or sequence of str. The layers to adapt in every block,
            among `"query"`, `"key"`, `"value"`, `"out"` (the attention's
            projections) and `"mlp_fc1"`, `"mlp_fc2"`. Defaults to
            `("query", "value")`, the paper's choice.
        alpha: float or None. Scale numerator; None for `rank` (scale 1).
            Defaults to None.

    Returns:
        A `LoRASummary` with the adapted layers and the parameter counts.

    Example:

    >>> import keras_vit
    >>> model = keras_vit.ViT(image_size=32, patch_size=8, hidden_dim=16,
    ...                       num_layers=2, num_heads=2, mlp_dim=32, num_classes=10)
    >>> summary = enable_lora(model, rank=2)
    >>> summary.layers[:2], summary.trainable_params
    (('encoderblock_0/attn/query', 'encoderblock_0/attn/value'), 490)
    """
    rank, targets, alpha = check_lora_arguments(rank, targets, alpha)
    layers = _target_layers(model, targets)
    for path, layer in layers.items():
        if layer.lora_enabled:
            raise ValueError(
                f"LoRA is already enabled on {path}; enable it once per model. "
                f"Received: targets={targets!r}"
            )
    for layer in layers.values():
        layer.enable_lora(rank, lora_alpha=alpha)
    _freeze_all_but(model, layers.values())
    return LoRASummary(
        rank=rank,
        alpha=float(rank if alpha is None else alpha),
        layers=tuple(layers),
        trainable_params=_count(model.trainable_weights),
        total_params=_count(model.weights),
    )


def merge_lora(model):
    """A copy of `model` whose kernels hold their LoRA updates, without LoRA.

    Every adapted layer's kernel becomes `W + (alpha / rank) * a @ b`, as
    Keras computes it when saving (for a quantized layer, merged in float
    and quantized again); all other weights are copied. The copy is built
    from `model.get_config()`, has no LoRA variables, every weight
    trainable, and is not compiled: ready to save, quantize or export.

    Args:
        model: a model with LoRA-enabled layers, e.g. after `enable_lora`.

    Returns:
        A new `keras.Model` computing what `model` computes.

    Example:

    >>> import keras_vit
    >>> model = keras_vit.ViT(image_size=32, patch_size=8, hidden_dim=16,
    ...                       num_layers=1, num_heads=2, mlp_dim=32, num_classes=10)
    >>> _ = enable_lora(model, rank=2)
    >>> merged = merge_lora(model)
    >>> len(merged.weights) == len(model.weights) - 4
    True
    """
    if not any(getattr(layer, "lora_enabled", False) for layer in _layers(model)):
        raise ValueError(
            "`model` has no LoRA-enabled layer to merge; call "
            f"keras_vit.training.enable_lora first. Received: model.name={model.name!r}"
        )
    merged = model.__class__.from_config(model.get_config())
    for source, target in zip(_layers(model), _layers(merged), strict=True):
        if type(source) is not type(target):
            raise ValueError(
                f"Cannot merge {model.name!r}: its config rebuilds a {type(target).__name__} "
                f"where the model has {source.name!r}, a {type(source).__name__}."
            )
        # A LoRA layer saves its merged kernel: Keras' own `.keras` contract.
        store = {}
        source.save_own_variables(store)
        if store:
            # Copies: JAX may donate a buffer the two models would share.
            target.load_own_variables({key: _numpy(value) for key, value in store.items()})
    return merged


def check_lora_arguments(rank, targets, alpha, prefix=""):
    """`(rank, targets, alpha)` checked and normalized (`targets` a tuple of
    distinct names), or a `ValueError` naming the argument, as `prefix` +
    its name (`TrainConfig` calls them `lora_rank`, ...)."""
    rank = check_positive_int(prefix + "rank", rank)
    name = prefix + "targets"
    names_given = (targets,) if isinstance(targets, str) else targets
    try:
        names_given = tuple(names_given)
    except TypeError:
        names_given = ()
    if not names_given or any(target not in LORA_TARGETS for target in names_given):
        raise ValueError(
            f"`{name}` must name one or more of {', '.join(map(repr, LORA_TARGETS))}. "
            f"Received: {name}={targets!r}"
        )
    if alpha is not None and (
        isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not alpha > 0
    ):
        name = prefix + "alpha"
        raise ValueError(f"`{name}` must be a positive number or None. Received: {name}={alpha!r}")
    return rank, tuple(dict.fromkeys(names_given)), alpha


class RestartLoRA(keras.callbacks.Callback):
    """Draws new `lora_kernel_a` factors where a restore left both factors zero.

    Keras saves a LoRA layer with its update merged into the kernel and, on
    loading, sets both factors to zero, where neither gets a gradient: a run
    resumed by `keras.callbacks.BackupAndRestore` would train only the
    classifier. Placed after that callback, this one gives every such layer
    a fresh `a` (He-uniform, as `enable_lora` draws it) on train begin; `b`
    stays zero, so the model computes what was saved and LoRA carries on
    from the merged kernels.

    Args:
        seed: int. Seed of the new factors. Defaults to 0.
    """

    def __init__(self, seed=0):
        super().__init__()
        self.seed = seed

    def on_train_begin(self, logs=None):
        initializer = keras.initializers.HeUniform(seed=keras.random.SeedGenerator(self.seed))
        for layer in _layers(self.model):
            if not getattr(layer, "lora_enabled", False):
                continue
            a, b = layer.lora_kernel_a, layer.lora_kernel_b
            if not np.any(keras.ops.convert_to_numpy(a)) and not np.any(keras.ops.convert_to_numpy(b)):
                a.assign(initializer(a.shape, dtype=a.dtype))


def _target_layers(model, targets):
    """`{path: layer}` of the targets in every block, in block order."""
    try:
        blocks = names.blocks(model)
    except ValueError:
        blocks = []
    blocks = [block for block in blocks if isinstance(block, TransformerBlock)]
    if not blocks:
        raise ValueError(
            "`model` has no keras_vit TransformerBlock (layers named encoderblock_0, ...) "
            f"to adapt; pass a model built by keras_vit. Received: model.name={model.name!r}"
        )
    layers = {}
    for block in blocks:
        projections = block.projections()
        for target in targets:
            path = target if target in projections else f"attn/{target}"
            layers[f"{block.name}/{path}"] = projections[path]
    return layers


def _freeze_all_but(model, adapted):
    keep = {id(layer.lora_kernel_a) for layer in adapted} | {id(layer.lora_kernel_b) for layer in adapted}
    for name in CLASSIFIER:
        layer = names.find_layer(model, name)
        if layer is not None:
            # What trained before: a quantized head's kernel and scale do not.
            keep.update(id(weight) for weight in layer.trainable_weights)
    for weight in model.weights:
        weight.trainable = id(weight) in keep


def _layers(model):
    return list(model._flatten_layers(include_self=False))


def _numpy(value):
    return np.array(keras.ops.convert_to_numpy(value))


def _count(weights):
    return int(sum(np.prod(weight.shape) for weight in weights))
