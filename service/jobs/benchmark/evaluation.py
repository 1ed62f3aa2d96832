"""Every figure of the benchmark report from scored rows (no model needed)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score

from service.jobs.benchmark.findlay import ScoredSnv
from service.jobs.benchmark.logistic import LOGISTIC_PENALTY, cross_validate, fit_logistic
from service.jobs.benchmark.stats import auroc_delong, class_stats, youden_threshold

#: Significant digits of the deltas kept in the calibration file's distribution (about 55 kB for 3,893).
#: Rounding moves a delta by at most 5e-6 relative; of the k-mer model's 3,893 deltas it ties 6 pairs of
#: neighbours, so a fraction computed from the file is off by at most one SNV in 3,893.
DISTRIBUTION_DIGITS = 6
DISTRIBUTION_WHAT = (
    "the benchmark's deltas by class (LOF; FUNC and INT), sorted, rounded to 6 significant digits"
)
#: The Findlay table's own predictor columns: the published baselines on these SNVs.
TABLE_PREDICTORS = (
    ("cadd", "CADD v1.3", "Findlay et al. 2018 Supplementary Table 1, column CADD.score; higher = LOF"),
    ("phylop", "phyloP (mammalian)", "Findlay et al. 2018 Supplementary Table 1, column phyloP (mammalian)"),
)


def evaluate(rows: Sequence[ScoredSnv], *, folds: int = 5, seed: int = 0) -> dict[str, Any]:
    """Every figure of the report from scored rows (no model needed)."""
    if not rows:
        raise ValueError("no scored variants to evaluate")
    deltas = np.array([r.delta for r in rows])
    lof = np.array([r.snv.is_lof for r in rows])
    coding = np.array([r.snv.is_coding for r in rows])
    splits = (("overall", np.ones_like(lof)), ("coding", coding), ("noncoding", ~coding))
    aurocs: dict[str, Any] = {}
    auprcs: dict[str, Any] = {}
    for split, mask in splits:
        y = lof[mask]
        both = 0 < y.sum() < y.size
        aurocs[split] = auroc_delong(-deltas[mask], y) if both else None
        auprcs[split] = _auprc(-deltas[mask], y) if both else None
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
    return {
        "n": int(deltas.size),
        "n_lof": int(lof.sum()),
        "n_coding": int(coding.sum()),
        "variant_kinds": sorted({r.snv.kind for r in rows}),
        "window_lengths": sorted({r.window_length for r in rows if r.window_length is not None}),
        "auroc": aurocs,
        "auprc": auprcs,
        "threshold": threshold,
        "class_stats": stats,
        "logistic": _logistic(deltas, lof, folds, seed),
        "method_noise": method_noise(rows),
        "table_predictors": table_predictors(rows),
        "distribution": distribution(deltas, lof),
    }


def _auprc(scores: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """Average precision of ``scores`` for the positives, beside its chance level (their share)."""
    return {"value": float(average_precision_score(y, scores)), "baseline": float(y.mean()), "n": int(y.size)}


def _logistic(deltas: np.ndarray, lof: np.ndarray, folds: int, seed: int) -> dict[str, Any] | None:
    if lof.sum() < 1 or (~lof).sum() < 1:
        return None
    fit = fit_logistic(deltas, lof)
    return {
        "intercept": fit.intercept,
        "slope": fit.slope,
        "converged": fit.converged,
        "iterations": fit.iterations,
        "penalty": LOGISTIC_PENALTY,
        "fitted_on": int(deltas.size),
        "cv": cross_validate(deltas, lof, folds, seed),
    }


def method_noise(rows: Sequence[ScoredSnv]) -> dict[str, Any] | None:
    """How far the ``window`` and ``suffix`` deltas of the same log-probs lie apart.

    In exact arithmetic a causal model gives both the same value; the gap is the round-off of the
    shared prefix (float32 ~1e-6 of a log-prob per position, bfloat16 far more), summed over it.
    """
    pairs = [(r.window_delta, r.suffix_delta) for r in rows if r.window_delta is not None]
    if not pairs:
        return None
    window = np.array([p[0] for p in pairs], dtype=np.float64)
    suffix = np.array([p[1] for p in pairs], dtype=np.float64)
    gap = np.abs(window - suffix)
    typical = float(np.median(np.abs(window)))
    lof = np.array([r.snv.is_lof for r in rows if r.window_delta is not None])
    both = 0 < lof.sum() < lof.size
    return {
        "n": int(gap.size),
        "median_abs_gap": float(np.median(gap)),
        "p95_abs_gap": float(np.percentile(gap, 95)),
        "max_abs_gap": float(gap.max()),
        "median_abs_delta": typical,
        "median_gap_over_median_delta": float(np.median(gap)) / typical if typical > 0 else None,
        "auroc_window": auroc_delong(-window, lof)["value"] if both else None,
        "auroc_suffix": auroc_delong(-suffix, lof)["value"] if both else None,
    }


def table_predictors(rows: Sequence[ScoredSnv]) -> list[dict[str, Any]]:
    """AUROC (DeLong interval) of the Findlay table's own CADD and phyloP scores on the same rows."""
    lof = np.array([r.snv.is_lof for r in rows])
    out = []
    for attribute, name, source in TABLE_PREDICTORS:
        values = [getattr(r.snv, attribute) for r in rows]
        known = np.array([v is not None and math.isfinite(v) for v in values])
        y = lof[known]
        if not 0 < y.sum() < y.size:
            continue
        scores = np.array([v for v, k in zip(values, known, strict=True) if k], dtype=np.float64)
        out.append({"name": name, "source": source, "auroc": auroc_delong(scores, y)})
    return out


def distribution(deltas: np.ndarray, lof: np.ndarray) -> dict[str, Any] | None:
    """The deltas by class, sorted and rounded: the calibration file's ``distribution``."""
    if not 0 < lof.sum() < lof.size:
        return None

    def rounded(values: np.ndarray) -> list[float]:
        return sorted(float(f"{v:.{DISTRIBUTION_DIGITS - 1}e}") for v in values)

    return {
        "what": DISTRIBUTION_WHAT,
        "digits": DISTRIBUTION_DIGITS,
        "lof": rounded(deltas[lof]),
        "func": rounded(deltas[~lof]),
    }
