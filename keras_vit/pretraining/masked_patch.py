"""Masked patch prediction: self-supervised pre-training of a ViT (paper Appendix B.1.2)."""

import math
import numbers

import keras
from keras import ops

from keras_vit.layers import names
from keras_vit.models.vision_transformer import config_of
from keras_vit.preprocessing import OFFSET, SCALE, includes_preprocessing
from keras_vit.pretraining.targets import (
    NUM_COLORS,
    TARGETS,
    downsampled_color_targets,
    mean_color_targets,
    pixel_targets,
)
from keras_vit.utils.validation import check_choice

# What `MaskedPatchPrediction.corrupt` did to each patch; every code but CLEAN is predicted.
CLEAN, MASK_TOKEN, RANDOM_PATCH, UNCHANGED = 0, 1, 2, 3

# Cells per side of the "downsampled_color" target (the paper's 4x4).
DOWNSAMPLED_CELLS = 4


@keras.saving.register_keras_serializable(package="keras_vit")
class MaskedPatchPrediction(keras.Model):
    """Masked patch prediction, the ViT paper's self-supervision (Appendix B.1.2).

    Like BERT's masked language modelling, for images: in every image,
    `mask_rate` of the patch embeddings are corrupted (after the patch
    embedding, before the class token and position embeddings): of those,
    `mask_token_rate` are replaced by one learnable `[mask]` embedding,
    `random_patch_rate` by the embedding of a random other patch of the batch
    and `unchanged_rate` left as they are. A linear head then predicts, from
    each corrupted patch's final representation, a property of the original
    patch: by default its mean colour in 3 bits per channel (512 classes).
    The counts are exact per image: `round(mask_rate * num_patches)` patches
    are corrupted, split in the three rates (rounded, the unchanged share
    taking the rest).

    The wrapper trains `encoder`'s own layers: after `fit`, `encoder` holds the
    pre-trained weights, ready to save and fine-tune (its pooling and head, if
    any, are not used). Any keras_vit ViT works, plain or hybrid, with a class
    token or `pooling="gap"`, with or without its head: the wrapper reads the
    tokens of the layer named `"encoder_norm"`. For a hybrid, the targets are
    computed on the image patch each token covers (stem stride times patch
    size pixels).

    Compile with an optimizer only (the loss is built in) and fit on images
    alone or on `(images, labels)` pairs, whose labels are ignored; images
    are what `encoder` takes (`[0, 255]` with its preprocessing, `[-1, 1]`
    without). `fit` logs `loss`, the cross-entropy (or L2 error) over the
    corrupted patches, and for the colour targets `masked_patch_accuracy`,
    the accuracy on them. The corruption is drawn in evaluation too, so that
    `evaluate` measures the same task.

    Args:
        encoder: keras.Model. A model built by `keras_vit.ViT`,
            `keras_vit.ViTHybrid` or a named builder, with a fixed image size.
        target: str. `"mean_color"`: the patch's mean colour, 3 bits per
            channel (512 classes, the paper's choice); `"downsampled_color"`:
            the patch downsized to 4x4 in those colours (16 predictions of 512
            classes); `"pixels"`: L2 regression of the patch's pixels in
            `[-1, 1]`. Defaults to `"mean_color"`.
        mask_rate: float in [0, 1]. Fraction of each image's patches corrupted
            and predicted. Defaults to 0.5.
        mask_token_rate: float in [0, 1]. Fraction of the corrupted patches
            replaced by the `[mask]` embedding. Defaults to 0.8.
        random_patch_rate: float in [0, 1]. Fraction replaced by another
            patch's embedding. Defaults to 0.1.
        unchanged_rate: float in [0, 1]. Fraction left as they are; the three
            rates sum to 1. Defaults to 0.1.
        seed: int or None. Seed of the corruption; the same seed draws the
            same corruption. Defaults to None.
        **kwargs: Base `keras.Model` arguments (`name`, `dtype`, ...).

    Call arguments:
        images: Float tensor `(batch, height, width, channels)`, as `encoder`
            takes it.
        training: bool. Whether the encoder's dropout is on.

    Returns:
        A dict: `"predictions"`, float32 `(batch, num_patches, 512)` logits
        (`(batch, num_patches, 16, 512)` for `"downsampled_color"`,
        `(batch, num_patches, pixels)` for `"pixels"`); `"corruption"`, int32
        `(batch, num_patches)`: 0 for a clean patch, 1 `[mask]`, 2 another
        patch, 3 corrupted but unchanged.

    Example:

    >>> import numpy as np
    >>> encoder = keras_vit.ViT(image_size=16, patch_size=4, hidden_dim=16,
    ...                         num_layers=1, num_heads=2, mlp_dim=32)
    >>> mpp = MaskedPatchPrediction(encoder, seed=0)
    >>> out = mpp(np.zeros((2, 16, 16, 3), "float32"))
    >>> keras.ops.shape(out["predictions"])
    (2, 16, 512)
    >>> int(keras.ops.sum(keras.ops.cast(out["corruption"] > 0, "int32")))
    16
    """

    def __init__(
        self,
        encoder,
        target="mean_color",
        mask_rate=0.5,
        mask_token_rate=0.8,
        random_patch_rate=0.1,
        unchanged_rate=0.1,
        seed=None,
        **kwargs,
    ):
        check_choice("target", target, TARGETS)
        rates = check_rates(mask_rate, mask_token_rate, random_patch_rate, unchanged_rate)
        norm = _encoder_norm(encoder)
        geometry = _Geometry(encoder, target)
        kwargs.setdefault("name", "masked_patch_prediction")
        super().__init__(**kwargs)
        # Kept outside Keras' tracking: the encoder's head takes no part in
        # pre-training, so its variables must not be the wrapper's to train.
        # Saving still reaches them (it walks every attribute).
        object.__setattr__(self, "_encoder", encoder)
        self.target = target
        self.mask_rate, self.mask_token_rate, self.random_patch_rate, self.unchanged_rate = rates
        self.seed = seed
        self.num_patches = geometry.num_patches
        self.num_prefix_tokens = geometry.num_prefix_tokens
        self.image_patch_size = geometry.image_patch_size
        self.counts = _counts(self.num_patches, *rates)
        # Two views of the encoder that share its layers: images to patch
        # embeddings, and patch embeddings to the final LayerNorm's tokens.
        embeddings = encoder.patch_tokens
        self.patch_embedder = keras.Model(encoder.input, embeddings, name="patch_embedder")
        self.token_encoder = keras.Model(embeddings, norm.output, name="token_encoder")
        self.takes_pixels = includes_preprocessing(encoder)
        self.seed_generator = keras.random.SeedGenerator(seed, name="corruption_seed")
        self.mask_token = self.add_weight(
            name="mask_token",
            shape=(geometry.hidden_dim,),
            initializer=keras.initializers.TruncatedNormal(stddev=0.02),
        )
        self.head = keras.layers.Dense(geometry.outputs, name="prediction_head", dtype=encoder.dtype_policy)
        self.head.build((None, self.num_patches, geometry.hidden_dim))
        self.accuracy = None
        if target != "pixels":
            self.accuracy = keras.metrics.SparseCategoricalAccuracy(name="masked_patch_accuracy")
        self.build(encoder.input_shape)

    @property
    def encoder(self):
        """The wrapped ViT, whose layers are the ones trained."""
        return self._encoder

    def build(self, input_shape):
        # Every weight is made in `__init__`, from the encoder's own sizes.
        self.built = True

    def call(self, images, training=None):
        tokens = self.patch_embedder(images, training=training)
        tokens, corruption = self.corrupt(tokens)
        encoded = self.token_encoder(tokens, training=training)[:, self.num_prefix_tokens :]
        predictions = ops.cast(self.head(encoded), "float32")
        if self.target == "downsampled_color":
            shape = (-1, self.num_patches, DOWNSAMPLED_CELLS**2, NUM_COLORS)
            predictions = ops.reshape(predictions, shape)
        return {"predictions": predictions, "corruption": corruption}

    def corrupt(self, tokens):
        """Corrupts patch embeddings as pre-training does, drawing from the seed.

        Args:
            tokens: Float tensor `(batch, num_patches, hidden_dim)`: patch
                embeddings, without prefix tokens.

        Returns:
            The corrupted tokens (same shape) and an int32 tensor
            `(batch, num_patches)` saying what happened to each: `CLEAN` (0),
            `MASK_TOKEN` (1), `RANDOM_PATCH` (2) or `UNCHANGED` (3).
        """
        # The static count, not `tokens.shape[1]`: TensorFlow loses it when the batch size is dynamic.
        batch, num_patches = ops.shape(tokens)[0], self.num_patches
        # A random permutation of each image's patches: its first patches get
        # the mask token, the next another patch, the next stay as they are.
        scores = keras.random.uniform((batch, num_patches), seed=self.seed_generator)
        rank = ops.argsort(ops.argsort(scores, axis=1), axis=1)
        masked, replaced, unchanged = self.counts
        ends = {UNCHANGED: masked + replaced + unchanged, RANDOM_PATCH: masked + replaced, MASK_TOKEN: masked}
        corruption = ops.full_like(rank, CLEAN, dtype="int32")
        for code, end in ends.items():  # widest first: each narrower range overwrites
            corruption = ops.where(rank < end, code, corruption)
        corruption = ops.cast(corruption, "int32")
        others = self._other_patches(tokens)
        code = corruption[..., None]
        mask_token = ops.cast(self.mask_token, tokens.dtype)
        tokens = ops.where(code == MASK_TOKEN, mask_token, ops.where(code == RANDOM_PATCH, others, tokens))
        return tokens, corruption

    def _other_patches(self, tokens):
        """For every patch, the embedding of another patch of the batch, drawn uniformly."""
        width = tokens.shape[-1]
        flat = ops.reshape(tokens, (-1, width))
        total = ops.shape(flat)[0]
        # An offset in [1, total) never lands on the patch itself.
        draws = keras.random.uniform(ops.shape(flat)[:1], seed=self.seed_generator)
        offsets = 1 + ops.cast(ops.floor(draws * ops.cast(total - 1, "float32")), "int32")
        others = ops.mod(ops.arange(total, dtype="int32") + offsets, total)
        return ops.reshape(ops.take(flat, others, axis=0), ops.shape(tokens))

    def targets(self, images):
        """What the head predicts for every patch of `images` (as `call` takes them).

        Returns:
            int32 `(batch, num_patches)` colour classes, `(batch, num_patches,
            16)` for `"downsampled_color"`, or float32 `(batch, num_patches,
            pixels)` for `"pixels"`.
        """
        pixels = ops.cast(images, "float32")
        if not self.takes_pixels:
            pixels = (pixels - OFFSET) / SCALE
        if self.target == "mean_color":
            return mean_color_targets(pixels, self.image_patch_size)
        if self.target == "downsampled_color":
            return downsampled_color_targets(pixels, self.image_patch_size, DOWNSAMPLED_CELLS)
        return pixel_targets(pixels, self.image_patch_size)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        predictions, targets = y_pred["predictions"], self.targets(x)
        if self.target == "pixels":
            errors = ops.mean(ops.square(predictions - targets), axis=-1)
        else:
            errors = ops.sparse_categorical_crossentropy(targets, predictions, from_logits=True)
            if self.target == "downsampled_color":
                errors = ops.mean(errors, axis=-1)
        weights = _patch_weights(y_pred["corruption"], sample_weight)
        loss = ops.sum(errors * weights) / ops.maximum(ops.sum(weights), 1.0)
        for extra in self.losses:
            loss = loss + ops.cast(ops.sum(extra), loss.dtype)
        return loss

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        if self.accuracy is not None:
            targets = self.targets(x)
            weights = _patch_weights(y_pred["corruption"], sample_weight)
            if self.target == "downsampled_color":
                weights = ops.broadcast_to(weights[..., None], ops.shape(targets))
            self.accuracy.update_state(targets, y_pred["predictions"], sample_weight=weights)
        return self.get_metrics_result()

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "target": self.target,
            "mask_rate": self.mask_rate,
            "mask_token_rate": self.mask_token_rate,
            "random_patch_rate": self.random_patch_rate,
            "unchanged_rate": self.unchanged_rate,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
        return cls(**config)


