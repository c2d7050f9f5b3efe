"""`preprocess_input` and `decode_predictions`, as in `keras.applications`."""

import keras
import numpy as np

from keras_vit.classes import imagenet_classes
from keras_vit.layers import names

# The original checkpoints' input range: `pixels * SCALE + OFFSET` maps [0, 255] onto [-1, 1].
SCALE = 1.0 / 127.5
OFFSET = -1.0
# What each family's checkpoints were trained on, as per-channel mean and std of
# pixels in [0, 1]: the paper's and SigLIP's 0.5 (the [-1, 1] range above),
# ImageNet's (DeiT, DINOv2) and OpenAI CLIP's.
PAPER_MEAN = PAPER_STD = (0.5, 0.5, 0.5)
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
CLIP_MEAN, CLIP_STD = (0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)


def rescaling_layer(mean=None, std=None):
    """The layer that maps `[0, 255]` pixels to what a model's weights take,
    named `"preprocessing"` as every keras_vit model with
    `include_preprocessing=True` has it: `(pixels / 255 - mean) / std` per
    channel; with `mean` and `std` None (or 0.5 everywhere), `[-1, 1]`."""
    if _is_paper(mean, std):
        return keras.layers.Rescaling(SCALE, offset=OFFSET, name=names.PREPROCESSING)
    scale = [1.0 / (255.0 * s) for s in std]
    offset = [-m / s for m, s in zip(mean, std)]
    return keras.layers.Rescaling(scale, offset=offset, name=names.PREPROCESSING)


def _is_paper(mean, std):
    return all(values is None or all(v == 0.5 for v in values) for values in (mean, std))


def includes_preprocessing(model):
    """Whether `model` takes `[0, 255]` pixels (it has the `rescaling_layer`)."""
    return names.find_layer(model, names.PREPROCESSING) is not None


def preprocess_input(images, mean=None, std=None):
    """Maps RGB pixels in `[0, 255]` to what a model's weights take.

    Only for models built with `include_preprocessing=False`; by default the
    model does this itself. Without `mean` and `std`, the original
    checkpoints' `[-1, 1]`; a model of the ViT family takes its own
    (`model.vit_config.normalization`): `(pixels / 255 - mean) / std` per channel.

    Args:
        images: NumPy array or tensor of RGB values in `[0, 255]`, channels last.
        mean: sequence of floats or None. Per-channel mean of pixels in
            `[0, 1]`; None for 0.5. Defaults to None.
        std: sequence of floats or None. Per-channel std; None for 0.5.
            Defaults to None.

    Returns:
        The same kind of array, float32.

    Example:

    >>> preprocess_input(np.array([0.0, 127.5, 255.0])).tolist()
    [-1.0, 0.0, 1.0]
    >>> white = preprocess_input(np.full((1, 3), 255.0), mean=IMAGENET_MEAN, std=IMAGENET_STD)
    >>> np.round(white.astype("float64"), 2).tolist()
    [[2.25, 2.43, 2.64]]
    """
    if _is_paper(mean, std):
        scale, offset = np.float32(SCALE), np.float32(OFFSET)
    else:
        mean, std = np.asarray(mean, np.float64), np.asarray(std, np.float64)
        scale, offset = (1.0 / (255.0 * std)).astype(np.float32), (-mean / std).astype(np.float32)
    if isinstance(images, np.ndarray):
        return images.astype(np.float32) * scale + offset
    return keras.ops.cast(images, "float32") * scale + offset


def decode_predictions(predictions, top=5):
    """Names the `top` classes of each row of ImageNet-1k or ImageNet-21k predictions.

    Args:
        predictions: array of shape `(batch, 1000)` or `(batch, 21843)`:
            probabilities or logits.
        top: int. How many classes per image. Defaults to 5.

    Returns:
        One list per image of `(synset, name, score)` tuples, best first.

    Example:

    >>> scores = np.zeros((1, 1000)); scores[0, 1] = 1.0
    >>> decode_predictions(scores, top=1)
    [[('n01443537', 'goldfish, Carassius auratus', 1.0)]]
    """
    predictions = np.asarray(keras.ops.convert_to_numpy(predictions))
    if predictions.ndim != 2:
        raise ValueError(
            "`predictions` must have shape (batch, classes). "
            f"Received: predictions.shape={predictions.shape}"
        )
    if not isinstance(top, int) or top < 1:
        raise ValueError(f"`top` must be a positive integer. Received: top={top!r}")
    classes = imagenet_classes(predictions.shape[1])
    results = []
    for row in predictions:
        best = np.argsort(row)[::-1][:top]
        results.append([(*classes[i], float(row[i])) for i in best])
    return results
