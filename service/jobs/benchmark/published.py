"""Published BRCA1 AUROCs (same task: LOF vs FUNC/INT, zero-shot) to compare a deployment with.

None of these was measured by this project. The Findlay table's own CADD v1.3 and phyloP baselines
are not listed here: the benchmark computes them from the table's columns on the rows it scores
(``evaluation.table_predictors``; 0.804 and 0.781 on all 3,893 SNVs).
"""

from __future__ import annotations

from typing import Any

PUBLISHED_AUROC: tuple[dict[str, Any], ...] = (
    {
        "model": "evo2_1b_base",
        "auroc": 0.73,
        "split": "overall",
        "source": "Evo 2 BRCA1 zero-shot notebook (ArcInstitute/evo2, notebooks/brca1)",
    },
    {
        "model": "evo2_7b",
        "auroc": 0.88,
        "split": "overall",
        "source": "NVIDIA bionemo-evo2 reproduction of the notebook (approx.)",
    },
    {"model": "evo2_7b", "auroc": 0.875, "split": "overall", "source": "independent H100 rerun"},
    {"model": "evo2_7b", "auroc": 0.840, "split": "coding", "source": "independent H100 rerun"},
)
