"""`Checkpoint`: what every reader returns, whatever the file's format."""

import dataclasses


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    """A checkpoint's arrays under keras weight paths, and what they imply.

    Attributes:
        arrays: dict. Keras weight path to float32 array.
        architecture: dict. Builder keyword arguments inferred from the file.
        path: str. Where it was read from.
        format: str. `"flax_npz"`, `"timm"`, `"hf"`, `"keras_hub"` or `"bit"`.
        unused: tuple. Keys of the file that map to no weight.
        notes: tuple. What the reader left out on purpose and says so (the
            text tower of a CLIP or SigLIP file), for the load's report.
    """

    arrays: dict
    architecture: dict
    path: str
    format: str
    unused: tuple = ()
    notes: tuple = ()
