"""The paper's training recipes as data, and the optimizers and loss they imply."""

import dataclasses

import keras

from keras_vit.utils.validation import check_choice, check_positive_int, check_rate
from keras_vit.training.schedules import DECAYS, WarmupDecay

OPTIMIZERS = ("sgd", "adamw")


@dataclasses.dataclass(frozen=True)
class Recipe:
    """An optimisation recipe: optimizer, schedule, clipping and batch size.

    `FINETUNE` and `PRETRAIN` hold the paper's values; `replace` makes a variant,
    `optimizer(steps)` the Keras optimizer for a run of `steps` steps.

    `learning_rate` is the peak rate for the recipe's own `batch_size`. Given a
    run's batch size, `schedule` and `optimizer` scale it linearly (the linear
    scaling rule, Goyal et al. 2017): `learning_rate * batch_size /
    self.batch_size`, so the paper's rates, set for batches of 512 and 4096,
    carry over to smaller batches. Without one they use it as it is.

    Attributes:
        optimizer_name: str. "sgd" or "adamw".
        learning_rate: float. Peak learning rate at `batch_size`.
        warmup_steps: int. Steps of linear warm-up.
        decay: str. "cosine" or "linear" decay after the warm-up.
        batch_size: int. The batch size `learning_rate` was set for.
        global_clipnorm: float or None. Gradient clipping. Defaults to 1.
        momentum: float in [0, 1). SGD's momentum. Defaults to 0.9.
        beta_1: float in [0, 1). AdamW's first-moment decay. Defaults to 0.9.
        weight_decay: float. AdamW's decoupled weight decay. Defaults to 0.
        beta_2: float. AdamW's second-moment decay. Defaults to 0.999.
    """

    optimizer_name: str
    learning_rate: float
    warmup_steps: int
    decay: str
    batch_size: int
    global_clipnorm: float | None = 1.0
    momentum: float = 0.9
    beta_1: float = 0.9
    weight_decay: float = 0.0
    beta_2: float = 0.999

    def __post_init__(self):
        check_choice("optimizer_name", self.optimizer_name, OPTIMIZERS)
        check_choice("decay", self.decay, DECAYS)
        check_positive_int("batch_size", self.batch_size)
        check_rate("momentum", self.momentum)
        check_rate("beta_1", self.beta_1)
        if not self.learning_rate > 0:
            raise ValueError(
                f"`learning_rate` must be positive. Received: learning_rate={self.learning_rate!r}"
            )

    def replace(self, **changes):
        """Returns a copy with `changes` applied and validated."""
        return dataclasses.replace(self, **changes)

    def peak_learning_rate(self, batch_size=None):
        """`learning_rate` scaled linearly from `self.batch_size` to `batch_size`.

        Args:
            batch_size: int or None. The run's batch size; None keeps
                `learning_rate` as it is. Defaults to None.

        Returns:
            A float.
        """
        if batch_size is None:
            return self.learning_rate
        return self.learning_rate * check_positive_int("batch_size", batch_size) / self.batch_size

    def schedule(self, steps, batch_size=None):
        """The learning-rate schedule for a run of `steps` optimizer steps.

        A warm-up longer than a short run is cut to a tenth of the run, so that
        the recipe still applies to small experiments.

        Args:
            steps: int. Optimizer steps of the whole run.
            batch_size: int or None. The run's batch size, to which the peak
                rate is scaled linearly; None keeps `learning_rate`.
                Defaults to None.

        Returns:
            A `WarmupDecay`.
        """
        steps = check_positive_int("steps", steps)
        warmup = self.warmup_steps if self.warmup_steps < steps else steps // 10
        return WarmupDecay(self.peak_learning_rate(batch_size), steps, warmup, self.decay)

    def optimizer(self, steps, batch_size=None):
        """A Keras optimizer following this recipe for `steps` steps.

        Args:
            steps: int. Optimizer steps of the whole run.
            batch_size: int or None. The run's batch size, to which the peak
                rate is scaled linearly; None keeps `learning_rate`.
                Defaults to None.

        Returns:
            A `keras.optimizers.SGD` or `keras.optimizers.AdamW`.
        """
        schedule = self.schedule(steps, batch_size)
        if self.optimizer_name == "sgd":
            return keras.optimizers.SGD(
                schedule, momentum=self.momentum, global_clipnorm=self.global_clipnorm
            )
        return keras.optimizers.AdamW(
            schedule,
            weight_decay=self.weight_decay,
            beta_1=self.beta_1,
            beta_2=self.beta_2,
            global_clipnorm=self.global_clipnorm,
        )


