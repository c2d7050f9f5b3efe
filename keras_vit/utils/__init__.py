"""Helpers shared by every part of keras_vit, importable from anywhere below it.

Nothing here imports Keras or any other part of keras_vit: argument checks with
errors that name the argument (`validation`), NumPy resampling of position
embeddings and maps over a grid (`resample`), of patch-embedding kernels to
another patch size or number of input channels (`kernels`:
`resample_patch_embedding`, `adapt_input_channels`), what the CPU computes
natively, from its feature flags (`cpu`), whether a model or weights file is
whole (`file_checks`), output folders a failed command removes (`folders`), and
the progress of long work on stderr (`progress`).
"""

from keras_vit.utils.lazy import lazy_attributes

_MODULES = ("cpu", "file_checks", "folders", "install", "kernels", "lazy", "plotting", "progress", "resample", "validation")
_FUNCTIONS = ("adapt_input_channels", "resample_patch_embedding")
__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        **{name: f"keras_vit.utils.{name}" for name in _MODULES},
        **{name: f"keras_vit.utils.kernels:{name}" for name in _FUNCTIONS},
    },
)
__all__ = sorted([*_MODULES, *_FUNCTIONS])
