"""Figures scikit-learn does not give: DeLong's AUROC interval, the Youden cut, class summaries."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve


def midranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks with ties given the mean of their ranks."""
    values = np.asarray(values, dtype=np.float64)
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    ranks = np.empty(values.size, dtype=np.float64)
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    ends = np.r_[starts[1:], values.size]
    for start, end in zip(starts, ends, strict=True):
        ranks[order[start:end]] = (start + end + 1) / 2
    return ranks


def auroc_delong(
    scores: Sequence[float] | np.ndarray, positives: Sequence[bool] | np.ndarray
) -> dict[str, Any]:
    """AUROC (``roc_auc_score``: ties count 1/2) with DeLong's standard error and a normal 95% interval
    (clipped to [0, 1])."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(positives, dtype=bool)
    x_pos, x_neg = s[y], s[~y]
    m, n = x_pos.size, x_neg.size
    if m == 0 or n == 0:
        raise ValueError("AUROC needs at least one positive and one negative")
    value = float(roc_auc_score(y, s))
    tz = midranks(np.concatenate([x_pos, x_neg]))
    v10 = (tz[:m] - midranks(x_pos)) / n
    v01 = 1.0 - (tz[m:] - midranks(x_neg)) / m
    var = (v10.var(ddof=1) / m if m > 1 else 0.0) + (v01.var(ddof=1) / n if n > 1 else 0.0)
    se = math.sqrt(max(var, 0.0))
    return {
        "value": value,
        "se": se,
        "ci95": [max(0.0, value - 1.96 * se), min(1.0, value + 1.96 * se)],
        "n": m + n,
        "n_lof": m,
    }


@dataclass(frozen=True)
class Youden:
    threshold: float
    tpr: float
    fpr: float

    @property
    def j(self) -> float:
        return self.tpr - self.fpr


def youden_threshold(deltas: Sequence[float] | np.ndarray, is_lof: Sequence[bool] | np.ndarray) -> Youden:
    """The cut maximising TPR − FPR for the rule ``LOF when delta < threshold``.

    Candidates are the midpoints between consecutive distinct deltas (and one below the smallest),
    so no data point lies on the threshold. Ties in J go to the smallest threshold.
    """
    d = np.asarray(deltas, dtype=np.float64)
    y = np.asarray(is_lof, dtype=bool)
    if y.all() or not y.any():
        raise ValueError("a threshold needs both classes")
    values = np.unique(d)
    # Point k of the ROC curve of -delta calls LOF the k smallest distinct deltas (k = 0..len(values)).
    fpr, tpr, _ = roc_curve(y, -d, drop_intermediate=False)
    k = int(np.argmax(tpr - fpr))
    if k == 0:
        threshold = float(values[0]) - 1.0
    elif k == values.size:
        threshold = float(values[-1]) + 1.0
    else:
        threshold = float((values[k - 1] + values[k]) / 2)
    return Youden(threshold, float(tpr[k]), float(fpr[k]))


def class_stats(values: np.ndarray) -> dict[str, Any]:
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        return {"n": 0, "mean": None, "std": None, "median": None}
    return {
        "n": int(v.size),
        "mean": float(v.mean()),
        "std": float(v.std(ddof=1)) if v.size > 1 else 0.0,
        "median": float(np.median(v)),
    }
