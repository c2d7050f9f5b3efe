"""One training or fine-tuning run, end to end: data, model, recipe, callbacks, test.

`keras-vit train` and `keras-vit demo` are thin wrappers around `train`. A run
writes into its output directory:

    checkpoints/epoch_NNN.keras  the model after each epoch (newest two kept)
    backup/                      state for resuming (`keras.callbacks.BackupAndRestore`)
    progress.json                the number of finished epochs
    log.csv, tensorboard/        per-epoch metrics
    model.keras                  the trained model
    classes.txt                  the data's class names, one a line, in the head's order
    run.json                     the run's settings, test scores and command (`run_record`)
"""

import contextlib
import dataclasses
import os
import sys

import keras

from keras_vit.data.load import load_source
from keras_vit.data.pipeline import (
    Augmentation,
    BatchSizeError,
    eval_pipeline,
    padded_eval_pipeline,
    train_pipeline,
    unpad_loss,
)
from keras_vit.data.subset import check_fraction, subset_size, subset_train
from keras_vit.evaluation import FewShotResult, few_shot, split_batches
from keras_vit.evaluation.sampling import check_shots
from keras_vit.models.vision_transformer import input_size
from keras_vit.training.callbacks import EpochCheckpoint, ProgressFile, SharedBackup, save_atomically
from keras_vit.training.distillation import check_distillation_arguments, distiller_for
from keras_vit.training.lora import DEFAULT_TARGETS, LoRASummary, RestartLoRA, check_lora_arguments, enable_lora
from keras_vit.training.placement import Placement, placement_for, prepare_fit
from keras_vit.training.precision import flush_denormals, set_mixed_precision
from keras_vit.training.recipes import RECIPES, classification_loss
from keras_vit.training.run_folder import prepare_out, resume_epoch
from keras_vit.training.run_record import RECORD_FILE, write_record
from keras_vit.utils.folders import removed_if_unwritten
from keras_vit.utils.validation import check_positive_int

