"""Probability of LOF given delta: a one-feature logistic regression and its cross-validation."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from service.jobs.benchmark.stats import auroc

#: L2 penalty on the standardised slope: keeps the fit finite on separable data, negligible otherwise.
LOGISTIC_PENALTY = 1e-3


@dataclass(frozen=True)
class LogisticFit:
    """``P(LOF | delta) = 1 / (1 + exp(-(intercept + slope * delta)))``."""

    intercept: float
    slope: float
    iterations: int
    converged: bool

    def predict(self, x: np.ndarray | Sequence[float]) -> np.ndarray:
        z = self.intercept + self.slope * np.asarray(x, dtype=np.float64)
        return np.asarray(sigmoid(z))


def sigmoid(z: np.ndarray | float) -> np.ndarray:
    z = np.asarray(z, dtype=np.float64)
    return np.exp(-np.logaddexp(0.0, -z))


def fit_logistic(
    x: Sequence[float] | np.ndarray,
    y: Sequence[bool] | np.ndarray,
    *,
    penalty: float = LOGISTIC_PENALTY,
    max_iter: int = 100,
    tol: float = 1e-10,
) -> LogisticFit:
    """Maximum-likelihood logistic regression of ``y`` on one feature (Newton / IRLS).

    ``x`` is standardised internally (deltas are ~1e-3) and the parameters mapped back; ``penalty``
    is an L2 penalty on the standardised slope, so perfectly separated data still give a finite fit.
    """
    xs = np.asarray(x, dtype=np.float64)
    ys = np.asarray(y, dtype=np.float64)
    if xs.size != ys.size or xs.size < 2:
        raise ValueError("need at least two points and as many labels as values")
    mu = float(xs.mean())
    sd = float(xs.std()) or 1.0
    design = np.column_stack([np.ones_like(xs), (xs - mu) / sd])
    rate = min(max(float(ys.mean()), 1e-6), 1 - 1e-6)
    beta = np.array([math.log(rate / (1 - rate)), 0.0])
    ridge = np.diag([0.0, penalty])

    def objective(b: np.ndarray) -> float:
        eta = design @ b
        return float(np.sum(np.logaddexp(0.0, eta) - ys * eta) + 0.5 * penalty * b[1] ** 2)

    current = objective(beta)
    converged = False
    iterations = 0
    while iterations < max_iter:
        iterations += 1
        p = sigmoid(design @ beta)
        grad = design.T @ (p - ys) + ridge @ beta
        hessian = (design * (p * (1 - p))[:, None]).T @ design + ridge
        step = np.linalg.solve(hessian + 1e-12 * np.eye(2), grad)
        scale = 1.0
        while True:  # step halving keeps every iteration a descent step
            candidate = beta - scale * step
            value = objective(candidate)
            if value <= current + 1e-12 or scale < 1e-8:
                break
            scale /= 2
        beta, previous, current = candidate, current, value
        if float(np.max(np.abs(scale * step))) < tol or abs(previous - current) < tol * max(1.0, current):
            converged = True
            break
    a, b = float(beta[0]), float(beta[1])
    return LogisticFit(intercept=a - b * mu / sd, slope=b / sd, iterations=iterations, converged=converged)


def stratified_folds(y: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Fold index per row: each class shuffled (seeded) and dealt round-robin into ``k`` folds."""
    folds = np.empty(y.size, dtype=np.int64)
    rng = np.random.default_rng(seed)
    for value in (False, True):
        idx = np.flatnonzero(y == value)
        rng.shuffle(idx)
        folds[idx] = np.arange(idx.size) % k
    return folds


def log_loss(p: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(p, 1e-15, 1 - 1e-15)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def brier(p: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean((p - y) ** 2))


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
        fit = fit_logistic(x[~test], yb[~test])
        p[test] = fit.predict(x[test])
        base[test] = yb[~test].mean()
        fold_auroc.append(auroc(p[test], yb[test]))
    yf = yb.astype(np.float64)
    return {
        "folds": k,
        "seed": seed,
        "stratified": True,
        "auroc": auroc(p, yb),
        "auroc_per_fold": fold_auroc,
        "log_loss": log_loss(p, yf),
        "brier": brier(p, yf),
        "baseline": {
            "what": "training-fold LOF rate",
            "log_loss": log_loss(base, yf),
            "brier": brier(base, yf),
        },
    }
