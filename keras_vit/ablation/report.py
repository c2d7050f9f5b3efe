"""The ablations' results laid out as the paper lays them out: text, Markdown, CSV, a chart."""

import csv
import dataclasses
import math

from keras_vit.ablation.result_row import AblationRow
from keras_vit.ablation.seeds import LEGEND, cells, difference, marked, marks
from keras_vit.layers.position_embedding import LEARNED_KINDS
from keras_vit.utils.plotting import new_figure, save_figure

# The paper's Table 8 (Appendix D.4): ViT-B/16 on ImageNet, 5-shot linear accuracy.
PAPER_IMAGENET_5SHOT = {
    ("none", "stem"): 0.61382,
    ("learned_1d", "stem"): 0.64206,
    ("learned_1d", "every_layer"): 0.63964,
    ("learned_1d", "every_layer_shared"): 0.64292,
    ("learned_2d", "stem"): 0.64001,
    ("learned_2d", "every_layer"): 0.64046,
    ("learned_2d", "every_layer_shared"): 0.64022,
    ("relative", "stem"): 0.64032,
}
ROWS = (
    ("none", "No Pos. Emb."),
    ("learned_1d", "1-D Pos. Emb."),
    ("learned_2d", "2-D Pos. Emb."),
    ("relative", "Rel. Pos. Emb."),
    ("sincos_2d", "2-D Sin-Cos (fixed)"),
)
COLUMNS = (
    ("stem", "Default/Stem"),
    ("every_layer", "Every Layer"),
    ("every_layer_shared", "Every Layer-Shared"),
)
NOT_APPLICABLE = "N/A"
NOT_RUN = "-"


def position_table(rows, values=None, metric="test", markdown=False):
    """The position ablation as the paper's table: a header and one row per kind.

    Args:
        rows: `AblationRow`s; those of the position experiment are used, the
            seeds of a cell averaged.
        values: dict `{(kind, placement): accuracy}` to lay out instead of
            `rows`, e.g. `PAPER_IMAGENET_5SHOT`. Defaults to None.
        metric: `"test"` for the test accuracy, or a shot count for the
            few-shot linear accuracy. Defaults to `"test"`.
        markdown: bool. Mark the best cell in bold, not with ` *`. Defaults
            to False.

    Returns:
        A list of lists of str: `["", "Default/Stem", ...]`, then one row per
        kind: the accuracy to four decimals (`mean ± std` over several
        seeds, the best cell and those within its seed noise marked, see
        `keras_vit.ablation.seeds`), `"N/A"` where the paper has it and `"-"`
        for a cell that was not run. Given `values`, a kind without any
        (sin-cos in the paper's) gets no row.
    """
    kinds = ROWS
    if values is None:
        group = cells(rows, "position")
        found = marks(group, metric)
        values = {(c.first.position_embedding, c.first.placement): marked(c, found[c.name], markdown, metric)
                  for c in group}
    else:
        kinds = [(kind, label) for kind, label in ROWS if any(cell[0] == kind for cell in values)]
        values = {cell: f"{value:.4f}" for cell, value in values.items()}
    table = [[""] + [label for _, label in COLUMNS]]
    for kind, label in kinds:
        line = [label]
        for placement, _ in COLUMNS:
            if kind not in LEARNED_KINDS and placement != "stem":
                line.append(NOT_APPLICABLE)
            else:
                line.append(values.get((kind, placement), NOT_RUN))
        table.append(line)
    return table


def text_table(table):
    """`table` (lists of str) as aligned plain-text lines, for a terminal."""
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in table)


def markdown(table):
    """`table` (lists of str, the first the header) as a Markdown table."""
    lines = ["| " + " | ".join(table[0]) + " |", "|" + "---|" * len(table[0])]
    lines += ["| " + " | ".join(line) + " |" for line in table[1:]]
    return "\n".join(lines)


def shot_counts(rows):
    """The few-shot shot counts every row of `rows` has, increasing."""
    counts = [set(row.few_shot) for row in rows]
    return sorted(set.intersection(*counts)) if counts else []


