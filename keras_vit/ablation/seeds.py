"""Repeating every cell with several seeds, and telling a real difference from seed noise.

A cell's runs differ only in their seed (initialisation, data order, subset
draw). Its accuracy is reported as the mean and the sample standard deviation
over the seeds. Two cells differ beyond the seed noise when their means are
more than twice the standard error of the difference apart,
`|m_a - m_b| > 2 * sqrt(s_a**2 / n_a + s_b**2 / n_b)` (about a 95% two-sided
test for normally distributed accuracies); with one seed there is no noise
estimate and nothing is marked.
"""

import dataclasses
import math

import numpy as np

from keras_vit.utils.validation import check_positive_int

# Marks of a table's cells against the best one.
BEST = "best"
WITHIN = "≈"
LEGEND = (
    f"mean ± standard deviation over the seeds; **bold**: the best cell; {WITHIN}: within the seed noise "
    "of the best (the means less than twice the standard error of their difference apart)"
)


def seeds_of(config, seeds):
    """The seeds of `seeds` runs of `config`: `config.seed`, `config.seed + 1`, ..."""
    return [config.seed + index for index in range(check_positive_int("seeds", seeds))]


@dataclasses.dataclass(frozen=True)
class Cell:
    """The runs of one cell of an experiment, one per seed.

    Attributes:
        experiment: str.
        name: str.
        rows: tuple of `AblationRow`.
    """

    experiment: str
    name: str
    rows: tuple

    def values(self, metric="test"):
        """The cell's accuracies, one per seed: `"test"` (fine-tuned) or a shot count (few-shot)."""
        if metric == "test":
            return np.array([row.test_accuracy for row in self.rows])
        return np.array([row.few_shot[metric] for row in self.rows if metric in row.few_shot])

    def mean(self, metric="test"):
        values = self.values(metric)
        return float(values.mean()) if values.size else math.nan

    def std(self, metric="test"):
        """The sample standard deviation over the seeds; NaN for one seed."""
        values = self.values(metric)
        return float(values.std(ddof=1)) if values.size > 1 else math.nan

    def text(self, metric="test"):
        """`"0.9111 ± 0.0120"`, `"0.9111"` for one seed, `"-"` if not measured."""
        mean, std = self.mean(metric), self.std(metric)
        if math.isnan(mean):
            return "-"
        return f"{mean:.4f}" if math.isnan(std) else f"{mean:.4f} ± {std:.4f}"

    @property
    def first(self):
        return self.rows[0]


def cells(rows, experiment):
    """`experiment`'s rows grouped into `Cell`s by name, in the order of first appearance."""
    grouped = {}
    for row in rows:
        if row.experiment == experiment:
            grouped.setdefault(row.name, []).append(row)
    return [Cell(experiment, name, tuple(members)) for name, members in grouped.items()]


def within_noise(a, b, metric="test"):
    """Whether cells `a` and `b` differ by less than twice the standard error of
    their difference; None when either has a single seed."""
    x, y = a.values(metric), b.values(metric)
    if x.size < 2 or y.size < 2:
        return None
    error = math.sqrt(x.var(ddof=1) / x.size + y.var(ddof=1) / y.size)
    return bool(abs(x.mean() - y.mean()) <= 2 * error)


def marks(group, metric="test"):
    """Per cell name: `BEST` for the highest mean, `WITHIN` for a cell within the
    seed noise of it, `""` otherwise (and for every cell with one seed)."""
    measured = [cell for cell in group if cell.values(metric).size]
    if not measured or all(cell.values(metric).size < 2 for cell in measured):
        return {cell.name: "" for cell in group}
    best = max(measured, key=lambda cell: cell.mean(metric))
    return {
        cell.name: BEST if cell is best else (WITHIN if within_noise(cell, best, metric) else "")
        for cell in group
    }


def marked(cell, mark, markdown=True, metric="test"):
    """`cell.text(metric)` with its mark: bold for the best, a trailing `≈` within noise."""
    text = cell.text(metric)
    if mark == BEST:
        return f"**{text}**" if markdown else f"{text} *"
    return f"{text} {WITHIN}" if mark == WITHIN else text


def difference(a, b, metric="test"):
    """A sentence on `b - a`: its size and whether it lies within the seed noise."""
    delta = b.mean(metric) - a.mean(metric)
    verdict = within_noise(a, b, metric)
    if verdict is None:
        noise = "one seed: no estimate of the seed noise"
    elif verdict:
        noise = "within the seed noise"
    else:
        noise = "beyond the seed noise"
    return f"{delta:+.4f} ({noise})"
