"""The ablation runner: the paper's table layout, its files, and a smoke run of `keras-vit ablate`."""

import csv
import dataclasses

import types

import keras
import pytest

import keras_vit
from keras_vit import ablation
from keras_vit.ablation import AblationRow, suite
from keras_vit.ablation.report import text_table
from keras_vit.cli import main
from keras_vit.cli.ablate import QUICK_CELLS
from keras_vit.training.run import TrainConfig


def _rows():
    rows = [AblationRow("position", f"{k}/{p}", k, p, 0.5 + i / 100, 1.0, f"runs/{k}-{p}")
            for i, (k, p) in enumerate(ablation.CELLS)]
    rows += [AblationRow("pretraining", "scratch", "learned_1d", "stem", 0.51, 1.0, "runs/s"),
             AblationRow("pretraining", "masked_patch", "learned_1d", "stem", 0.6, 2.0, "runs/m")]
    return rows


def test_cells_are_the_papers_eight_and_sincos():
    assert len(ablation.CELLS) == 9 and set(ablation.CELLS[:8]) == set(ablation.PAPER_IMAGENET_5SHOT)
    assert ablation.CELLS[8] == ("sincos_2d", "stem")


def test_the_table_has_the_papers_layout():
    table = ablation.position_table(_rows()[:3])   # none, 1D stem, 1D every layer
    assert table == [
        ["", "Default/Stem", "Every Layer", "Every Layer-Shared"],
        ["No Pos. Emb.", "0.5000", "N/A", "N/A"],
        ["1-D Pos. Emb.", "0.5100", "0.5200", "-"],
        ["2-D Pos. Emb.", "-", "-", "-"],
        ["Rel. Pos. Emb.", "-", "N/A", "N/A"],
        ["2-D Sin-Cos (fixed)", "-", "N/A", "N/A"],
    ]
    paper = ablation.position_table([], ablation.PAPER_IMAGENET_5SHOT)
    assert len(paper) == 5   # the paper's four kinds
    assert paper[2] == ["1-D Pos. Emb.", "0.6421", "0.6396", "0.6429"]
    assert text_table(table).splitlines()[1].split() == ["No", "Pos.", "Emb.", "0.5000", "N/A", "N/A"]


def test_markdown_and_csv_hold_every_run(tmp_path):
    rows = _rows()
    text = ablation.markdown_tables(rows)
    assert "| Rel. Pos. Emb. | 0.5700 | N/A | N/A |" in text
    assert "| 2-D Sin-Cos (fixed) | 0.5800 | N/A | N/A |" in text
    assert "| Rel. Pos. Emb. | 0.6403 | N/A | N/A |" in text   # the paper's
    assert "| masked patch pre-training + fine-tuning | 0.6000 | 2 |" in text
    path = tmp_path / "results.csv"
    ablation.write_csv(rows, path)
    with open(path) as file:
        lines = list(csv.DictReader(file))
    assert len(lines) == 11
    assert lines[0]["paper_imagenet_5shot"] == "0.61382" and lines[-1]["paper_imagenet_5shot"] == ""
    assert lines[8]["paper_imagenet_5shot"] == ""   # sin-cos: not in the paper
    assert [float(line["test_accuracy"]) for line in lines] == [r.test_accuracy for r in rows]


def test_the_chart_is_drawn(tmp_path):
    figure = ablation.plot_ablation(_rows(), tmp_path / "ablation.png")
    assert (tmp_path / "ablation.png").stat().st_size > 0
    assert len(figure.axes[0].patches) == 11
    labels = [text.get_text() for text in figure.axes[0].get_xticklabels()]
    assert "learned 1d\nevery layer,\nshared" in labels and "none\nstem" in labels
    with pytest.raises(ValueError, match=r"at least one AblationRow of the position or pretraining experiment"):
        ablation.plot_ablation([])


@pytest.mark.backend_independent(reason="a matplotlib figure and Markdown of given rows")
@pytest.mark.parametrize("experiments, title", [
    (("position",), "Position embeddings"),
    (("pretraining",), "From scratch against masked patch pre-training"),
    (("position", "pretraining"), "Position embeddings (blue) and masked patch pre-training (orange)"),
])
def test_the_chart_and_its_section_name_only_the_experiments_that_ran(experiments, title):
    rows = [row for row in _rows() if row.experiment in experiments]
    assert ablation.plot_ablation(rows).axes[0].get_title() == title
    heading = next(line for line in suite.markdown_report(rows).splitlines() if line.startswith("## "))
    assert ("masked patch" in heading.lower()) == ("pretraining" in experiments)
    assert ("position" in heading.lower()) == ("position" in experiments)


def test_bad_requests_fail_before_training(tmp_path):
    config = TrainConfig(model="ViT", out=str(tmp_path))
    with pytest.raises(ValueError, match=r"`cells` must hold cells of the paper's table.*\('relative', 'every_layer'\)"):
        ablation.run_position_ablation(config, cells=[("relative", "every_layer")])
    with pytest.raises(ValueError, match="`model` must be 'ViT'.*Received: model='S/16'"):
        ablation.run_position_ablation(dataclasses.replace(config, model="S/16"))
    assert not any(tmp_path.iterdir())