# Written beside model.keras; `keras-vit predict` names the classes from it.
CLASS_NAMES_FILE = "classes.txt"


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything a run needs; `keras-vit train`'s flags map one to one onto it.

    Attributes:
        model: str. A variant or builder name ("S/16", "ViTB16"), a generic
            builder ("ViT", "ViTHybrid" or "ResNetV2") for a custom size
            given in `model_kwargs`, or a `.keras` file.
        out: str. The output directory.
        data: str. A `keras_vit.data.load_source` name. Defaults to "digits".
        data_dir: str or None. tensorflow-datasets' data directory.
        weights: None, a registry name or a checkpoint path.
        image_size: int or None. Input size; None keeps the model's default
            (or the weights'). Position embeddings are resampled on load.
        input_channels: int. The images' channels, for the data and the
            model: 1 reads grayscale data as it is, and an RGB checkpoint's
            input kernel is adapted (see `keras_vit.ViT`). Defaults to 3.
        model_kwargs: dict. Further builder arguments.
        epochs, batch_size: ints.
        recipe: "finetune" (SGD, cosine), "pretrain" (AdamW, linear decay) or
            "masked_patch" (Adam, cosine): a key of `RECIPES`.
        learning_rate: float or None. The peak learning rate, used as given.
            None takes the recipe's, scaled linearly from the recipe's batch
            size (512 or 4096) to `batch_size` (see `Recipe`).
        weight_decay, warmup_steps: None keeps the recipe's.
        decay: None keeps the recipe's, or "cosine"/"linear".
        label_smoothing, dropout_rate, stochastic_depth_rate: floats.
        remat: bool. Build the model with `remat=True`: every Transformer
            block is computed again in the backward pass (less memory, about
            a third more compute). A `.keras` file keeps its own setting.
        augmentation: a `keras_vit.data.Augmentation`; defaults to the paper's
            Inception crop and flip.
        crop_fraction: float. Evaluation centre crop.
        precision: "auto", "float32", "mixed_bfloat16" or "mixed_float16".
        seed: int.
        overwrite: bool. Replace a finished run's `model.keras` in `out`.
        verbose: int. Keras' progress-bar setting.
        lora_rank: int or None. Fine-tune low-rank adapters of this rank
            (`keras_vit.training.enable_lora`) and the classifier only, the
            rest frozen; None trains every weight.
        lora_targets: tuple of str. The block layers LoRA adapts, among
            `keras_vit.training.LORA_TARGETS`.
        lora_alpha: float or None. LoRA's scale numerator; None for the rank.
        train_fraction: float in (0, 1]. Train on this class-stratified
            share of the training split (`keras_vit.data.subset`), repeated
            so that an epoch has as many examples as the whole split. The
            few-shot pool stays the whole split. Defaults to 1.
        few_shot: tuple of int. After training, the few-shot linear accuracy
            of the model's features with this many training images per class
            (`keras_vit.evaluation.few_shot`, 3 seeds, the test split
            scored); empty for none.
        distribute: None, "data" or "model": train over several devices
            (`keras_vit.training.distribute`; JAX or TensorFlow). `batch_size`
            stays the global batch, split between the data-parallel replicas.
        model_parallel: int. Devices sharing one model replica for
            `distribute="model"`.
        multi_worker: bool. This process is one of a multi-process job (its
            environment says which, see `keras_vit.training.distribute`);
            every process runs the same config, process 0 writes the files.
        teacher: str or None. A trained model's `.keras` file (any Keras
            model with logits for the data's classes) that teaches the model
            as DeiT does (`keras_vit.training.DeiTDistiller`): through its
            distillation head if it has a distillation token
            (`model_kwargs={"distillation_token": True}`), else its output.
            The saved model is the student alone. None trains on the labels.
        distillation: str or None. `"hard"` or `"soft"`; None is `"hard"`
            with a teacher. Needs `teacher`.
        distillation_alpha: float or None. The distillation term's weight;
            None takes DeiT's (0.5 hard, 0.1 soft).
        distillation_temperature: float. Soft distillation's temperature.
    """

    model: str
    out: str
    data: str = "digits"
    data_dir: str | None = None
    weights: str | None = None
    image_size: int | None = None
    input_channels: int = 3
    model_kwargs: dict = dataclasses.field(default_factory=dict)
    epochs: int = 10
    batch_size: int = 64
    recipe: str = "finetune"
    learning_rate: float | None = None
    weight_decay: float | None = None
    warmup_steps: int | None = None
    decay: str | None = None
    label_smoothing: float = 0.0
    dropout_rate: float = 0.0
    stochastic_depth_rate: float = 0.0
    remat: bool = False
    augmentation: Augmentation = Augmentation()
    crop_fraction: float = 0.875
    precision: str = "float32"
    seed: int = 0
    overwrite: bool = False
    verbose: int | str = "auto"
    lora_rank: int | None = None
    lora_targets: tuple = DEFAULT_TARGETS
    lora_alpha: float | None = None
    train_fraction: float = 1.0
    few_shot: tuple = ()
    distribute: str | None = None
    model_parallel: int = 2
    multi_worker: bool = False
    teacher: str | None = None
    distillation: str | None = None
    distillation_alpha: float | None = None
    distillation_temperature: float = 3.0


@dataclasses.dataclass
class TrainResult:
    """What a run produced: its model, test metrics, history and files, its
    few-shot accuracies if `TrainConfig.few_shot` asked for them, the
    number of distinct training examples it saw, and where it ran (a
    `keras_vit.training.placement.Placement`)."""

    model: object
    test_accuracy: float
    test_loss: float
    history: dict
    model_path: str
    resumed_from_epoch: int
    lora: LoRASummary | None = None
    few_shot: FewShotResult | None = None
    train_examples: int | None = None
    placement: Placement = Placement()


def train(config, on_start=None):
    """Runs `config`: builds the data and the model, fits, tests and saves.

    A run interrupted at any point resumes from its last finished epoch when
    started again with the same `out`; a finished run is not overwritten
    unless `config.overwrite`.

    Args:
        config: `TrainConfig`.
        on_start: callable or None. Called with `config` and the data's
            `keras_vit.data.Source` once the data is open and the batch checked
            against it, before the model is built: where a caller says what
            will run. Defaults to None.

    Returns:
        A `TrainResult`.

    Raises:
        keras_vit.data.pipeline.BatchSizeError: when `config.batch_size` is
            more than the training split's examples (before the model is built).
    """
    placement = _checked_placement(config)
    # A run that fails before writing anything (its data, its model) leaves no empty
    # `out`; processes of a multi-process job that do not write it leave it alone.
    with removed_if_unwritten(config.out) if placement.writes else contextlib.nullcontext():
        return _train(config, on_start, placement)


def _checked_placement(config):
    """Checks `config`'s arguments; returns its `Placement`."""
    check_positive_int("epochs", config.epochs)
    check_positive_int("input_channels", config.input_channels)
    if config.recipe not in RECIPES:
        raise ValueError(f"`recipe` must be one of {sorted(RECIPES)}. Received: recipe={config.recipe!r}")
    if config.lora_rank is not None:
        check_lora_arguments(config.lora_rank, config.lora_targets, config.lora_alpha, prefix="lora_")
    if config.few_shot:
        check_shots(config.few_shot)
    check_fraction("train_fraction", config.train_fraction)
    check_distillation_arguments(
        config.teacher, _distillation(config), config.distillation_alpha, config.distillation_temperature
    )
    placement = placement_for(config.distribute, config.model_parallel, config.multi_worker)
    placement.check_batch(config.batch_size)
    if config.few_shot and placement.num_processes > 1:
        raise ValueError(
            "`few_shot` needs the whole model in one process; evaluate the saved model.keras "
            f"afterwards (keras-vit evaluate). Received: few_shot={config.few_shot!r} with "
            f"{placement.num_processes} processes"
        )
    return placement


def _train(config, on_start, placement):
    paths = prepare_out(
        config.out, "model.keras", config.overwrite, classes=CLASS_NAMES_FILE, record=RECORD_FILE,
        checkpoints="checkpoints", tensorboard="tensorboard", writes=placement.writes,
    )
    start_numerics(config)
    source = load_source(
        config.data, data_dir=config.data_dir, image_size=config.image_size or 32, seed=config.seed,
        channels=config.input_channels,
    )
    started(config, source, on_start)
    resumed = resume_epoch(paths, writes=placement.writes)
    with placement.scope():
        model = build_model_for(config, source.num_classes)
        lora = _enable_lora(config, model)
        image_size = input_size(model)  # a dynamic-size model trains at its built size
        subset = subset_train(source, config.train_fraction, config.seed)
        train_data, evaluate = run_data(config, subset, image_size, placement.pads_evaluation, resumed)
        steps = config.epochs * (source.sizes["train"] // config.batch_size)
        fitted = distiller_for(
            model, config.teacher, source.num_classes, _distillation(config),
            config.distillation_alpha, config.distillation_temperature,
        )
        for compiled in {id(fitted): fitted, id(model): model}.values():  # a distiller's student tests alone
            compiled.compile(
                optimizer=optimizer_for(config, steps),
                loss=classification_loss(config.label_smoothing),
                # Weighted: the padding of a multi-process run's evaluation (weight 0) then counts
                # for nothing; plain metrics ignore the weights and counted it as misclassified.
                weighted_metrics=["accuracy"],
            )
    prepare_fit(fitted, placement, train_data.element_spec)

    history = _fit(fitted, train_data, evaluate, source, config, paths, lora, placement)
    test_loss, test_accuracy = model.evaluate(evaluate("test"), verbose=0)
    if placement.pads_evaluation:
        test_loss = unpad_loss(test_loss, source.sizes["test"], config.batch_size)
    with placement.saving(model) as writes:
        if writes:
            save_atomically(model, paths["product"])
            _write_class_names(source.class_names, paths["classes"])
    result = TrainResult(
        model, float(test_accuracy), float(test_loss), history.history, paths["product"], resumed, lora,
        _few_shot(config, model, source, paths["product"]) if config.few_shot else None,
        subset_size(subset), placement,
    )
    if placement.writes:
        write_record(paths["record"], config, result)
    return result


def _distillation(config):
    """The run's kind of distillation: "hard" with a teacher unless said, None without."""
    return config.distillation or ("hard" if config.teacher else None)


def started(config, source, on_start):
    """Checks the batch against the data's training split, then calls `on_start`
    (see `train`): both before any model is built."""
    if config.batch_size > source.sizes["train"]:
        raise BatchSizeError(config.batch_size, source.sizes["train"])
    if on_start is not None:
        on_start(config, source)


def start_numerics(config):
    """What every training run sets first: Keras' seed, the dtype policy of
    `config.precision`, and denormals flushed (`flush_denormals`)."""
    keras.utils.set_random_seed(config.seed)
    set_mixed_precision(config.precision)
    flush_denormals()


def _fit(model, train_data, evaluate, source, config, paths, lora, placement):
    return model.fit(
        train_data,
        validation_data=evaluate("validation") if source.sizes["validation"] else None,
        epochs=config.epochs,
        # One stream of all epochs (`run_data`), so that a resumed run keeps the order.
        steps_per_epoch=source.sizes["train"] // config.batch_size,
        # The pipeline shuffles, seeded; fit cannot shuffle a dataset and warns if asked to.
        shuffle=False,
        callbacks=[
            *_unpadding(placement, source.sizes["validation"], config.batch_size),
            *_callbacks(paths, lora=lora is not None, seed=config.seed, placement=placement),
        ],
        verbose=config.verbose,
    )


def _few_shot(config, model, source, saved):
    """`config.few_shot`'s accuracies of the trained model: the train split is
    the pool, the test split scored, both cropped as the test accuracy's."""
    train_data, test_data = (
        split_batches(source, split, model, config.batch_size, config.crop_fraction) for split in ("train", "test")
    )
    try:
        return few_shot(model, train_data, test_data, shots=config.few_shot)
    except ValueError as error:
        raise ValueError(f"{error} (few-shot evaluation; the trained model is saved to {saved})") from None


def run_data(config, source, image_size, padded=False, first_epoch=0):
    """`config`'s seeded, augmented training pipeline over `source`, the
    batches of its epochs from `first_epoch` on in one stream, and a function
    from a split's name to its evaluation pipeline (whole, weighted batches
    if `padded`: `keras_vit.data.pipeline.padded_eval_pipeline`)."""
    train_data = train_pipeline(
        source.splits["train"], source.num_classes, image_size, config.batch_size,
        config.augmentation, size=source.sizes["train"], seed=config.seed,
        epochs=config.epochs, first_epoch=first_epoch,
    )

    def evaluate(split):
        if padded:
            return padded_eval_pipeline(
                source.splits[split], source.num_classes, image_size, config.batch_size,
                source.sizes[split], config.crop_fraction,
            )
        return eval_pipeline(
            source.splits[split], source.num_classes, image_size, config.batch_size, config.crop_fraction
        )

    return train_data, evaluate


def _unpadding(placement, size, batch_size):
    """A callback that makes the validation loss over padded batches the split's mean, if padded."""
    if not (placement.pads_evaluation and size):
        return []

    def unpad(epoch, logs):
        if "val_loss" in logs:
            logs["val_loss"] = unpad_loss(logs["val_loss"], size, batch_size)

    return [keras.callbacks.LambdaCallback(on_epoch_end=unpad)]


def _write_class_names(class_names, path):
    """One class name per line, in the order of the model's outputs."""
    partial = path + ".partial"
    with open(partial, "w", encoding="utf-8") as file:
        file.write("".join(f"{name}\n" for name in class_names))
    os.replace(partial, path)


def build_model_for(config, num_classes):
    """The model `config` names, with a head for `num_classes` (a `.keras` file must have one)."""
    from keras_vit.models.builders import build_model

    if config.model.endswith(".keras"):
        model = build_model(config.model, weights=config.weights)
        if model.output_shape[-1] != num_classes:
            raise ValueError(
                f"{config.model} has {model.output_shape[-1]} outputs but the data has "
                f"{num_classes} classes; start from its weights instead (weights=...)."
            )
        if model.input_shape[-1] != config.input_channels:
            raise ValueError(
                f"{config.model} takes images of {model.input_shape[-1]} channels; the data is read with "
                f"input_channels={config.input_channels}. Pass input_channels={model.input_shape[-1]} (--input-channels)."
            )
        return model
    kwargs = dict(config.model_kwargs, num_classes=num_classes, input_channels=config.input_channels)
    if config.image_size:
        kwargs["image_size"] = config.image_size
    if config.model == "ResNetV2":
        return _resnet_for(config, kwargs)
    kwargs.update(
        dropout_rate=config.dropout_rate, stochastic_depth_rate=config.stochastic_depth_rate, remat=config.remat
    )
    if config.model in GENERIC_BUILDERS:
        return GENERIC_BUILDERS[config.model]()(weights=config.weights, **kwargs)
    return build_model(config.model, weights=config.weights, **kwargs)


def _vit():
    from keras_vit.models.vit_builder import ViT

    return ViT


def _hybrid():
    from keras_vit.models.hybrid import ViTHybrid

    return ViTHybrid


# `TrainConfig.model` names that build a custom size from `model_kwargs`.
GENERIC_BUILDERS = {"ViT": _vit, "ViTHybrid": _hybrid}


def _resnet_for(config, kwargs):
    """BiT's ResNetV2 of `model_kwargs`' `layers` and `width`: it has no dropout,
    stochastic depth or Transformer blocks to recompute, so those must stay off."""
    from keras_vit.models.resnet_v2 import ResNetV2

    unused = {"dropout_rate": 0.0, "stochastic_depth_rate": 0.0, "remat": False}
    given = {name: getattr(config, name) for name, off in unused.items() if getattr(config, name) != off}
    if given:
        raise ValueError(
            "A ResNetV2 has no dropout, stochastic depth or Transformer blocks to recompute: "
            f"leave them off. Received: {', '.join(f'{k}={v!r}' for k, v in given.items())}"
        )
    return ResNetV2(weights=config.weights, **kwargs)


def _enable_lora(config, model):
    if config.lora_rank is None:
        return None
    summary = enable_lora(model, config.lora_rank, config.lora_targets, config.lora_alpha)
    print(f"keras_vit: {summary}", file=sys.stderr)
    return summary


def optimizer_for(config, steps):
    """`config`'s recipe with its overrides, as an optimizer for a run of `steps` steps."""
    changes = {
        "learning_rate": config.learning_rate,
        "weight_decay": config.weight_decay,
        "warmup_steps": config.warmup_steps,
        "decay": config.decay,
    }
    recipe = RECIPES[config.recipe].replace(**{k: v for k, v in changes.items() if v is not None})
    # A rate given explicitly was chosen for this run's batch: it is not scaled.
    batch_size = config.batch_size if config.learning_rate is None else None
    return recipe.optimizer(steps, batch_size)


def _callbacks(paths, lora=False, seed=0, placement=Placement()):
    # Keras restores LoRA layers merged, with both factors zero: redraw one.
    restart = [RestartLoRA(seed)] if lora else []
    if not placement.writes:
        # The other processes restore from the backup process 0 writes and
        # join its saves (in the same order: a save may gather weights).
        return [SharedBackup(paths["backup"], placement), *restart, EpochCheckpoint(paths["checkpoints"], placement=placement)]
    return [
        # Before the backup, so no epoch the backup holds lacks its row; a row
        # written by a run killed before its backup is dropped on resume.
        keras.callbacks.CSVLogger(paths["log"], append=True),
        SharedBackup(paths["backup"], placement),
        *restart,
        # Right after the backup, so the progress never counts an epoch the
        # backup has not saved.
        ProgressFile(paths["progress"]),
        EpochCheckpoint(paths["checkpoints"], placement=placement),
        keras.callbacks.TensorBoard(paths["tensorboard"]),
    ]
