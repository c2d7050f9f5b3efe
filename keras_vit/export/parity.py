"""Parity of an exported artifact with the Keras model it came from.

The artifact runs on a seeded batch of images with its own runtime (TensorFlow,
the LiteRT interpreter, onnxruntime, OpenVINO or PyTorch) and its outputs are compared with
`model.predict` on the same batch. What counts as agreement depends on the
quantization, and is stated once, in `TOLERANCES`.

Some models amplify float32 round-off: a deep ViT with random weights moves
its outputs by 0.1 to 0.3 when its input pixels move by one part in a
million. Another runtime rounds differently, so the tolerance is never below
`NOISE_FACTOR` times that change (the report's `noise_floor`); for trained
weights it is far below the quantization's own tolerance.
"""

import dataclasses

import numpy as np

from keras_vit.quantization import quantized_layers
from keras_vit.utils import progress


@dataclasses.dataclass(frozen=True)
class Tolerance:
    """How far an artifact may drift from the Keras model.

    Attributes:
        relative: float. The largest absolute difference allowed, as a
            fraction of `max(1, max |reference output|)`, so that the check
            means the same for logits and for probabilities.
        top1: float. The smallest fraction of decisive images whose top-1
            class must agree with the Keras model's. An image is decisive when
            the model's best class leads the runner-up by more than the
            allowed difference; elsewhere a tie may fall either way.
        measured: str. What the tolerance was set from.
    """

    relative: float
    top1: float
    measured: str


KERAS_QUANTIZED = "keras_quantized"

# Set from measurements on small random ViTs (max |logit| 6 to 10, 32 images),
# with room for larger models; README.md "Export" repeats this table.
TOLERANCES = {
    # float32 checks only the difference: two equal logits may be ordered either way.
    None: Tolerance(1e-4, 0.0, "float32 runtimes agree to about 1e-5 of the output scale"),
    "float16": Tolerance(2e-2, 0.75, "float16 weights: 3e-3 to 5e-3 of the scale, top-1 all agree"),
    "bfloat16": Tolerance(0.1, 0.75, "OpenVINO bfloat16 compute: 0.014 to 0.052 of the scale, top-1 75-100% agree"),
    "int8_weights": Tolerance(
        0.25, 0.75, "OpenVINO int8 weights (NNCF): 0.016 to 0.16 of the scale, top-1 88-100% agree"
    ),
    "dynamic_int8": Tolerance(0.25, 0.75, "int8 weights: about 0.1 of the scale, top-1 97% agree"),
    "int8": Tolerance(1.0, 0.4, "int8 weights and activations: 0.35 to 0.8 of the scale, top-1 47-78% agree"),
    # Not a `precision=` choice: the float export of a model quantized in Keras
    # (`keras_vit.training.quantize`), which quantizes its activations at every call.
    # Another runtime's round-off now and then moves one across a rounding
    # boundary: one int8 step, where a float model moves by round-off alone.
    KERAS_QUANTIZED: Tolerance(
        1e-2, 0.9, "a Keras int8 model, torch to ONNX: 1.1e-3 of the scale on the digits ViT, top-1 all agree"
    ),
}


# The relative input perturbation that measures the model's sensitivity, about
# 16 float32 ulps, and how many times the resulting change a runtime may differ.
NOISE_PERTURBATION = 1e-6
NOISE_FACTOR = 4.0


class ParityError(ValueError):
    """An exported artifact computes something else than its Keras model."""


@dataclasses.dataclass
class ParityReport:
    """The outcome of one comparison of an artifact with its Keras model.

    Attributes:
        max_abs_diff: float. Largest absolute difference over the batch and
            every input dtype the artifact accepts.
        scale: float. `max |reference output|`.
        noise_floor: float. How much the Keras model's own outputs move when
            its input moves by `NOISE_PERTURBATION` (relative).
        tolerance: float. The largest difference allowed, absolute.
        top1_agreement: float. Fraction of images whose top-1 class agrees.
        decisive_agreement: float. The same over the decisive images (see
            `Tolerance.top1`); 1 when there are none.
        num_decisive: int. How many images are decisive.
        min_top1: float. The smallest `decisive_agreement` allowed.
        num_images: int. Images compared.
        input_dtypes: tuple of str. The input dtypes the artifact was run with.
    """

    max_abs_diff: float
    scale: float
    noise_floor: float
    tolerance: float
    top1_agreement: float
    decisive_agreement: float
    num_decisive: int
    min_top1: float
    num_images: int
    input_dtypes: tuple

    @property
    def passed(self):
        return self.max_abs_diff <= self.tolerance and self.decisive_agreement >= self.min_top1

    def __str__(self):
        return (
            f"max |difference| {self.max_abs_diff:.3g} (tolerance {self.tolerance:.3g}), {self._top1()}, "
            f"inputs {'/'.join(self.input_dtypes)}"
        )

    def _top1(self):
        """What the top-1 check found, in counts of images (the worst input dtype's)."""
        same = f"same top-1 class on {round(self.top1_agreement * self.num_images)} of {self.num_images} images"
        if self.min_top1 == 0:
            return f"{same} (not required: only the difference is checked)"
        if self.num_decisive == 0:
            return (f"{same} (not required: no image's best class leads its runner-up by more than "
                    "the allowed difference)")
        return (
            f"{same}, and on {round(self.decisive_agreement * self.num_decisive)} of the {self.num_decisive} "
            f"whose best class leads by more than the allowed difference (at least {self.min_top1:.0%} required)"
        )


