"""PyTorch-style state dicts on disk: `.safetensors`, or `.pth`/`.bin`/`.pt` as plain tensors."""

import numpy as np

from keras_vit.utils.file_checks import (
    ZIP_MAGIC,
    check_not_empty,
    check_safetensors,
    check_zip_archive,
    describe,
    read_head,
    reason,
    text_start,
)

SUFFIXES = (".safetensors", ".pth", ".bin", ".pt")


def read_state_dict(path):
    """Returns `{key: float32 array}` from a state-dict file, never running code from it.

    A file that is empty, holds text, is truncated or has a damaged header
    (safetensors) or zip member (PyTorch's own format) is refused in one line
    that names it.
    """
    if path.endswith(".safetensors"):
        from safetensors.numpy import load_file

        check_safetensors(path)
        try:
            state = load_file(path)
        except Exception as error:
            raise ValueError(f"{path} is not a readable safetensors file ({reason(error)}).") from None
        return {k: np.asarray(v, dtype=np.float32) for k, v in state.items()}
    return _read_torch_file(path)


def _check_torch_file(path):
    """PyTorch saves a zip archive (before 1.6: a pickle stream): check what can be checked."""
    check_not_empty(path, "a PyTorch file")
    head = read_head(path)
    if head.startswith(ZIP_MAGIC):
        check_zip_archive(path, "a PyTorch file")
    elif text_start(head) is not None:
        raise ValueError(f"{path} is not a PyTorch file: {describe(head)}.")


def _read_torch_file(path):
    try:
        import torch
    except ImportError:
        raise ImportError(
            f"Reading {path} needs PyTorch; install it, or convert the file to "
            ".safetensors."
        ) from None
    _check_torch_file(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise ValueError(
            f"{path} cannot be loaded as plain tensors (torch.load with "
            f"weights_only=True): {reason(error)}. keras_vit never runs code from a checkpoint."
        ) from None
    for key in ("state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    return {k: v.float().numpy() for k, v in state.items() if hasattr(v, "numpy")}
