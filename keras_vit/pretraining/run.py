"""One masked-patch-prediction pre-training run, end to end: data, encoder, recipe, fit, save.

`keras-vit pretrain` is a thin wrapper around `pretrain`. It takes the same
`keras_vit.training.TrainConfig` as `keras_vit.training.train`, so the data
sources, models and optimiser flags are the same. A run writes into its
output directory:

    encoder.keras   the pre-trained ViT, its (untrained) head included: start
                    fine-tuning from it with `keras-vit train --weights` or
                    `keras_vit.ViT(..., weights="encoder.keras")`
    backup/         state for resuming (`keras.callbacks.BackupAndRestore`)
    progress.json   the number of finished epochs
    log.csv         per-epoch loss and masked-patch accuracy
"""

import dataclasses

import keras

from keras_vit.data.load import load_source
from keras_vit.models.vision_transformer import config_of
from keras_vit.pretraining.masked_patch import MaskedPatchPrediction, check_rates
from keras_vit.pretraining.targets import TARGETS
from keras_vit.training.callbacks import ProgressFile, save_atomically
from keras_vit.training.recipes import RECIPES
from keras_vit.training.run import build_model_for, optimizer_for, run_data, start_numerics, started
from keras_vit.training.run_folder import prepare_out, resume_epoch
from keras_vit.utils.folders import removed_if_unwritten
from keras_vit.utils.validation import check_choice, check_positive_int

ENCODER_FILE = "encoder.keras"


@dataclasses.dataclass
class PretrainResult:
    """What a pre-training run produced.

    Attributes:
        model: `MaskedPatchPrediction`. The trained wrapper; `model.encoder`
            is the pre-trained ViT.
        history: dict. `fit`'s per-epoch logs.
        test_metrics: dict. Loss (and masked-patch accuracy) on the test split.
        encoder_path: str. Where the encoder was saved.
        resumed_from_epoch: int. Epochs an earlier, interrupted run had done.
    """

    model: object
    history: dict
    test_metrics: dict
    encoder_path: str
    resumed_from_epoch: int


def pretrain(config, target="mean_color", mask_rate=0.5, on_start=None):
    """Pre-trains `config`'s model by masked patch prediction on `config`'s data.

    The data's labels are not used. An interrupted run resumes from its last
    finished epoch when started again with the same `out`; a finished run is
    not overwritten unless `config.overwrite`.

    Args:
        config: `keras_vit.training.TrainConfig`. Its `recipe` should be
            `"masked_patch"` (the paper's Adam, 2e-4 at batch 4096, cosine);
            `label_smoothing`, MixUp and CutMix must be off, having no labels
            to act on.
        target: str. What is predicted, a `MaskedPatchPrediction` target.
            Defaults to `"mean_color"`.
        mask_rate: float. Fraction of each image's patches corrupted.
            Defaults to 0.5.
        on_start: callable or None. Called with `config` and the data's
            `Source` once the data is open and the batch checked against it,
            before the model is built (see `keras_vit.training.train`).
            Defaults to None.

    Returns:
        A `PretrainResult`.
    """
    # A run that fails before writing anything (its data, its model) leaves no empty `out`.
    with removed_if_unwritten(config.out):
        return _pretrain(config, target, mask_rate, on_start)


def _pretrain(config, target, mask_rate, on_start):
    check_positive_int("epochs", config.epochs)
    _check_config(config)
    # Checked again by the model; here, before any data is read.
    check_choice("target", target, TARGETS)
    check_rates(mask_rate)
    paths = prepare_out(config.out, ENCODER_FILE, config.overwrite, action="pre-train")
    start_numerics(config)
    source = load_source(
        config.data, data_dir=config.data_dir, image_size=config.image_size or 32, seed=config.seed,
        channels=config.input_channels,
    )
    started(config, source, on_start)
    encoder = _encoder(config, source.num_classes)
    model = MaskedPatchPrediction(encoder, target=target, mask_rate=mask_rate, seed=config.seed)
    image_size = config_of(encoder).image_size
    resumed = resume_epoch(paths)
    train_data, evaluate = run_data(config, source, image_size, first_epoch=resumed)
    steps = config.epochs * (source.sizes["train"] // config.batch_size)
    model.compile(optimizer=optimizer_for(config, steps))

    history = model.fit(
        train_data,
        validation_data=evaluate("validation") if source.sizes["validation"] else None,
        epochs=config.epochs,
        # One stream of all epochs (`run_data`), so that a resumed run keeps the order.
        steps_per_epoch=source.sizes["train"] // config.batch_size,
        shuffle=False,  # the pipeline shuffles, seeded
        callbacks=[
            keras.callbacks.CSVLogger(paths["log"], append=True),
            keras.callbacks.BackupAndRestore(paths["backup"], double_checkpoint=True),
            ProgressFile(paths["progress"]),
        ],
        verbose=config.verbose,
    )
    test_metrics = model.evaluate(evaluate("test"), verbose=0, return_dict=True)
    save_atomically(encoder, paths["product"])
    return PretrainResult(model, history.history, test_metrics, paths["product"], resumed)


def _check_config(config):
    if config.recipe not in RECIPES:
        raise ValueError(f"`recipe` must be one of {sorted(RECIPES)}. Received: recipe={config.recipe!r}")
    unused = {
        "label_smoothing": config.label_smoothing,
        "mixup": config.augmentation.mixup,
        "cutmix": config.augmentation.cutmix,
    }
    for name, value in unused.items():
        if value:
            raise ValueError(
                f"`{name}` acts on labels, which masked patch prediction does not use; "
                f"leave it at 0. Received: {name}={value!r}"
            )


def _encoder(config, num_classes):
    """The model `config` names; a saved model's head may have any number of classes."""
    if config.model.endswith(".keras"):
        from keras_vit.models.builders import build_model

        return build_model(config.model, weights=config.weights)
    return build_model_for(config, num_classes)