def sample_images(input_shape, num_images=8, seed=0):
    """A seeded batch of RGB images with integer values in `[0, 255]`, as float32.

    Args:
        input_shape: tuple. `(height, width, channels)`.
        num_images: int. Batch size. Defaults to 8.
        seed: int. Seed of the generator. Defaults to 0.

    Returns:
        float32 array of shape `(num_images, height, width, channels)`.

    Example:

    >>> sample_images((4, 4, 3), num_images=2).shape
    (2, 4, 4, 3)
    """
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (num_images, *input_shape)).astype("float32")


def verify(model, runner, precision=None, images=None):
    """Runs `runner` and `model` on the same images and compares them.

    Args:
        model: the Keras model, taking RGB pixels in `[0, 255]`.
        runner: a loaded artifact (see `keras_vit.export.load`), called with
            a batch of images in each of its `input_dtypes`.
        precision: None or a key of `TOLERANCES`: the quantization the
            artifact adds. None for a float export, or for one of a model
            quantized in Keras, which is checked against
            `TOLERANCES[KERAS_QUANTIZED]`. Defaults to None.
        images: array of shape `(batch, height, width, channels)` in
            `[0, 255]`, rounded to whole pixel values (as uint8 inputs
            hold them), or None for `sample_images`. Defaults to None.

    Returns:
        A `ParityReport`.

    Raises:
        ParityError: if the difference or the top-1 agreement is outside the
            tolerance of `precision`; the message names the numbers.
    """
    if images is None:
        images = sample_images(tuple(model.input_shape[1:]))
    images = np.round(np.clip(np.asarray(images, dtype="float32"), 0, 255))
    if precision is None and quantized_layers(model):
        precision = KERAS_QUANTIZED
    height, width = images.shape[1:3]
    with progress.stage(f"checking it against the Keras model on {len(images)} images of {height}x{width}"):
        report = _compare(model, runner, precision, images)
    if not report.passed:
        raise ParityError(
            f"The exported artifact ({precision or 'float32'}) does not match the Keras "
            f"model: {report}. Output scale {report.scale:.3g}, noise floor {report.noise_floor:.3g}."
        )
    return report


def _compare(model, runner, precision, images):
    """`verify`'s measurements of `runner` against `model` on `images`, as a `ParityReport`."""
    reference = _predict(model, images)
    scale = float(np.abs(reference).max())
    noise = float(np.abs(_predict(model, images * (1 + NOISE_PERTURBATION)) - reference).max())
    tolerance = TOLERANCES[precision]
    allowed = max(tolerance.relative * max(1.0, scale), NOISE_FACTOR * noise)
    decisive = _margin(reference) > allowed
    diff, agreement, decisive_agreement = 0.0, 1.0, 1.0
    for dtype in runner.input_dtypes:
        outputs = np.asarray(runner(images.astype(dtype)), "float32").reshape(reference.shape)
        diff = max(diff, float(np.abs(outputs - reference).max()))
        agrees = _top1_agrees(outputs, reference)
        agreement = min(agreement, float(agrees.mean()))
        if decisive.any():
            decisive_agreement = min(decisive_agreement, float(agrees[decisive].mean()))
    return ParityReport(
        max_abs_diff=diff,
        scale=scale,
        noise_floor=noise,
        tolerance=allowed,
        top1_agreement=agreement,
        decisive_agreement=decisive_agreement,
        num_decisive=int(decisive.sum()),
        min_top1=tolerance.top1,
        num_images=len(images),
        input_dtypes=tuple(runner.input_dtypes),
    )


def _predict(model, images):
    return np.asarray(model.predict(images, batch_size=len(images), verbose=0), "float32")


def _top1_agrees(outputs, reference):
    if reference.ndim != 2 or reference.shape[1] < 2:
        return np.ones(len(reference), dtype=bool)
    return outputs.argmax(axis=1) == reference.argmax(axis=1)


def _margin(reference):
    """How far each image's best class leads the runner-up."""
    if reference.ndim != 2 or reference.shape[1] < 2:
        return np.zeros(len(reference))
    best_two = np.sort(reference, axis=1)[:, -2:]
    return best_two[:, 1] - best_two[:, 0]
