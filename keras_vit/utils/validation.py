"""Argument checks shared by the layers and builders, with errors that name the argument."""

import numbers


def check_positive_int(name, value):
    """Returns `value` if it is a positive int, else raises a `ValueError` naming `name`."""
    if not _is_int(value) or value < 1:
        raise ValueError(
            f"`{name}` must be a positive integer. Received: {name}={value!r}"
        )
    return int(value)


def check_non_negative_int(name, value):
    """Returns `value` if it is an int >= 0, else raises a `ValueError` naming `name`."""
    if not _is_int(value) or value < 0:
        raise ValueError(
            f"`{name}` must be a non-negative integer. Received: {name}={value!r}"
        )
    return int(value)


def is_positive_number(value):
    """Whether `value` is an int or float above 0 (a bool is not one)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def check_bool(name, value):
    """Returns `value` if it is a bool, else raises a `ValueError` naming `name`."""
    if not isinstance(value, bool):
        raise ValueError(f"`{name}` must be True or False. Received: {name}={value!r}")
    return value


def check_rate(name, value):
    """Returns `value` as a float if it lies in [0, 1), else raises a `ValueError`."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not 0.0 <= value < 1.0
    ):
        raise ValueError(
            f"`{name}` must be a number in [0, 1). Received: {name}={value!r}"
        )
    return float(value)


def check_choice(name, value, choices):
    """Returns `value` if it is one of `choices`, else raises a `ValueError`."""
    if value not in choices:
        expected = ", ".join(repr(choice) for choice in choices)
        raise ValueError(
            f"`{name}` must be one of {expected}. Received: {name}={value!r}"
        )
    return value


def check_grid(name, value):
    """Returns a `(height, width)` tuple of positive ints from an int or a pair."""
    pair = (value, value) if _is_int(value) else value
    if (
        not isinstance(pair, (tuple, list))
        or len(pair) != 2
        or not all(_is_int(v) and v > 0 for v in pair)
    ):
        raise ValueError(
            f"`{name}` must be a positive int or a pair of positive ints "
            f"(height, width). Received: {name}={value!r}"
        )
    return (int(pair[0]), int(pair[1]))


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_heads(hidden_dim, num_heads):
    """Raises a `ValueError` unless `num_heads` attention heads split `hidden_dim` evenly."""
    if hidden_dim is None or hidden_dim % num_heads:
        raise ValueError(
            f"`hidden_dim` must be divisible by num_heads={num_heads}, so that every head "
            f"gets hidden_dim / num_heads channels. Received: hidden_dim={hidden_dim}"
        )
    return hidden_dim // num_heads


def check_image_size(shape, stride, meaning):
    """Raises a `ValueError` if `stride` does not divide a known height or width of
    the images of `shape` `(batch, height, width, channels)`; `meaning` says what
    `stride` is ("patch_size=16"). An unknown size (None, or a symbol in a JAX
    export) is left to the graph."""
    for axis, size in (("height", shape[1]), ("width", shape[2])):
        if _is_int(size) and size % stride:
            raise ValueError(
                f"Image {axis} {size} is not divisible by {stride}, the pixels per patch "
                f"token ({meaning}). Received: images.shape={tuple(shape)}"
            )
