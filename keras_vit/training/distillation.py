"""DeiT's distillation (Touvron et al., "Training data-efficient image transformers & distillation
through attention", ICML 2021, Section 5) on Keras' own `keras.distillation`.

A frozen teacher (any Keras model with logits for the same classes) teaches a student in
`fit`: hard distillation takes the teacher's argmax as the target, soft distillation the
teacher's temperature-scaled distribution (Keras' `LogitsDistillation`, a KL divergence
scaled by the temperature squared). A student with a distillation token (DeiT's, or any
ViT built with `distillation_token=True`) learns the teacher's labels through its
distillation head and the true labels through its class head, as DeiT does; any other
student distils through its one output, as `keras.distillation.Distiller` does.
"""

import os

import keras

from keras_vit.layers import names
from keras_vit.utils.file_checks import check_zip_archive

DISTILLATIONS = ("hard", "soft")
# DeiT's weight of the distillation term: 1/2 for hard distillation, 0.1 for soft (Section 5).
DEIT_ALPHA = {"hard": 0.5, "soft": 0.1}


class HardDistillation(keras.distillation.DistillationLoss):
    """DeiT's hard-label distillation: cross-entropy of the student's logits
    against the teacher's argmax, one label per example (DeiT Eq. 3).

    Example:

    >>> teacher = keras.ops.convert_to_tensor([[2.0, 0.0], [0.0, 3.0]])
    >>> student = keras.ops.convert_to_tensor([[0.0, 0.0], [0.0, 0.0]])
    >>> round(float(HardDistillation().compute_loss(teacher, student)), 4)
    0.6931
    """

    def compute_loss(self, teacher_outputs, student_outputs, **kwargs):
        classes = keras.ops.shape(teacher_outputs)[-1]
        labels = keras.ops.one_hot(keras.ops.argmax(teacher_outputs, axis=-1), classes)
        labels = keras.ops.cast(labels, student_outputs.dtype)
        return keras.ops.mean(keras.losses.categorical_crossentropy(labels, student_outputs, from_logits=True))

    def get_config(self):
        return {}


def distillation_loss(distillation, temperature=3.0):
    """The `keras.distillation` loss for `"hard"` or `"soft"` distillation."""
    if distillation not in DISTILLATIONS:
        raise ValueError(f"`distillation` must be one of {DISTILLATIONS}. Received: distillation={distillation!r}")
    if distillation == "hard":
        return HardDistillation()
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not temperature > 0:
        raise ValueError(f"`temperature` must be a positive number. Received: temperature={temperature!r}")
    return keras.distillation.LogitsDistillation(temperature=float(temperature))


@keras.saving.register_keras_serializable(package="keras_vit")
class DeiTDistiller(keras.distillation.Distiller):
    """Trains `student` from a frozen `teacher` in `fit`, as DeiT does.

    The loss is `(1 - alpha) * CE(class head, labels) + alpha * distillation`,
    where the distillation term compares the teacher's logits with the
    student's distillation head (a student with a distillation token) or
    with its output (any other student). The teacher runs in inference mode
    and never trains. Both models must return logits (keras_vit's default,
    `classifier_activation=None`). `distiller.student` is the trained model,
    usable and saved without the teacher; evaluation and prediction run it.

    Args:
        teacher: keras.Model. Logits for the classes of the data.
        student: keras.Model. A keras_vit model, or any with the same inputs
            and number of outputs.
        distillation: str. `"hard"` (the teacher's argmax as the label, DeiT's
            best) or `"soft"` (the KL divergence of the temperature-scaled
            distributions, times the temperature squared). Defaults to `"hard"`.
        alpha: float or None. The distillation term's weight in [0, 1]; None
            takes DeiT's: 0.5 for hard, 0.1 for soft. Defaults to None.
        temperature: float. The soft distillation's temperature (DeiT: 3).
            Defaults to 3.0.
        name: str. Defaults to `"deit_distiller"`.

    Example:

    >>> import numpy as np
    >>> teacher = keras_vit.ViT(image_size=8, patch_size=4, hidden_dim=8, num_layers=1, num_heads=2,
    ...                         mlp_dim=8, num_classes=3)
    >>> student = keras_vit.ViT(image_size=8, patch_size=4, hidden_dim=8, num_layers=1, num_heads=2,
    ...                         mlp_dim=8, num_classes=3, distillation_token=True)
    >>> distiller = DeiTDistiller(teacher, student, "hard")
    >>> distiller.compile(optimizer="adam", loss=keras.losses.CategoricalCrossentropy(from_logits=True))
    >>> _ = distiller.fit(np.zeros((4, 8, 8, 3)), np.eye(3)[[0, 1, 2, 0]], epochs=1, verbose=0)
    >>> distiller.student is student
    True
    """

    def __init__(self, teacher, student, distillation="hard", alpha=None, temperature=3.0, name="deit_distiller"):
        _check_classes(teacher, student)
        alpha = DEIT_ALPHA.get(distillation, 0.5) if alpha is None else alpha
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 <= alpha <= 1:
            raise ValueError(f"`alpha` must be a number in [0, 1], the distillation's weight. Received: alpha={alpha!r}")
        super().__init__(
            teacher, student, distillation_loss(distillation, temperature), student_loss_weight=1.0 - alpha, name=name
        )
        self.distillation, self.alpha, self.temperature = distillation, float(alpha), float(temperature)
        # One pass of the student gives its output and both heads' logits.
        self._heads = None
        if _has_distillation_head(student):
            heads = [student.get_layer(names.HEAD).output, student.get_layer(names.DISTILLATION_HEAD).output]
            self._heads = keras.Model(student.inputs, [student.output, *heads], name=f"{student.name}_heads")
        # Built as its models are, so that `keras.callbacks.BackupAndRestore` can save it before `fit`.
        self.built = True

    def call(self, inputs, training=None, **kwargs):
        if training and self._heads is not None:
            return self._heads(inputs, training=True)
        return self.student(inputs, training=training, **kwargs)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if y_pred is None:
            y_pred = self(x, training=training)
        if not isinstance(y_pred, (list, tuple)):
            return super().compute_loss(x, y, y_pred, sample_weight, training)
        _, token, distilled = y_pred
        student_loss = keras.ops.mean(self._student_loss(y, token))
        teacher = self.teacher(x, training=False)
        distillation = self.distillation_losses[0].compute_loss(teacher, distilled)
        total = self.student_loss_weight * student_loss + (1.0 - self.student_loss_weight) * distillation
        self.student_loss_tracker.update_state(student_loss)
        self.distillation_loss_tracker.update_state(distillation)
        self.total_loss_tracker.update_state(total)
        return total

    def get_config(self):
        serialize = keras.saving.serialize_keras_object
        return {
            "teacher": serialize(self.teacher), "student": serialize(self.student), "name": self.name,
            "distillation": self.distillation, "alpha": self.alpha, "temperature": self.temperature,
        }

    @classmethod
    def from_config(cls, config):
        models = {key: keras.saving.deserialize_keras_object(config[key]) for key in ("teacher", "student")}
        return cls(**{**config, **models})

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        # Metrics judge the student's output, whichever heads the loss read.
        output = y_pred[0] if isinstance(y_pred, (list, tuple)) else y_pred
        return super().compute_metrics(x, y, output, sample_weight)


