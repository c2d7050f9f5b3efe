"""The paper's experiments, rerun on any data source, with seeds.

`run_position_ablation` trains one model per cell of the position-embedding
table (paper Appendix D.4, Table 8); `run_pretraining_ablation` compares
training from scratch with masked patch pre-training then fine-tuning on the
same budget (Appendix B.1.2); `run_data_size_ablation` trains a ViT, BiT's
ResNet and a hybrid on nested subsets of the training data (Figures 3 and 4);
`run_scaling_ablation` a ladder of their sizes against training compute
(Figure 5); `run_head_ablation` the class token against global average
pooling at two learning rates (Appendix D.3, Figure 9). Every row holds the
test accuracy and the few-shot linear accuracy of the trained features; with
`seeds=N` every cell runs N times and `keras_vit.ablation.seeds` tells real
differences from seed noise. `run_experiments` runs several and
`write_report` writes their tables, figures and CSV. `keras-vit ablate` runs
them from the command line.
"""

from keras_vit.ablation.experiments import run_data_size_ablation, run_head_ablation, run_scaling_ablation
from keras_vit.ablation.figures import (
    data_size_table,
    head_table,
    plot_data_size,
    plot_head,
    plot_scaling,
    scaling_table,
)
from keras_vit.ablation.report import (
    PAPER_IMAGENET_5SHOT,
    markdown,
    markdown_tables,
    plot_ablation,
    position_table,
    write_csv,
)
from keras_vit.ablation.result_row import AblationRow
from keras_vit.ablation.runner import CELLS, run_position_ablation, run_pretraining_ablation
from keras_vit.ablation.suite import EXPERIMENTS, run_experiments, write_report

__all__ = [
    "AblationRow",
    "CELLS",
    "EXPERIMENTS",
    "PAPER_IMAGENET_5SHOT",
    "data_size_table",
    "head_table",
    "markdown",
    "markdown_tables",
    "plot_ablation",
    "plot_data_size",
    "plot_head",
    "plot_scaling",
    "position_table",
    "run_data_size_ablation",
    "run_experiments",
    "run_head_ablation",
    "run_position_ablation",
    "run_pretraining_ablation",
    "run_scaling_ablation",
    "scaling_table",
    "write_csv",
    "write_report",
]
