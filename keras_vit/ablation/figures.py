"""Tables and figures of the data-size, scaling and head experiments, in the paper's layouts.

`data_size_table` and `plot_data_size` follow Figures 3 and 4 (accuracy against
the number of training examples, one line per model), `scaling_table` and
`plot_scaling` Figure 5 (accuracy against total training compute, one series
per family), `head_table` and `plot_head` Figure 9 (the class token against
global average pooling over the epochs of training).
"""

import math

import numpy as np

from keras_vit.ablation.seeds import cells, marked, marks
from keras_vit.utils.plotting import new_figure, save_figure

FAMILY_MARKERS = {"ViT": "o", "ResNet": "s", "hybrid": "^"}
FAMILY_COLOURS = {"ViT": "tab:red", "ResNet": "tab:blue", "hybrid": "tab:green"}


def _metric_label(metric):
    return "Test accuracy" if metric == "test" else f"{metric}-shot linear accuracy"


def _by_model(group):
    """`{label: [cell, ...]}` of a data-size experiment's cells, fractions increasing."""
    models = {}
    for cell in group:
        models.setdefault(cell.name.rsplit("/", 1)[0], []).append(cell)
    return {label: sorted(members, key=lambda c: c.first.train_fraction) for label, members in models.items()}


def data_size_table(rows, metric="test", markdown=False):
    """One line per model, one column per training-set size; at each size the
    best model and those within its seed noise are marked.

    Args:
        rows: `AblationRow`s; the data-size experiment's are used.
        metric: `"test"` or a shot count. Defaults to `"test"`.
        markdown: bool. Bold for the best, not ` *`. Defaults to False.

    Returns:
        A list of lists of str.
    """
    group = cells(rows, "data-size")
    fractions = sorted({c.first.train_fraction for c in group})
    sizes = {c.first.train_fraction: c.first.train_examples for c in group}
    table = [["Model", "Parameters", *(f"{f:g} ({sizes[f]} examples)" for f in fractions)]]
    found = {}
    for fraction in fractions:
        found.update(marks([c for c in group if c.first.train_fraction == fraction], metric))
    for label, members in _by_model(group).items():
        by_fraction = {c.first.train_fraction: c for c in members}
        line = [label, f"{members[0].first.parameters:,}"]
        line += [marked(by_fraction[f], found[by_fraction[f].name], markdown, metric) if f in by_fraction else "-"
                 for f in fractions]
        table.append(line)
    return table


def scaling_table(rows, markdown=False):
    """One line per model of the ladder: family, parameters, forward FLOPs per
    image, training compute, test and few-shot accuracies (best marked)."""
    group = cells(rows, "scaling")
    shots = sorted(set.intersection(*(set(r.few_shot) for c in group for r in c.rows))) if group else []
    table = [["Model", "Family", "Parameters", "Forward FLOPs/image", "Training FLOPs", "Test accuracy",
              *(f"{k}-shot" for k in shots)]]
    found = {metric: marks(group, metric) for metric in ("test", *shots)}
    for cell in group:
        row = cell.first
        table.append([
            cell.name, row.model, f"{row.parameters:,}", f"{row.forward_flops:.3g}",
            f"{np.mean([r.training_flops for r in cell.rows]):.3g}",
            *(marked(cell, found[metric][cell.name], markdown, metric) for metric in ("test", *shots)),
        ])
    return table


def head_table(rows, metric="test", markdown=False):
    """The class token and global average pooling (lines) at each learning rate (columns)."""
    group = cells(rows, "head")
    rates = sorted({c.first.learning_rate for c in group}, reverse=True)
    found = marks(group, metric)
    labels = {"token": "class token", "gap": "global average pooling"}
    table = [["Head", *(f"lr {rate:g}" for rate in rates)]]
    for pooling in dict.fromkeys(c.first.pooling for c in group):
        by_rate = {c.first.learning_rate: c for c in group if c.first.pooling == pooling}
        table.append([labels.get(pooling, pooling),
                      *(marked(by_rate[r], found[by_rate[r].name], markdown, metric) if r in by_rate else "-"
                        for r in rates)])
    return table


def _check(group, experiment):
    if not group:
        raise ValueError(f"`rows` must hold rows of the {experiment} experiment. Received: none")


