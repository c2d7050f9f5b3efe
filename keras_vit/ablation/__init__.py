"""The paper's ablations, rerun on any data source.

`run_position_ablation` trains one model per cell of the position-embedding
table (paper Appendix D.4, Table 8); `run_pretraining_ablation` compares
training from scratch with masked patch pre-training then fine-tuning on the
same budget (Appendix B.1.2). `report` lays the results out as the paper does,
as text, Markdown and CSV, and draws them (`plot_ablation`, needs matplotlib).
`keras-vit ablate` runs both.
"""

from keras_vit.ablation.report import (
    PAPER_IMAGENET_5SHOT,
    markdown_tables,
    plot_ablation,
    position_table,
    write_csv,
)
from keras_vit.ablation.runner import (
    CELLS,
    AblationRow,
    run_position_ablation,
    run_pretraining_ablation,
)

__all__ = [
    "AblationRow",
    "CELLS",
    "PAPER_IMAGENET_5SHOT",
    "markdown_tables",
    "plot_ablation",
    "position_table",
    "run_position_ablation",
    "run_pretraining_ablation",
    "write_csv",
]