def markdown_tables(rows, paper=True, legend=True):
    """The position and pre-training results as Markdown: the position table
    in the paper's layout by test accuracy and by few-shot linear accuracy
    (and the paper's own ImageNet figures beside them), then from scratch
    against pre-trained.

    Args:
        rows: `AblationRow`s of either experiment.
        paper: bool. Include the paper's Table 8. Defaults to True.
        legend: bool. End with the legend of the cells' marks, where a cell
            has several seeds. Defaults to True.

    Returns:
        A Markdown string.
    """
    parts = []
    position = [r for r in rows if r.experiment == "position"]
    if position:
        parts += ["Test accuracy by position embedding:", "", markdown(position_table(rows, markdown=True))]
        for k in shot_counts(position):
            parts += ["", f"{k}-shot linear accuracy of the trained encoder by position embedding:", "",
                      markdown(position_table(rows, metric=k, markdown=True))]
        if paper:
            parts += ["", "The paper's Table 8 (ViT-B/16, ImageNet 5-shot linear accuracy):", "",
                      markdown(position_table([], PAPER_IMAGENET_5SHOT))]
    pretraining = cells(rows, "pretraining")
    if pretraining:
        if parts:
            parts.append("")
        parts += [markdown(pretraining_table(rows))]
        if len(pretraining) == 2:
            shots = shot_counts([r for c in pretraining for r in c.rows])
            changes = [f"test accuracy {difference(*pretraining)}"]
            changes += [f"{k}-shot {difference(*pretraining, metric=k)}" for k in shots]
            parts += ["", "Pre-training changes " + ", ".join(changes) + "."]
    if legend and any(len(c.rows) > 1 for e in ("position", "pretraining") for c in cells(rows, e)):
        parts += ["", f"Cells: {LEGEND}."]
    return "\n".join(parts) + "\n"


def pretraining_table(rows):
    """From scratch against masked patch pre-training: test and few-shot
    accuracies (mean ± std over the seeds) and the mean wall time."""
    group = cells(rows, "pretraining")
    shots = shot_counts([r for c in group for r in c.rows])
    labels = {"scratch": "from scratch", "masked_patch": "masked patch pre-training + fine-tuning"}
    table = [["Training", "Test accuracy", *(f"{k}-shot" for k in shots), "Seconds"]]
    for cell in group:
        seconds = sum(r.seconds for r in cell.rows) / len(cell.rows)
        table.append([labels.get(cell.name, cell.name), cell.text(), *(cell.text(k) for k in shots),
                      f"{seconds:.0f}"])
    return table


def write_csv(rows, path):
    """Writes one line per `AblationRow` (per run, every seed), with a column
    per few-shot count, the training compute and the paper's figure where it
    has one."""
    skipped = {"few_shot", "curve"}
    fields = [field.name for field in dataclasses.fields(AblationRow) if field.name not in skipped]
    shots = sorted({k for row in rows for k in row.few_shot})
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(fields + [f"few_shot_{k}" for k in shots] + ["training_flops", "paper_imagenet_5shot"])
        for row in rows:
            paper = PAPER_IMAGENET_5SHOT.get((row.position_embedding, row.placement), "")
            paper = paper if row.experiment == "position" else ""
            few = [row.few_shot.get(k, "") for k in shots]
            writer.writerow([getattr(row, field) for field in fields] + few + [row.training_flops, paper])


def _bar_label(name):
    """`learned_1d/every_layer_shared` as three short lines that fit under a bar."""
    name = name.replace("every_layer_shared", "every layer,/shared")
    return name.replace("/", "\n").replace("_", " ")


def plot_ablation(rows, path=None, dpi=100):
    """A bar chart of the test accuracies: the position cells, then
    pre-training; one bar per cell at its mean over the seeds, with the
    standard deviation as an error bar.

    Args:
        rows: `AblationRow`s; those of the position and pre-training
            experiments are drawn.
        path: str or None. Where to save the figure as PNG. Defaults to None.
        dpi: int. Pixels per inch. Defaults to 100.

    Returns:
        A `matplotlib.figure.Figure` of 8 x 4 inches.
    """
    group = cells(rows, "position") + cells(rows, "pretraining")
    if not group:
        raise ValueError(
            "`rows` must hold at least one AblationRow of the position or pretraining experiment. "
            f"Received: {len(rows)} rows of {sorted({r.experiment for r in rows})}"
        )
    figure = new_figure((8, 4), dpi)
    ax = figure.subplots()
    colours = {"position": "tab:blue", "pretraining": "tab:orange"}
    means = [cell.mean() for cell in group]
    errors = [0.0 if math.isnan(cell.std()) else cell.std() for cell in group]
    ax.bar(range(len(group)), means, yerr=errors, capsize=2, color=[colours[c.experiment] for c in group])
    for index, value in enumerate(means):
        ax.text(index, value, f"{value:.3f}", ha="center", va="bottom", fontsize="x-small")
    ax.set_xticks(range(len(group)), [_bar_label(c.name) for c in group], fontsize="x-small")
    ax.set_ylim(max(0.0, math.floor(min(means) * 10) / 10 - 0.1), 1.0)
    ax.set_ylabel("Test accuracy")
    ax.set_title(_title({cell.experiment for cell in group}))
    figure.tight_layout()
    return save_figure(figure, path)


def _title(experiments):
    """The chart's title, naming only the experiments drawn."""
    if experiments == {"position"}:
        return "Position embeddings"
    if experiments == {"pretraining"}:
        return "From scratch against masked patch pre-training"
    return "Position embeddings (blue) and masked patch pre-training (orange)"
