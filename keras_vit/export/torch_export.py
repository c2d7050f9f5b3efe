"""PyTorch ExportedProgram (`.pt2`) files, from the torch backend.

`torch.export` captures the model's inference call as a graph of ATen
operations with its weights; `torch.export.load(path).module()` runs it with
PyTorch alone (no Keras), and it can be compiled further with `torch.compile`
or AOTInductor. The batch is open, and so are the height and width of a model
built with `dynamic_image_size=True` (any multiple of the patch stride). Only
the torch backend can write one: torch.export traces PyTorch modules.

`load(path, compile=True)` runs the program compiled by TorchInductor with its
weights frozen into the compiled code (constants it folds and prepacks for the
CPU's matrix units): keras_vit's fastest CPU path measured (docs/performance.md).
A model built under the `mixed_bfloat16` or `bfloat16` policy is traced as it
computes, so its file computes in bf16.
"""

import numpy as np

from keras_vit.export.torch_program import export_program

FORMAT = "torch"
PRECISIONS = (None,)
BACKENDS = ("torch",)
_TRACES_TORCH = "torch.export traces PyTorch modules, and only the torch backend's Keras model is one"
KERAS_QUANTIZED_UNSUPPORTED = {}  # every mode Keras quantizes to exports
UNSUPPORTED = {"tensorflow": _TRACES_TORCH, "jax": _TRACES_TORCH}
SUFFIX = ".pt2"


def write(model, path, precision=None, representative_data=None):
    """Writes `model`'s inference call as an ExportedProgram at `path` (a `.pt2` file)."""
    import torch

    del precision, representative_data  # A .pt2 file is exported in float32 only.
    torch.export.save(export_program(model), path)


def is_artifact(path):
    """Whether `path` names a `.pt2` file."""
    return str(path).endswith(SUFFIX)


class Runner:
    """A `.pt2` file run by PyTorch (CPU), called like a model on NumPy images."""

    input_dtypes = ("float32",)

    def __init__(self, path, compile=False):
        try:
            import torch
        except ImportError as error:
            raise ImportError("Running a .pt2 file needs PyTorch: pip install torch.") from error
        program = torch.export.load(str(path))
        self.input_shape = _input_shape(program)
        self._module = program.module()
        self._inductor_options = COMPILE_OPTIONS[compile] if compile else None
        if compile:
            _check_cpp_compiler()
            self._module = torch.compile(self._module)

    def __call__(self, images):
        import torch

        # Inference mode: what TorchInductor's weight freezing requires.
        with torch.inference_mode(), _inductor_config(self._inductor_options):
            outputs = self._module(torch.from_numpy(np.asarray(images, dtype="float32")))
        return outputs.detach().cpu().numpy()


# `load(path, compile=...)`: TorchInductor's options for each value. Freezing
# folds the weights into the compiled code as constants, which lets it cast
# them once and prepack them for oneDNN's matmuls, the bias (and a GELU
# after the matmul) inside each;
# max-autotune also times its own C++ matmul kernels against oneDNN's for
# every shape, which takes longer to compile.
COMPILE_OPTIONS = {
    True: {"freezing": True},
    "max-autotune": {"freezing": True, "max_autotune": True},
}


def _inductor_config(options):
    """TorchInductor's config patched with `options` (a no-op for None) for a
    call: torch.compile compiles each new input shape inside the call. Given
    as `torch.compile(options=...)` instead, torch 2.13 left the weights as
    graph inputs, cast to bf16 on every call and never prepacked."""
    import contextlib

    if options is None:
        return contextlib.nullcontext()
    import torch._inductor.config

    return torch._inductor.config.patch(options)


def _check_cpp_compiler():
    """TorchInductor writes C++ for the CPU: a clear error now rather than a
    compiler trace back at the first call."""
    try:
        from torch._inductor.cpp_builder import get_cpp_compiler
    except ImportError:  # Another torch layout: let torch.compile tell.
        return
    try:
        get_cpp_compiler()
    except Exception as error:
        raise RuntimeError(
            "load(path, compile=...) compiles the .pt2 program to C++ with TorchInductor, which "
            "needs a C++ compiler: install g++ (apt install g++) or name one in the CXX "
            f"environment variable, or load with compile=False. ({type(error).__name__}: {error})"
        ) from None


def _input_shape(program):
    """`(height, width, channels)` of the program's input, None where it is open."""
    [name] = program.graph_signature.user_inputs
    node = next(node for node in program.graph.nodes if node.name == name)
    return tuple(size if isinstance(size, int) else None for size in node.meta["val"].shape[1:])
