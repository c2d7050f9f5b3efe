"""Learning-rate schedules of the paper: linear warm-up, then cosine or linear decay."""

import math

import keras
from keras import ops

from keras_vit.utils.validation import check_choice, check_non_negative_int, check_positive_int

DECAYS = ("cosine", "linear")


@keras.saving.register_keras_serializable(package="keras_vit")
class WarmupDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up from 0 to `peak_learning_rate` over `warmup_steps`, then a
    cosine or linear decay to `end_learning_rate` at `total_steps` (paper
    Appendix B.1: linear decay for pre-training, cosine for fine-tuning).

    Args:
        peak_learning_rate: float. The rate at the end of the warm-up.
        total_steps: int. Steps of the whole run, warm-up included.
        warmup_steps: int. Steps of the linear warm-up; less than
            `total_steps`. Defaults to 0.
        decay: str. `"cosine"` or `"linear"`. Defaults to `"cosine"`.
        end_learning_rate: float. The rate at `total_steps` and after.
            Defaults to 0.

    Example:

    >>> schedule = WarmupDecay(1.0, total_steps=10, warmup_steps=2, decay="linear")
    >>> [round(float(schedule(step)), 3) for step in (0, 1, 2, 6, 10)]
    [0.0, 0.5, 1.0, 0.5, 0.0]
    """

    def __init__(
        self,
        peak_learning_rate,
        total_steps,
        warmup_steps=0,
        decay="cosine",
        end_learning_rate=0.0,
    ):
        if not peak_learning_rate > 0:
            raise ValueError(
                "`peak_learning_rate` must be positive. "
                f"Received: peak_learning_rate={peak_learning_rate!r}"
            )
        self.peak_learning_rate = float(peak_learning_rate)
        self.total_steps = check_positive_int("total_steps", total_steps)
        self.warmup_steps = check_non_negative_int("warmup_steps", warmup_steps)
        if self.warmup_steps >= self.total_steps:
            raise ValueError(
                f"`warmup_steps` must be less than total_steps={total_steps}. "
                f"Received: warmup_steps={warmup_steps!r}"
            )
        self.decay = check_choice("decay", decay, DECAYS)
        self.end_learning_rate = float(end_learning_rate)

    def __call__(self, step):
        step = ops.cast(step, "float32")
        warmup = ops.maximum(float(self.warmup_steps), 1.0)
        rising = self.peak_learning_rate * step / warmup
        progress = (step - self.warmup_steps) / float(self.total_steps - self.warmup_steps)
        progress = ops.clip(progress, 0.0, 1.0)
        if self.decay == "cosine":
            fraction = 0.5 * (1.0 + ops.cos(math.pi * progress))
        else:
            fraction = 1.0 - progress
        falling = self.end_learning_rate + (self.peak_learning_rate - self.end_learning_rate) * fraction
        return ops.where(step < self.warmup_steps, rising, falling)

    def get_config(self):
        return {
            "peak_learning_rate": self.peak_learning_rate,
            "total_steps": self.total_steps,
            "warmup_steps": self.warmup_steps,
            "decay": self.decay,
            "end_learning_rate": self.end_learning_rate,
        }
