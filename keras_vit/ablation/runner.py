"""Training one model per cell of the paper's ablations, all else equal."""

import dataclasses
import os
import time

from keras_vit.layers.position_embedding import POSITION_EMBEDDING_PLACEMENTS

# The valid cells of the paper's Table 8 (Appendix D.4): "none" and "relative"
# add nothing to the tokens, so only their "stem" cell exists (the paper's N/A);
# then big_vision's fixed sin-cos embedding, beyond the paper, at the stem.
CELLS = (
    ("none", "stem"),
    *(("learned_1d", placement) for placement in POSITION_EMBEDDING_PLACEMENTS),
    *(("learned_2d", placement) for placement in POSITION_EMBEDDING_PLACEMENTS),
    ("relative", "stem"),
    ("sincos_2d", "stem"),
)


@dataclasses.dataclass(frozen=True)
class AblationRow:
    """One trained model of an ablation.

    Attributes:
        experiment: str. `"position"` or `"pretraining"`.
        name: str. The cell, e.g. `"learned_2d/every_layer"`, or `"scratch"`
            and `"masked_patch"`.
        position_embedding, placement: str. The model's position embedding.
        test_accuracy: float. Top-1 accuracy on the data's test split.
        seconds: float. Wall time of the run (pre-training included).
        path: str. The run's output directory.
    """

    experiment: str
    name: str
    position_embedding: str
    placement: str
    test_accuracy: float
    seconds: float
    path: str


def run_position_ablation(config, cells=CELLS, log=print):
    """Trains `config`'s model once per position-embedding cell.

    Every run is `config` with the cell's `position_embedding` and
    `position_embedding_placement` added to its `model_kwargs` and its own
    output folder, `config.out/position/KIND-PLACEMENT`; the seed, data and
    recipe are the same for all.

    Args:
        config: `keras_vit.training.TrainConfig` of a `"ViT"` model.
        cells: pairs `(position_embedding, placement)`. Defaults to `CELLS`.
        log: callable taking a line of progress. Defaults to `print`.

    Returns:
        A list of `AblationRow`, one per cell, in order.
    """
    _check_config(config)
    cells = [_check_cell(cell) for cell in cells]
    rows = []
    for index, (kind, placement) in enumerate(cells):
        out = os.path.join(config.out, "position", f"{kind}-{placement}")
        log(f"[{index + 1}/{len(cells)}] position_embedding={kind!r}, placement={placement!r}")
        accuracy, seconds = _timed_train(_with_position(config, kind, placement, out))
        rows.append(AblationRow("position", f"{kind}/{placement}", kind, placement, accuracy, seconds, out))
        log(f"    test accuracy {accuracy:.4f} ({seconds:.0f} s)")
    return rows


def run_pretraining_ablation(config, pretrain_config, scratch=None, target="mean_color", log=print):
    """From scratch against masked patch pre-training, on the same fine-tuning budget.

    The pre-training run is `pretrain_config` (its own epochs and recipe; the
    labels unused); the fine-tuning run is `config` started from the
    pre-trained encoder. The from-scratch run is `config` itself, or the row
    `scratch` of a position ablation that already trained it.

    Args:
        config: `TrainConfig` of the supervised run (a `"ViT"` model).
        pretrain_config: `TrainConfig` of the pre-training run, same model.
        scratch: `AblationRow` or None. A finished run of `config`.
            Defaults to None (trained here).
        target: str. The masked-patch target. Defaults to `"mean_color"`.
        log: callable taking a line of progress. Defaults to `print`.

    Returns:
        Two `AblationRow`s: `"scratch"` and `"masked_patch"`.
    """
    from keras_vit.pretraining.run import pretrain

    _check_config(config)
    kind = config.model_kwargs.get("position_embedding", "learned_1d")
    placement = config.model_kwargs.get("position_embedding_placement", "stem")
    if scratch is None:
        out = os.path.join(config.out, "pretraining", "scratch")
        log("from scratch")
        accuracy, seconds = _timed_train(dataclasses.replace(config, out=out))
        scratch = AblationRow("pretraining", "scratch", kind, placement, accuracy, seconds, out)
    scratch = dataclasses.replace(scratch, experiment="pretraining", name="scratch")
    log(f"masked patch pre-training ({pretrain_config.epochs} epoch(s)), then fine-tuning")
    start = time.perf_counter()
    pretrained = pretrain(
        dataclasses.replace(pretrain_config, out=os.path.join(config.out, "pretraining", "pretrain")),
        target=target,
    )
    out = os.path.join(config.out, "pretraining", "fine_tune")
    accuracy, _ = _timed_train(dataclasses.replace(config, out=out, weights=pretrained.encoder_path))
    seconds = time.perf_counter() - start
    log(f"    test accuracy {accuracy:.4f} (from scratch: {scratch.test_accuracy:.4f})")
    return [scratch, AblationRow("pretraining", "masked_patch", kind, placement, accuracy, seconds, out)]


def _timed_train(config):
    from keras_vit.training.run import train

    start = time.perf_counter()
    result = train(config)
    return float(result.test_accuracy), time.perf_counter() - start


def _with_position(config, kind, placement, out):
    kwargs = dict(config.model_kwargs, position_embedding=kind, position_embedding_placement=placement)
    return dataclasses.replace(config, model_kwargs=kwargs, out=out)


def _check_config(config):
    if config.model != "ViT":
        raise ValueError(
            "An ablation builds its models with `keras_vit.ViT` and changes one builder "
            "argument at a time: `model` must be 'ViT', its size in `model_kwargs`. "
            f"Received: model={config.model!r}"
        )


def _check_cell(cell):
    if tuple(cell) not in CELLS:
        expected = ", ".join(f"{kind}/{placement}" for kind, placement in CELLS)
        raise ValueError(f"`cells` must hold cells of the paper's table: {expected}. Received: {cell!r}")
    return tuple(cell)
