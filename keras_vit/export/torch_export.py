"""PyTorch ExportedProgram (`.pt2`) files, from the torch backend.

`torch.export` captures the model's inference call as a graph of ATen
operations with its weights; `torch.export.load(path).module()` runs it with
PyTorch alone (no Keras), and it can be compiled further with `torch.compile`
or AOTInductor. The batch is open, and so are the height and width of a model
built with `dynamic_image_size=True` (any multiple of the patch stride). Only
the torch backend can write one: torch.export traces PyTorch modules.
"""

import numpy as np

from keras_vit.export.torch_program import export_program

FORMAT = "torch"
QUANTIZATIONS = (None,)
BACKENDS = ("torch",)
_TRACES_TORCH = "torch.export traces PyTorch modules, and only the torch backend's Keras model is one"
UNSUPPORTED = {"tensorflow": _TRACES_TORCH, "jax": _TRACES_TORCH}
SUFFIX = ".pt2"


def write(model, path, quantize=None, representative_data=None):
    """Writes `model`'s inference call as an ExportedProgram at `path` (a `.pt2` file)."""
    import torch

    del quantize, representative_data  # A .pt2 file is exported in float32 only.
    torch.export.save(export_program(model), path)


def is_artifact(path):
    """Whether `path` names a `.pt2` file."""
    return str(path).endswith(SUFFIX)


class Runner:
    """A `.pt2` file run by PyTorch (CPU), called like a model on NumPy images."""

    input_dtypes = ("float32",)

    def __init__(self, path):
        try:
            import torch
        except ImportError as error:
            raise ImportError("Running a .pt2 file needs PyTorch: pip install torch.") from error
        program = torch.export.load(str(path))
        self.input_shape = _input_shape(program)
        self._module = program.module()

    def __call__(self, images):
        import torch

        with torch.no_grad():
            outputs = self._module(torch.from_numpy(np.asarray(images, dtype="float32")))
        return outputs.detach().cpu().numpy()


def _input_shape(program):
    """`(height, width, channels)` of the program's input, None where it is open."""
    [name] = program.graph_signature.user_inputs
    node = next(node for node in program.graph.nodes if node.name == name)
    return tuple(size if isinstance(size, int) else None for size in node.meta["val"].shape[1:])
