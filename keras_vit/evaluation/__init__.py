"""Few-shot linear evaluation: the paper's measure of frozen features (Table 8, Figure 4).

`few_shot(model, train, test)` draws k training images per class with seeded
per-class permutations, fits big_vision's closed-form least-squares
classifier (`few_shot_accuracy`, `ridge_weights`) on the model's pre-logits
features and scores it on the test set, for each shot count and seed.
`keras-vit evaluate --few-shot` runs it from the command line.
"""

from keras_vit.evaluation.batches import split_batches
from keras_vit.evaluation.frozen_features import DEFAULT_SHOTS, FewShotResult, feature_model, features, few_shot
from keras_vit.evaluation.linear import BIAS, DEFAULT_L2_REG, few_shot_accuracy, ridge_weights, targets, whiten
from keras_vit.evaluation.sampling import sample_shots

__all__ = [
    "BIAS",
    "DEFAULT_L2_REG",
    "DEFAULT_SHOTS",
    "FewShotResult",
    "feature_model",
    "features",
    "few_shot",
    "few_shot_accuracy",
    "ridge_weights",
    "sample_shots",
    "split_batches",
    "targets",
    "whiten",
]