def _patch_weights(corruption, sample_weight):
    """1 for every corrupted patch, 0 for the rest, times the image's weight if any."""
    weights = ops.cast(corruption != CLEAN, "float32")
    if sample_weight is not None:
        weights = weights * ops.reshape(ops.cast(sample_weight, "float32"), (-1, 1))
    return weights


def check_rates(mask_rate, mask_token_rate=0.8, random_patch_rate=0.1, unchanged_rate=0.1):
    """Returns the four corruption rates as floats, or raises a `ValueError` naming the bad one."""
    rates = {
        "mask_rate": mask_rate,
        "mask_token_rate": mask_token_rate,
        "random_patch_rate": random_patch_rate,
        "unchanged_rate": unchanged_rate,
    }
    for name, value in rates.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1:
            raise ValueError(f"`{name}` must be a number in [0, 1]. Received: {name}={value!r}")
    split = (mask_token_rate, random_patch_rate, unchanged_rate)
    if not math.isclose(sum(split), 1.0, abs_tol=1e-6):
        raise ValueError(
            "`mask_token_rate`, `random_patch_rate` and `unchanged_rate` split the corrupted "
            f"patches, so they must sum to 1. Received: mask_token_rate={mask_token_rate!r}, "
            f"random_patch_rate={random_patch_rate!r}, unchanged_rate={unchanged_rate!r} "
            f"(sum {sum(split):g})"
        )
    return tuple(float(value) for value in rates.values())


