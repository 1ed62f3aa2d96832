"""Published BRCA1 AUROCs (same task: LOF vs FUNC/INT, zero-shot) to compare a deployment with.

None of these was measured by this project.
"""

from __future__ import annotations

from typing import Any

PUBLISHED_AUROC: tuple[dict[str, Any], ...] = (
    {"model": "evo2_1b_base", "auroc": 0.73, "split": "overall", "source": "Evo 2 BRCA1 zero-shot notebook"},
    {"model": "evo2_7b", "auroc": 0.88, "split": "overall", "source": "NVIDIA bionemo-evo2 reproduction"},
    {"model": "evo2_7b", "auroc": 0.875, "split": "overall", "source": "independent H100 rerun"},
    {"model": "evo2_7b", "auroc": 0.840, "split": "coding", "source": "independent H100 rerun"},
    {"model": "CADD v1.7", "auroc": 0.881, "split": "overall", "source": "published figure on the same SNVs"},
)
