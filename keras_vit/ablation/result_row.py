"""One trained model of an ablation, and the run that produces it."""

import dataclasses
import os
import time

# Few-shot linear accuracy is always reported for this many shots: the paper's
# Table 8 and Figure 4 metric.
PAPER_SHOTS = 5


@dataclasses.dataclass(frozen=True)
class AblationRow:
    """One trained model of an ablation.

    Attributes:
        experiment: str. `"position"`, `"pretraining"`, `"data-size"`,
            `"scaling"` or `"head"`.
        name: str. The cell, e.g. `"learned_2d/every_layer"`, `"scratch"`,
            `"ViT-64x4/0.1"`; the runs of one cell over several seeds share it.
        position_embedding, placement: str. The model's position embedding
            (empty for a ResNet).
        test_accuracy: float. Top-1 accuracy on the data's test split.
        seconds: float. Wall time of the run (pre-training included).
        path: str. The run's output directory.
        seed: int. The run's seed (initialisation, data order, subset).
        few_shot: dict from shot count to the few-shot linear accuracy of the
            trained model's features (mean over 3 draws).
        model: str. The model family: `"ViT"`, `"ResNet"` or `"hybrid"`.
        parameters: int. The model's parameter count.
        forward_flops: int. `keras_vit.models.count_flops` of the model: FLOPs
            of one image's forward pass.
        images_seen: int. Training images processed: epochs x steps x batch.
        train_fraction: float. The share of the training split trained on.
        train_examples: int. The distinct training examples trained on.
        learning_rate: float or None. The peak learning rate, where the cell
            sets it.
        pooling: str. `"token"` or `"gap"`, where the cell sets it.
        curve: tuple of float. Validation accuracy after each epoch, where the
            data has a validation split.
    """

    experiment: str
    name: str
    position_embedding: str
    placement: str
    test_accuracy: float
    seconds: float
    path: str
    seed: int = 0
    few_shot: dict = dataclasses.field(default_factory=dict)
    model: str = "ViT"
    parameters: int = 0
    forward_flops: int = 0
    images_seen: int = 0
    train_fraction: float = 1.0
    train_examples: int = 0
    learning_rate: float | None = None
    pooling: str = ""
    curve: tuple = ()

    @property
    def training_flops(self):
        """Total training compute: 3 x forward FLOPs x images seen (the
        backward pass costs about twice the forward)."""
        return 3 * self.forward_flops * self.images_seen


def run_cell(config, experiment, name, model="ViT", **fields):
    """Trains `config` (with the few-shot shots added) and returns its `AblationRow`.

    Args:
        config: `keras_vit.training.TrainConfig`.
        experiment, name, model: the row's.
        **fields: further `AblationRow` fields the cell sets.
    """
    from keras_vit.models import count_flops
    from keras_vit.training.run import train

    config = dataclasses.replace(config, few_shot=tuple(sorted({PAPER_SHOTS, *config.few_shot})))
    start = time.perf_counter()
    result = train(config)
    seconds = time.perf_counter() - start
    kwargs = config.model_kwargs
    return AblationRow(
        experiment, name,
        kwargs.get("position_embedding", "" if model == "ResNet" else "learned_1d"),
        kwargs.get("position_embedding_placement", "" if model == "ResNet" else "stem"),
        result.test_accuracy, fields.pop("seconds", 0.0) + seconds, config.out,
        seed=config.seed, few_shot=result.few_shot.mean, model=model,
        parameters=int(result.model.count_params()), forward_flops=count_flops(result.model),
        images_seen=_images_seen(config, result), train_examples=result.train_examples,
        learning_rate=fields.pop("learning_rate", config.learning_rate),
        pooling=fields.pop("pooling", "" if model == "ResNet" else kwargs.get("pooling", "token")),
        curve=tuple(float(value) for value in result.history.get("val_accuracy", ())), **fields,
    )


def _images_seen(config, result):
    """Epochs x steps per epoch x batch, from the run's own step count."""
    steps = int(result.model.optimizer.iterations)
    return steps * config.batch_size


def out_dir(config, *parts):
    """The output folder of one cell and seed: `config.out/parts.../seed_S`."""
    return os.path.join(config.out, *parts, f"seed_{config.seed}")