def _counts(num_patches, mask_rate, mask_token_rate, random_patch_rate, unchanged_rate):
    """Patches per image given the mask token, another patch, and left unchanged."""
    corrupted = round(mask_rate * num_patches)
    masked = round(mask_token_rate * corrupted)
    replaced = min(round(random_patch_rate * corrupted), corrupted - masked)
    return masked, replaced, corrupted - masked - replaced


def _encoder_norm(encoder):
    """The final LayerNorm of a keras_vit model (which has a patch embedding), or a ValueError."""
    expected = (
        "`encoder` must be a keras_vit ViT: a functional keras.Model with layers named "
        f"{names.PATCH_EMBEDDING!r} and {names.ENCODER_NORM!r}, as keras_vit.ViT and "
        "keras_vit.ViTHybrid build it."
    )
    if not isinstance(encoder, keras.Model) or not hasattr(encoder, "input"):
        raise ValueError(f"{expected} Received: encoder={encoder!r}")
    found = {layer.name: layer for layer in encoder.layers}
    missing = [name for name in (names.PATCH_EMBEDDING, names.ENCODER_NORM) if name not in found]
    if missing:
        raise ValueError(f"{expected} Received: encoder={encoder.name!r}, which lacks {', '.join(map(repr, missing))}")
    return found[names.ENCODER_NORM]