def _has_distillation_head(model):
    return any(layer.name == names.DISTILLATION_HEAD for layer in model.layers)


def _check_classes(teacher, student):
    for role, model in (("teacher", teacher), ("student", student)):
        if not isinstance(model, keras.Model):
            raise ValueError(f"`{role}` must be a keras.Model. Received: {role}={model!r}")
    taught, learning = teacher.output_shape[-1], student.output_shape[-1]
    if taught != learning:
        raise ValueError(
            f"The teacher must predict the student's classes: `teacher` has {taught} outputs, "
            f"the student {learning}. Received: teacher={teacher.name!r}"
        )


def check_distillation_arguments(teacher, distillation, alpha, temperature):
    """Raises a `ValueError` naming the argument unless `TrainConfig`'s distillation
    fields make sense together: a teacher for any distillation, one of
    `DISTILLATIONS`, `alpha` in [0, 1] or None, a positive temperature."""
    if distillation is not None and teacher is None:
        raise ValueError(
            f"distillation={distillation!r} needs a teacher to learn from: pass `teacher` (--teacher MODEL, "
            "a trained .keras file). Received: teacher=None"
        )
    if teacher is None:
        return
    if distillation not in DISTILLATIONS:
        raise ValueError(f"`distillation` must be one of {DISTILLATIONS}. Received: distillation={distillation!r}")
    if alpha is not None and not (isinstance(alpha, (int, float)) and 0 <= alpha <= 1):
        raise ValueError(f"`distillation_alpha` must lie in [0, 1]. Received: distillation_alpha={alpha!r}")
    distillation_loss(distillation, temperature)


def load_teacher(path, num_classes):
    """The frozen teacher a `.keras` file holds (any Keras model), checked
    against the data's `num_classes`."""
    path = os.fspath(path)
    if not path.endswith(".keras"):
        raise ValueError(
            "`teacher` must be a .keras file of a trained model (keras-vit train writes model.keras). "
            f"Received: teacher={path!r}"
        )
    if not os.path.isfile(path):
        raise ValueError(f"`teacher` must be an existing .keras file. Received: teacher={path!r}")
    check_zip_archive(path, "a .keras file Keras wrote")
    teacher = keras.saving.load_model(path, compile=False)
    if teacher.output_shape[-1] != num_classes:
        raise ValueError(
            f"The teacher must predict the data's classes: {path} has {teacher.output_shape[-1]} outputs and "
            f"the data {num_classes} classes. Received: teacher={path!r}"
        )
    return teacher


def distiller_for(student, teacher, num_classes, distillation, alpha=None, temperature=3.0):
    """`student` itself without a `teacher` (None), else a `DeiTDistiller` that
    trains it from the teacher's `.keras` file (or model)."""
    if teacher is None:
        return student
    if isinstance(teacher, (str, os.PathLike)):
        teacher = load_teacher(teacher, num_classes)
    return DeiTDistiller(teacher, student, distillation, alpha=alpha, temperature=temperature)