# Paper Section 4.1 and Appendix B.1.1: SGD with momentum 0.9, no weight decay,
# cosine decay after a linear warm-up, gradients clipped at global norm 1, batch
# 512; the learning rate is swept over {0.001, 0.003, 0.01, 0.03}. The warm-up
# of 500 steps is the original code's default (vit_jax/configs/common.py).
FINETUNE = Recipe("sgd", learning_rate=0.03, warmup_steps=500, decay="cosine", batch_size=512)

# Paper Appendix B.1 and Table 3: Adam (0.9, 0.999) with decoupled weight decay
# 0.1, batch 4096, 10k steps of linear warm-up and linear decay, gradients
# clipped at global norm 1. Table 3 lists the per-data-set learning rates
# (ImageNet-21k: 1e-3). Keras' AdamW applies the decay as
# `w -= learning_rate * weight_decay * w`, as the original Flax optimizer does.
PRETRAIN = Recipe(
    "adamw", learning_rate=1e-3, warmup_steps=10_000, decay="linear", batch_size=4096, weight_decay=0.1
)

# Paper Appendix B.1.2, masked patch prediction: Adam with a base learning rate
# of 2e-4, 10k steps of warm-up and cosine decay, batch 4096. No weight decay
# is mentioned, and Keras' AdamW with weight_decay 0 is Adam; the gradients are
# clipped at global norm 1 as in every recipe of the original code.
MASKED_PATCH = Recipe("adamw", learning_rate=2e-4, warmup_steps=10_000, decay="cosine", batch_size=4096)

RECIPES = {"finetune": FINETUNE, "pretrain": PRETRAIN, "masked_patch": MASKED_PATCH}


def finetune_optimizer(steps, batch_size=None, **changes):
    """The paper's fine-tuning optimizer (SGD 0.9, cosine, clip 1) for `steps` steps.

    The recipe's learning rate is for batches of 512; given the run's
    `batch_size`, it is scaled linearly to it (see `Recipe`).

    Args:
        steps: int. Optimizer steps of the whole run.
        batch_size: int or None. The run's batch size; None keeps the
            learning rate as it is. Defaults to None.
        **changes: fields of `Recipe` to change, e.g. `learning_rate=0.01`.

    Returns:
        A `keras.optimizers.SGD`.

    Example:

    >>> optimizer = finetune_optimizer(steps=10_000, learning_rate=0.01)
    >>> round(float(optimizer.learning_rate), 4)   # step 0 of the warm-up
    0.0
    """
    return FINETUNE.replace(**changes).optimizer(steps, batch_size)


def pretrain_optimizer(steps, batch_size=None, **changes):
    """The paper's pre-training optimizer (AdamW, weight decay 0.1, linear) for `steps` steps.

    The recipe's learning rate is for batches of 4096; given the run's
    `batch_size`, it is scaled linearly to it (see `Recipe`).

    Args:
        steps: int. Optimizer steps of the whole run.
        batch_size: int or None. The run's batch size; None keeps the
            learning rate as it is. Defaults to None.
        **changes: fields of `Recipe` to change, e.g. `weight_decay=0.03`.

    Returns:
        A `keras.optimizers.AdamW`.
    """
    return PRETRAIN.replace(**changes).optimizer(steps, batch_size)


def classification_loss(label_smoothing=0.0):
    """Cross-entropy on logits and one-hot (or mixed) labels, with label smoothing.

    The data pipelines of `keras_vit.data` yield one-hot labels, so MixUp and
    CutMix can mix them and label smoothing applies.

    Args:
        label_smoothing: float in [0, 1). Defaults to 0.

    Returns:
        A `keras.losses.CategoricalCrossentropy`.
    """
    return keras.losses.CategoricalCrossentropy(
        from_logits=True, label_smoothing=check_rate("label_smoothing", label_smoothing)
    )