class _Geometry:
    """The sizes the wrapper needs, from the encoder's `ViTConfig`."""

    def __init__(self, encoder, target):
        config = config_of(encoder)
        if config.dynamic_image_size:
            raise ValueError(
                "`encoder` must have a fixed image size: the corruption counts and the "
                "targets depend on it. Pre-train a model built without dynamic_image_size; "
                "its weights load into a dynamic-size one after. "
                f"Received: encoder.input_shape={encoder.input_shape}"
            )
        image_size, grid = config.image_size, config.grid_size
        self.num_patches, self.hidden_dim = grid[0] * grid[1], config.hidden_dim
        # The tokens before the patches: 1 with a class token, 0 with pooling="gap".
        self.num_prefix_tokens = config.num_prefix_tokens
        if any(size % cells for size, cells in zip(image_size, grid)):
            raise ValueError(
                f"`encoder`'s {grid[0]}x{grid[1]} patch grid must tile its "
                f"{image_size[0]}x{image_size[1]} input exactly, so that each token covers "
                f"whole pixels. Received: encoder.input_shape={encoder.input_shape}"
            )
        self.image_patch_size = tuple(size // cells for size, cells in zip(image_size, grid))
        channels = config.input_channels
        if target != "pixels" and channels != 3:
            raise ValueError(
                f"target={target!r} predicts RGB colours, so `encoder` must take 3 channels; "
                f"use target='pixels' for other images. Received: encoder.input_shape={encoder.input_shape}"
            )
        if target == "downsampled_color" and any(size % DOWNSAMPLED_CELLS for size in self.image_patch_size):
            raise ValueError(
                f"target='downsampled_color' downsizes each {self.image_patch_size[0]}x"
                f"{self.image_patch_size[1]} image patch to {DOWNSAMPLED_CELLS}x{DOWNSAMPLED_CELLS}, "
                f"so the patch side must be divisible by {DOWNSAMPLED_CELLS}. "
                f"Received: encoder.input_shape={encoder.input_shape}"
            )
        pixels = self.image_patch_size[0] * self.image_patch_size[1] * channels
        self.outputs = {"mean_color": NUM_COLORS, "downsampled_color": DOWNSAMPLED_CELLS**2 * NUM_COLORS}.get(
            target, pixels
        )
