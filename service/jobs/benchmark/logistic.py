"""Probability of LOF given delta: a one-feature logistic regression and its cross-validation."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score
from sklearn.preprocessing import StandardScaler

#: L2 penalty on the standardised slope: keeps the fit finite on separable data, negligible otherwise.
LOGISTIC_PENALTY = 1e-3
#: Newton solver tolerance (on the gradient of the mean loss): one iteration more than 1e-10 takes,
#: and the fit then agrees with an exact Newton/IRLS optimum to ~1e-12 relative.
TOLERANCE = 1e-12


@dataclass(frozen=True)
class LogisticFit:
    """``P(LOF | delta) = 1 / (1 + exp(-(intercept + slope * delta)))``."""

    intercept: float
    slope: float
    iterations: int
    converged: bool

    def predict(self, x: np.ndarray | Sequence[float]) -> np.ndarray:
        z = self.intercept + self.slope * np.asarray(x, dtype=np.float64)
        return np.asarray(np.exp(-np.logaddexp(0.0, -z)))


def fit_logistic(
    x: Sequence[float] | np.ndarray,
    y: Sequence[bool] | np.ndarray,
    *,
    penalty: float = LOGISTIC_PENALTY,
    max_iter: int = 100,
) -> LogisticFit:
    """Penalised maximum-likelihood logistic regression of ``y`` on one feature (``LogisticRegression``).

    ``x`` is standardised (deltas are ~1e-3) and the parameters mapped back; ``penalty`` is an L2
    penalty on the standardised slope (the intercept is not penalised), so separated data still give a
    finite fit.
    """
    xs = np.asarray(x, dtype=np.float64).reshape(-1, 1)
    ys = np.asarray(y, dtype=bool)
    if xs.shape[0] != ys.size or ys.size < 2:
        raise ValueError("need at least two points and as many labels as values")
    scaler = StandardScaler().fit(xs)
    model = LogisticRegression(C=1.0 / penalty, solver="newton-cholesky", tol=TOLERANCE, max_iter=max_iter)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # reported as converged=False instead
        model.fit(scaler.transform(xs), ys)
    iterations = int(model.n_iter_[0])
    mu, sd = float(scaler.mean_[0]), float(scaler.scale_[0])
    a, b = float(model.intercept_[0]), float(model.coef_[0, 0])
    return LogisticFit(a - b * mu / sd, b / sd, iterations, converged=iterations < max_iter)


def stratified_folds(y: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Fold index per row: each class shuffled (seeded) and dealt round-robin into ``k`` folds.

    Not ``StratifiedKFold``: its seeded partition differs, and would change every cross-validated
    figure measured so far (kmer-8.json, docs/science.md) for no gain in what they mean.
    """
    folds = np.empty(y.size, dtype=np.int64)
    rng = np.random.default_rng(seed)
    for value in (False, True):
        idx = np.flatnonzero(y == value)
        rng.shuffle(idx)
        folds[idx] = np.arange(idx.size) % k
    return folds


def cross_validate(x: np.ndarray, y: np.ndarray, folds: int = 5, seed: int = 0) -> dict[str, Any] | None:
    """Out-of-fold AUROC, log-loss and Brier score of the logistic fit (and of the base rate).

    ``None`` when a class has fewer than two rows; ``folds`` is lowered to the smaller class size.
    """
    yb = np.asarray(y, dtype=bool)
    k = min(folds, int(yb.sum()), int((~yb).sum()))
    if k < 2:
        return None
    fold_of = stratified_folds(yb, k, seed)
    p = np.empty(yb.size)
    base = np.empty(yb.size)
    fold_auroc = []
    for f in range(k):
        test = fold_of == f
        p[test] = fit_logistic(x[~test], yb[~test]).predict(x[test])
        base[test] = yb[~test].mean()
        fold_auroc.append(float(roc_auc_score(yb[test], p[test])))
    yi = yb.astype(np.int64)
    return {
        "folds": k,
        "seed": seed,
        "stratified": True,
        "auroc": float(roc_auc_score(yi, p)),
        "auroc_per_fold": fold_auroc,
        "log_loss": float(log_loss(yi, p, labels=[0, 1])),
        "brier": float(brier_score_loss(yi, p)),
        "baseline": {
            "what": "training-fold LOF rate",
            "log_loss": float(log_loss(yi, base, labels=[0, 1])),
            "brier": float(brier_score_loss(yi, base)),
        },
    }
