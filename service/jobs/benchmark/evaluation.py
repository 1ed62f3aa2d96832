"""Every figure of the benchmark report from scored rows (no model needed)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from service.jobs.benchmark.findlay import ScoredSnv
from service.jobs.benchmark.logistic import LOGISTIC_PENALTY, cross_validate, fit_logistic
from service.jobs.benchmark.stats import auroc_delong, class_stats, youden_threshold


def evaluate(rows: Sequence[ScoredSnv], *, folds: int = 5, seed: int = 0) -> dict[str, Any]:
    """Every figure of the report from scored rows (no model needed)."""
    if not rows:
        raise ValueError("no scored variants to evaluate")
    deltas = np.array([r.delta for r in rows])
    lof = np.array([r.snv.is_lof for r in rows])
    coding = np.array([r.snv.is_coding for r in rows])
    aurocs: dict[str, Any] = {}
    for split, mask in (("overall", np.ones_like(lof)), ("coding", coding), ("noncoding", ~coding)):
        y = lof[mask]
        aurocs[split] = auroc_delong(-deltas[mask], y) if 0 < y.sum() < y.size else None
    threshold = None
    if 0 < lof.sum() < lof.size:
        cut = youden_threshold(deltas, lof)
        threshold = {"value": cut.threshold, "tpr": cut.tpr, "fpr": cut.fpr, "j": cut.j}
    func_class = np.array([r.snv.func_class for r in rows])
    stats = {
        "lof": class_stats(deltas[lof]),
        "func": class_stats(deltas[~lof]),
        "by_func_class": {c: class_stats(deltas[func_class == c]) for c in ("FUNC", "INT", "LOF")},
    }
    logistic = None
    if lof.sum() >= 1 and (~lof).sum() >= 1:
        fit = fit_logistic(deltas, lof)
        logistic = {
            "intercept": fit.intercept,
            "slope": fit.slope,
            "converged": fit.converged,
            "iterations": fit.iterations,
            "penalty": LOGISTIC_PENALTY,
            "fitted_on": int(deltas.size),
            "cv": cross_validate(deltas, lof, folds, seed),
        }
    return {
        "n": int(deltas.size),
        "n_lof": int(lof.sum()),
        "n_coding": int(coding.sum()),
        "auroc": aurocs,
        "threshold": threshold,
        "class_stats": stats,
        "logistic": logistic,
    }
