"""The ablations' results laid out as the paper lays them out: text, Markdown, CSV, a chart."""

import csv
import dataclasses
import math

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


def position_table(rows, values=None):
    """The position ablation as the paper's table: a header and one row per kind.

    Args:
        rows: `AblationRow`s; those of the position experiment are used.
        values: dict `{(kind, placement): accuracy}` to lay out instead of
            `rows`, e.g. `PAPER_IMAGENET_5SHOT`. Defaults to None.

    Returns:
        A list of lists of str: `["", "Default/Stem", ...]`, then one row per
        kind with the accuracy to four decimals, `"N/A"` where the paper has
        it and `"-"` for a cell that was not run. Given `values`, a kind
        without any (sin-cos in the paper's) gets no row.
    """
    kinds = ROWS
    if values is None:
        values = {(r.position_embedding, r.placement): r.test_accuracy for r in rows if r.experiment == "position"}
    else:
        kinds = [(kind, label) for kind, label in ROWS if any(cell[0] == kind for cell in values)]
    table = [[""] + [label for _, label in COLUMNS]]
    for kind, label in kinds:
        line = [label]
        for placement, _ in COLUMNS:
            if kind not in LEARNED_KINDS and placement != "stem":
                line.append(NOT_APPLICABLE)
            elif (kind, placement) in values:
                line.append(f"{values[kind, placement]:.4f}")
            else:
                line.append(NOT_RUN)
        table.append(line)
    return table


def text_table(table):
    """`table` (lists of str) as aligned plain-text lines, for a terminal."""
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in table)


def _markdown(table):
    lines = ["| " + " | ".join(table[0]) + " |", "|" + "---|" * len(table[0])]
    lines += ["| " + " | ".join(line) + " |" for line in table[1:]]
    return "\n".join(lines)


def markdown_tables(rows, paper=True):
    """The results as Markdown: the position table in the paper's layout (and the
    paper's own ImageNet figures beside it), and from scratch vs pre-trained.

    Args:
        rows: `AblationRow`s of either experiment.
        paper: bool. Include the paper's Table 8. Defaults to True.

    Returns:
        A Markdown string.
    """
    parts = []
    if any(r.experiment == "position" for r in rows):
        parts += ["Test accuracy by position embedding:", "", _markdown(position_table(rows))]
        if paper:
            parts += ["", "The paper's Table 8 (ViT-B/16, ImageNet 5-shot linear accuracy):", "",
                      _markdown(position_table([], PAPER_IMAGENET_5SHOT))]
    pretraining = [r for r in rows if r.experiment == "pretraining"]
    if pretraining:
        if parts:
            parts.append("")
        table = [["Training", "Test accuracy", "Seconds"]]
        labels = {"scratch": "from scratch", "masked_patch": "masked patch pre-training + fine-tuning"}
        table += [[labels.get(r.name, r.name), f"{r.test_accuracy:.4f}", f"{r.seconds:.0f}"] for r in pretraining]
        parts += [_markdown(table)]
    return "\n".join(parts) + "\n"


def write_csv(rows, path):
    """Writes one line per `AblationRow`, with the paper's figure where it has one."""
    fields = [field.name for field in dataclasses.fields(rows[0])] if rows else []
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(fields + ["paper_imagenet_5shot"])
        for row in rows:
            paper = PAPER_IMAGENET_5SHOT.get((row.position_embedding, row.placement), "")
            paper = paper if row.experiment == "position" else ""
            writer.writerow([getattr(row, field) for field in fields] + [paper])


def plot_ablation(rows, path=None, dpi=100):
    """A bar chart of the test accuracies: the position cells, then pre-training.

    Args:
        rows: `AblationRow`s.
        path: str or None. Where to save the figure as PNG. Defaults to None.
        dpi: int. Pixels per inch. Defaults to 100.

    Returns:
        A `matplotlib.figure.Figure` of 8 x 4 inches.
    """
    if not rows:
        raise ValueError("`rows` must hold at least one AblationRow. Received: rows=[]")
    figure = new_figure((8, 4), dpi)
    ax = figure.subplots()
    colours = {"position": "tab:blue", "pretraining": "tab:orange"}
    labels = [r.name.replace("/", "\n") for r in rows]
    accuracies = [r.test_accuracy for r in rows]
    ax.bar(range(len(rows)), accuracies, color=[colours[r.experiment] for r in rows])
    for index, value in enumerate(accuracies):
        ax.text(index, value, f"{value:.3f}", ha="center", va="bottom", fontsize="x-small")
    ax.set_xticks(range(len(rows)), labels, fontsize="x-small")
    low = min(accuracies)
    ax.set_ylim(max(0.0, math.floor(low * 10) / 10 - 0.1), 1.0)
    ax.set_ylabel("Test accuracy")
    ax.set_title("Position embeddings (blue) and masked patch pre-training (orange)")
    figure.tight_layout()
    return save_figure(figure, path)