@pytest.mark.skipif(
    keras.backend.backend() != "torch",
    reason="trains five models; runs under KERAS_BACKEND=torch only, to keep CI's three runs short "
    "(the position embeddings and pre-training it calls are tested on every backend)",
)
def test_quick_ablation_writes_the_table_and_its_files(tmp_path, capsys):
    out = tmp_path / "ablation"
    assert main(["ablate", "--quick", "--out", str(out)]) == 0
    printed = capsys.readouterr()
    assert "keras-vit ablate: position, pretraining with ViT" in printed.err
    assert "Rel. Pos. Emb." in printed.out and "pretraining masked_patch: test accuracy" in printed.out
    with open(out / "results.csv") as file:
        lines = list(csv.DictReader(file))
    assert [line["name"] for line in lines] == [f"{k}/{p}" for k, p in QUICK_CELLS] + ["scratch", "masked_patch"]
    assert all(0.0 <= float(line["test_accuracy"]) <= 1.0 for line in lines)
    assert all(0.0 <= float(line["few_shot_5"]) <= 1.0 for line in lines)
    report = (out / "report.md").read_text()
    assert (out / "ablation.png").stat().st_size > 0 and "N/A" in report and "5-shot linear accuracy" in report
    assert (out / "pretraining" / "pretrain" / "seed_0" / "encoder.keras").exists()
    trained = {cell: keras.saving.load_model(out / "position" / "-".join(cell) / "seed_0" / "model.keras")
               for cell in QUICK_CELLS}
    expected = _position_weights(_reference_models())
    assert _position_weights(trained) == {cell: expected[cell] for cell in QUICK_CELLS}


def _reference_models():
    """A small two-block ViT per cell (two blocks: with one, the placements coincide)."""
    sizes = dict(image_size=16, patch_size=4, hidden_dim=16, num_layers=2, num_heads=2, mlp_dim=32, num_classes=3)
    return {(kind, placement): keras_vit.ViT(**sizes, position_embedding=kind, position_embedding_placement=placement)
            for kind, placement in ablation.CELLS}


def _position_weights(models):
    """Per cell, the weights its model has beyond the model without position embeddings,
    and the kind of the layer after the stem (sin-cos learns nothing: its layer tells it apart)."""
    plain = {w.path for w in models["none", "stem"].weights}
    found = {cell: (frozenset(w.path for w in model.weights) - plain,
                    type(model.get_layer("pos_embedding")).__name__) for cell, model in models.items()}
    assert len(set(found.values())) == len(found), found  # every cell tells itself apart
    return found


def test_each_cell_trains_a_model_with_its_position_embedding(tmp_path, monkeypatch):
    # What train() builds, recorded instead of trained: the runner's part is the config it passes.
    from keras_vit.training import run as training_run

    built = []

    def build_only(config):
        model = training_run.build_model_for(config, num_classes=3)
        model.compile(optimizer="sgd")
        built.append(model)
        few_shot = types.SimpleNamespace(mean={k: 0.25 for k in config.few_shot})
        return types.SimpleNamespace(test_accuracy=0.5, few_shot=few_shot, model=model, history={},
                                     train_examples=10)

    monkeypatch.setattr(training_run, "train", build_only)
    sizes = dict(patch_size=4, hidden_dim=16, num_layers=2, num_heads=2, mlp_dim=32)
    config = TrainConfig(model="ViT", image_size=16, model_kwargs=sizes, out=str(tmp_path))
    rows = ablation.run_position_ablation(config, log=lambda line: None)
    assert [(row.position_embedding, row.placement) for row in rows] == list(ablation.CELLS)
    assert _position_weights(dict(zip(ablation.CELLS, built, strict=True))) == _position_weights(_reference_models())


def test_each_seed_of_a_cell_trains_with_that_seed_in_a_folder_of_its_own(tmp_path, monkeypatch):
    from keras_vit.training import run as training_run

    trained = []

    def build_only(config):
        trained.append(config)
        model = training_run.build_model_for(config, num_classes=3)
        model.compile(optimizer="sgd")
        few_shot = types.SimpleNamespace(mean={k: 0.25 for k in config.few_shot})
        return types.SimpleNamespace(test_accuracy=0.5, few_shot=few_shot, model=model, history={},
                                     train_examples=10)

    monkeypatch.setattr(training_run, "train", build_only)
    sizes = dict(patch_size=4, hidden_dim=16, num_layers=1, num_heads=2, mlp_dim=32)
    config = TrainConfig(model="ViT", image_size=16, model_kwargs=sizes, out=str(tmp_path), seed=5)
    cells = ablation.CELLS[:2]
    rows = ablation.run_position_ablation(config, cells=cells, seeds=2, log=lambda line: None)
    assert [run.seed for run in trained] == [row.seed for row in rows] == [5, 6, 5, 6]
    assert len({run.out for run in trained}) == 4