def _panels(dpi, count=2):
    figure = new_figure((5 * count, 4), dpi)
    return figure, figure.subplots(1, count, squeeze=False)[0]


def _metrics(group):
    """`"test"` and 5-shot where every run has it."""
    has_five = all(5 in r.few_shot for c in group for r in c.rows)
    return ("test", 5) if has_five else ("test",)


def plot_data_size(rows, path=None, dpi=100):
    """Figure 4's layout: accuracy against the number of training examples
    (log scale), one line per model, the standard deviation over the seeds as
    error bars; the test accuracy, and the 5-shot linear accuracy beside it.

    Returns:
        A `matplotlib.figure.Figure`.
    """
    group = cells(rows, "data-size")
    _check(group, "data-size")
    metrics = _metrics(group)
    figure, axes = _panels(dpi, len(metrics))
    for ax, metric in zip(axes, metrics):
        for label, members in _by_model(group).items():
            family = members[0].first.model
            x = [c.first.train_examples for c in members]
            ax.errorbar(x, [c.mean(metric) for c in members], yerr=[_std(c, metric) for c in members],
                        marker=FAMILY_MARKERS.get(family, "o"), color=FAMILY_COLOURS.get(family), capsize=3,
                        label=label)
        ax.set_xscale("log")
        sizes = sorted({c.first.train_examples for c in group})
        ax.set_xticks(sizes, [f"{size:,}" for size in sizes])
        ax.minorticks_off()
        ax.set_xlabel("Number of training examples")
        ax.set_ylabel(_metric_label(metric))
        ax.legend(fontsize="small")
    figure.suptitle("Accuracy against training-set size (the paper's Figures 3 and 4)")
    figure.tight_layout()
    return save_figure(figure, path)


def plot_scaling(rows, path=None, dpi=100):
    """Figure 5's layout: accuracy against total training compute (FLOPs, log
    scale), one series per family, sizes joined in increasing compute.

    Returns:
        A `matplotlib.figure.Figure`.
    """
    group = cells(rows, "scaling")
    _check(group, "scaling")
    metrics = _metrics(group)
    figure, axes = _panels(dpi, len(metrics))
    families = {}
    for cell in group:
        families.setdefault(cell.first.model, []).append(cell)
    for ax, metric in zip(axes, metrics):
        for family, members in families.items():
            members = sorted(members, key=lambda c: c.first.training_flops)
            x = [np.mean([r.training_flops for r in c.rows]) for c in members]
            ax.errorbar(x, [c.mean(metric) for c in members], yerr=[_std(c, metric) for c in members],
                        marker=FAMILY_MARKERS.get(family, "o"), color=FAMILY_COLOURS.get(family), capsize=3,
                        label=family)
        ax.set_xscale("log")
        ax.set_xlabel("Total training compute (FLOPs)")
        ax.set_ylabel(_metric_label(metric))
        ax.legend(fontsize="small")
    figure.suptitle("Accuracy against training compute (the paper's Figure 5)")
    figure.tight_layout()
    return save_figure(figure, path)


def plot_head(rows, path=None, dpi=100):
    """Figure 9's layout: validation accuracy after each epoch, one line per
    head and learning rate (mean over the seeds).

    Returns:
        A `matplotlib.figure.Figure`.
    """
    group = cells(rows, "head")
    _check(group, "head")
    figure = new_figure((6, 4), dpi)
    ax = figure.subplots()
    for cell in group:
        curves = [r.curve for r in cell.rows if r.curve]
        if not curves:
            continue
        length = min(len(curve) for curve in curves)
        mean = np.mean([curve[:length] for curve in curves], axis=0)
        style = "-" if cell.first.pooling == "token" else "--"
        ax.plot(np.arange(1, length + 1), mean, style, label=cell.name.replace("/", ", "))
    ax.set_xlabel("Epochs of training")
    ax.set_ylabel("Validation accuracy")
    ax.set_title("Class token against global average pooling (the paper's Figure 9)")
    ax.legend(fontsize="small")
    figure.tight_layout()
    return save_figure(figure, path)


def _std(cell, metric):
    value = cell.std(metric)
    return 0.0 if math.isnan(value) else value
