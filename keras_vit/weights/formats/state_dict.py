"""PyTorch-style state dicts on disk: `.safetensors`, or `.pth`/`.bin`/`.pt` as plain tensors."""

import numpy as np

SUFFIXES = (".safetensors", ".pth", ".bin", ".pt")


def read_state_dict(path):
    """Returns `{key: float32 array}` from a state-dict file, never running code from it."""
    if path.endswith(".safetensors"):
        from safetensors.numpy import load_file

        try:
            state = load_file(path)
        except Exception as error:
            raise ValueError(f"{path} is not a readable safetensors file ({error}).") from None
        return {k: np.asarray(v, dtype=np.float32) for k, v in state.items()}
    return _read_torch_file(path)


def _read_torch_file(path):
    try:
        import torch
    except ImportError:
        raise ImportError(
            f"Reading {path} needs PyTorch; install it, or convert the file to "
            ".safetensors."
        ) from None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        reason = (str(error).splitlines() or [type(error).__name__])[0]
        raise ValueError(
            f"{path} cannot be loaded as plain tensors (torch.load with "
            f"weights_only=True): {reason}. keras_vit never runs code from a checkpoint."
        ) from None
    for key in ("state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    return {k: v.float().numpy() for k, v in state.items() if hasattr(v, "numpy")}
