"""The BRCA1 benchmark: how well a model's delta separates harmful from harmless variants.

Reproduces the Evo 2 BRCA1 zero-shot notebook through the service's own code path: the Findlay et al.
2018 SNVs (``service.jobs.brca1``), the notebook's hg19 windows built by ``DeltaEngine`` from the bundled
genome slice (no network), any ``Scorer``. Reported:

* AUROC of ``-delta`` for LOF against FUNC/INT (the notebook's figure), overall and split coding
  (missense, nonsense, synonymous) / noncoding, each with a DeLong 95% interval;
* the Youden threshold (a variant is called LOF when ``delta < threshold``), class statistics;
* a logistic regression of LOF on delta (Newton/IRLS, two parameters) with stratified k-fold
  cross-validated AUROC, log-loss and Brier score beside the base-rate baseline's.

Deltas are appended to a TSV keyed by variant as they are computed, so an interrupted run resumes
where it stopped. ``run_benchmark`` is the one call the CLI (``bench/brca1.py``) and the Modal
entrypoint use. numpy only; ``tqdm`` is imported when a progress bar is asked for.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import math
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from service.compose import build_parts
from service.coords import parse_variant
from service.domain.delta import DeltaMethod, DeltaOptions, VariantScore
from service.errors import InvalidRequest, ServiceError
from service.genome.base import GenomeSource
from service.jobs.brca1 import GENOME, FindlaySnv, load_findlay
from service.scoring.base import Scorer
from service.settings import Settings

DATASET = "Findlay et al. 2018 BRCA1 saturation genome editing (Nature 562:217), LOF vs FUNC/INT"
#: Deltas file format marker (first line of the TSV).
DELTAS_MAGIC = "# brca1-benchmark deltas v1"
DELTAS_COLUMNS = ("variant", "consequence", "func_class", "function_score", "ref_score", "alt_score", "delta")
#: L2 penalty on the standardised slope: keeps the fit finite on separable data, negligible otherwise.
LOGISTIC_PENALTY = 1e-3

#: Published BRCA1 AUROCs (same task: LOF vs FUNC/INT, zero-shot) to compare a deployment with.
#: None of these was measured by this project.
PUBLISHED_AUROC: tuple[dict[str, Any], ...] = (
    {"model": "evo2_1b_base", "auroc": 0.73, "split": "overall", "source": "Evo 2 BRCA1 zero-shot notebook"},
    {"model": "evo2_7b", "auroc": 0.88, "split": "overall", "source": "NVIDIA bionemo-evo2 reproduction"},
    {"model": "evo2_7b", "auroc": 0.875, "split": "overall", "source": "independent H100 rerun"},
    {"model": "evo2_7b", "auroc": 0.840, "split": "coding", "source": "independent H100 rerun"},
    {"model": "CADD v1.7", "auroc": 0.881, "split": "overall", "source": "published figure on the same SNVs"},
)

Subset = Literal["first", "stratified"]
Progress = bool | Callable[[int, int], None]


@dataclass(frozen=True)
class BenchmarkOptions:
    """What to score and how. ``n=None`` scores all 3,893 SNVs."""

    n: int | None = None
    #: ``first``: the first ``n`` rows of the table (the original project fitted on the first 500);
    #: ``stratified``: a seeded sample keeping the table's proportions of LOF × coding strata.
    subset: Subset = "first"
    seed: int = 0
    window: int = 8192
    delta_method: DeltaMethod = "window"
    reverse_complement: bool = False
    #: Variants per model call (one resume checkpoint each); the scorer batches windows itself.
    batch_size: int = 64
    folds: int = 5
    #: Resume file; ``None`` keeps deltas in memory only.
    deltas_path: Path | None = None

    def delta_options(self) -> DeltaOptions:
        return DeltaOptions(GENOME, self.window, self.delta_method, self.reverse_complement)

    def describe(self) -> dict[str, Any]:
        out = asdict(self)
        out["deltas_path"] = str(self.deltas_path) if self.deltas_path else None
        return out


@dataclass(frozen=True)
class ScoredSnv:
    snv: FindlaySnv
    ref_score: float
    alt_score: float

    @property
    def delta(self) -> float:
        return self.alt_score - self.ref_score


# --------------------------------------------------------------------------- selection


def select_snvs(
    snvs: Sequence[FindlaySnv], n: int | None, subset: Subset = "first", seed: int = 0
) -> list[FindlaySnv]:
    """The rows to score, in table order (see ``BenchmarkOptions.subset``)."""
    if n is None or n >= len(snvs):
        return list(snvs)
    if n < 1:
        raise ValueError(f"n must be positive, got {n}")
    if subset == "first":
        return list(snvs[:n])
    strata: dict[tuple[bool, bool], list[int]] = {}
    for i, snv in enumerate(snvs):
        strata.setdefault((snv.is_lof, snv.is_coding), []).append(i)
    keys = sorted(strata)
    # Proportional allocation, largest remainder; every stratum gets one row when n allows.
    exact = {k: n * len(strata[k]) / len(snvs) for k in keys}
    take = {k: int(exact[k]) for k in keys}
    if n >= len(keys):
        for k in keys:
            take[k] = max(take[k], 1)
    for k in sorted(keys, key=lambda k: exact[k] - int(exact[k]), reverse=True):
        if sum(take.values()) >= n:
            break
        take[k] += 1
    while sum(take.values()) > n:
        largest = max(keys, key=lambda k: take[k])
        take[largest] -= 1
    rng = random.Random(seed)
    chosen = sorted(i for k in keys for i in rng.sample(strata[k], take[k]))
    return [snvs[i] for i in chosen]


# --------------------------------------------------------------------------- statistics


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


def auroc(scores: Sequence[float] | np.ndarray, positives: Sequence[bool] | np.ndarray) -> float:
    """P(score of a random positive > score of a random negative), ties counting 1/2 (Mann-Whitney)."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(positives, dtype=bool)
    m, n = int(y.sum()), int((~y).sum())
    if m == 0 or n == 0:
        raise ValueError("AUROC needs at least one positive and one negative")
    ranks = midranks(s)
    return float((ranks[y].sum() - m * (m + 1) / 2) / (m * n))


def auroc_delong(
    scores: Sequence[float] | np.ndarray, positives: Sequence[bool] | np.ndarray
) -> dict[str, Any]:
    """AUROC with DeLong's standard error and a normal 95% interval (clipped to [0, 1])."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(positives, dtype=bool)
    x_pos, x_neg = s[y], s[~y]
    m, n = x_pos.size, x_neg.size
    value = auroc(s, y)
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


def roc_curve(
    scores: Sequence[float] | np.ndarray, positives: Sequence[bool] | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(FPR, TPR) at every distinct score cut, from (0, 0) to (1, 1); higher score = positive."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(positives, dtype=bool)
    order = np.argsort(-s, kind="mergesort")
    s, y = s[order], y[order]
    last_of_run = np.r_[s[1:] != s[:-1], True]
    tp = np.cumsum(y)[last_of_run]
    fp = np.cumsum(~y)[last_of_run]
    return np.r_[0.0, fp / max(1, int((~y).sum()))], np.r_[0.0, tp / max(1, int(y.sum()))]


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
    p, q = int(y.sum()), int((~y).sum())
    if p == 0 or q == 0:
        raise ValueError("a threshold needs both classes")
    values, inverse = np.unique(d, return_inverse=True)
    lof_at = np.bincount(inverse, weights=y, minlength=values.size)
    neg_at = np.bincount(inverse, weights=~y, minlength=values.size)
    # Cut k (k = 0..len(values)) calls LOF the deltas values[:k].
    tpr = np.r_[0.0, np.cumsum(lof_at)] / p
    fpr = np.r_[0.0, np.cumsum(neg_at)] / q
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
    out: np.ndarray = np.exp(-np.logaddexp(0.0, -z))
    return out


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


# --------------------------------------------------------------------------- evaluation


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


# --------------------------------------------------------------------------- deltas file (resume)


def _deltas_header(model: str, options: BenchmarkOptions) -> dict[str, Any]:
    return {
        "model": model,
        "genome": GENOME,
        "window": options.window,
        "delta_method": options.delta_method,
        "reverse_complement": options.reverse_complement,
    }


def read_deltas(path: Path, expected: dict[str, Any] | None = None) -> dict[str, tuple[float, float]]:
    """Variant → (ref_score, alt_score) from a deltas TSV; checks its header against ``expected``.

    A truncated last line (an interrupted write) is ignored.
    """
    if not path.is_file():
        return {}
    with path.open() as handle:
        magic = handle.readline().rstrip("\n")
        header_line = handle.readline()
        if magic != DELTAS_MAGIC or not header_line.startswith("# "):
            raise InvalidRequest(f"{path} is not a BRCA1 benchmark deltas file", detail={"path": str(path)})
        header = json.loads(header_line[2:])
        if expected is not None and header != expected:
            raise InvalidRequest(
                f"{path} holds deltas for other settings; use another file or delete it",
                detail={"file": header, "requested": expected},
            )
        columns = handle.readline().rstrip("\n").split("\t")
        if tuple(columns) != DELTAS_COLUMNS:
            raise InvalidRequest(f"{path} has unexpected columns", detail={"columns": columns})
        scored: dict[str, tuple[float, float]] = {}
        for line in handle:
            parsed = _parse_row(line)
            if parsed is not None:
                scored[parsed[0]] = parsed[1:]
    return scored


def _parse_row(line: str) -> tuple[str, float, float] | None:
    """(variant, ref_score, alt_score) of one complete row; None for a cut or damaged line."""
    if not line.endswith("\n"):
        return None
    cells = line[:-1].split("\t")
    if len(cells) != len(DELTAS_COLUMNS):
        return None
    try:
        ref_score, alt_score, delta = float(cells[4]), float(cells[5]), float(cells[6])
    except ValueError:
        return None
    if delta != alt_score - ref_score:  # written as repr(alt - ref): a cut number shows here
        return None
    return cells[0], ref_score, alt_score


def _open_deltas(path: Path, header: dict[str, Any]) -> Any:
    if not path.is_file() or path.stat().st_size == 0:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("w")
        handle.write(f"{DELTAS_MAGIC}\n# {json.dumps(header, sort_keys=True)}\n")
        handle.write("\t".join(DELTAS_COLUMNS) + "\n")
        handle.flush()
        return handle
    with path.open("rb+") as raw:  # drop a line cut by an interrupted write (it is scored again)
        data = raw.read()
        if not data.endswith(b"\n"):
            raw.truncate(data.rfind(b"\n") + 1)
    return path.open("a")


def _row(r: ScoredSnv) -> str:
    s = r.snv
    cells = (s.notation, s.consequence, s.func_class, repr(s.function_score))
    return "\t".join((*cells, repr(r.ref_score), repr(r.alt_score), repr(r.delta))) + "\n"


# --------------------------------------------------------------------------- scoring


def _progress_callback(progress: Progress, total: int, done: int) -> tuple[Callable[[int], None], Any]:
    if callable(progress):
        state = {"done": done}

        def report(k: int) -> None:
            state["done"] += k
            progress(state["done"], total)

        return report, None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=total, initial=done, unit="SNV", desc="BRCA1", dynamic_ncols=True)
        return bar.update, bar
    return lambda k: None, None


def _batches(items: Sequence[FindlaySnv], size: int) -> Iterable[Sequence[FindlaySnv]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def score_snvs(
    scorer: Scorer,
    snvs: Sequence[FindlaySnv],
    options: BenchmarkOptions,
    *,
    genome: GenomeSource | None = None,
    progress: Progress = False,
) -> tuple[list[ScoredSnv], dict[str, Any]]:
    """Deltas of ``snvs`` (in their order) through ``DeltaEngine``, resuming from ``options.deltas_path``.

    Returns the rows and counters (scored now, reused from the file, failed with their errors).
    """
    if options.batch_size < 1:
        raise ValueError("batch_size must be positive")
    if genome is None:
        from service.genome.bundled import BundledGenome

        genome = BundledGenome()
    header = _deltas_header(scorer.name, options)
    path = options.deltas_path
    known = read_deltas(path, header) if path is not None else {}
    todo = [s for s in snvs if s.notation not in known]
    # One model call may take long on a CPU; the service's other defaults apply.
    settings = Settings(genome_sources=["bundled"], model_timeout_s=24 * 3600.0)
    engine = build_parts(settings, scorer=scorer, genome=genome).engine
    delta_options = options.delta_options()
    errors: dict[str, dict[str, Any]] = {}
    advance, bar = _progress_callback(progress, len(snvs), len(snvs) - len(todo))
    handle = _open_deltas(path, header) if path is not None and todo else None
    started = time.perf_counter()
    try:
        for batch in _batches(todo, options.batch_size):
            outcomes = await engine.score([parse_variant(s.notation) for s in batch], delta_options)
            lines = []
            for snv, outcome in zip(batch, outcomes, strict=True):
                if isinstance(outcome, ServiceError):
                    errors[snv.notation] = outcome.to_dict()
                    continue
                assert isinstance(outcome, VariantScore)
                known[snv.notation] = (outcome.ref_score, outcome.alt_score)
                lines.append(_row(ScoredSnv(snv, outcome.ref_score, outcome.alt_score)))
            if handle is not None:
                handle.write("".join(lines))
                handle.flush()
            advance(len(batch))
    finally:
        if handle is not None:
            handle.close()
        if bar is not None:
            bar.close()
    rows = [ScoredSnv(s, *known[s.notation]) for s in snvs if s.notation in known]
    counters = {
        "scored_now": len(todo) - len(errors),
        "reused": len(snvs) - len(todo),
        "failed": len(errors),
        "errors": dict(list(errors.items())[:20]),
        "seconds": time.perf_counter() - started,
    }
    return rows, counters


@dataclass
class BenchmarkResult:
    report: dict[str, Any]
    rows: list[ScoredSnv] = field(default_factory=list)


async def benchmark(
    scorer: Scorer,
    options: BenchmarkOptions,
    *,
    genome: GenomeSource | None = None,
    progress: Progress = False,
    snvs: Sequence[FindlaySnv] | None = None,
) -> BenchmarkResult:
    """Score the selected SNVs and evaluate them: the report and the scored rows (for plots)."""
    table = list(snvs) if snvs is not None else load_findlay()
    chosen = select_snvs(table, options.n, options.subset, options.seed)
    stats_before = scorer.stats.snapshot()
    rows, counters = await score_snvs(scorer, chosen, options, genome=genome, progress=progress)
    stats_after = scorer.stats.snapshot()
    report: dict[str, Any] = {
        "model": scorer.name,
        "dataset": DATASET,
        "genome": GENOME,
        "table_rows": len(table),
        "selected": len(chosen),
        "options": options.describe(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "scoring": {
            **counters,
            "windows_scored": int(stats_after["sequences"] - stats_before["sequences"]),
            "model_seconds": stats_after["seconds"] - stats_before["seconds"],
        },
        **evaluate(rows, folds=options.folds, seed=options.seed),
    }
    return BenchmarkResult(report, rows)


def run_benchmark(
    scorer: Scorer,
    options: BenchmarkOptions | None = None,
    *,
    progress: Progress = False,
    genome: GenomeSource | None = None,
) -> dict[str, Any]:
    """Synchronous entry point (CLI, Modal): the report dict of ``benchmark`` (JSON-serialisable).

    Must not be called from a running event loop; ``await benchmark(...)`` there instead.
    """
    result = asyncio.run(benchmark(scorer, options or BenchmarkOptions(), genome=genome, progress=progress))
    return result.report


# --------------------------------------------------------------------------- calibration record


def calibration_record(
    report: dict[str, Any], *, command: str | None = None, checkpoint_revision: str | None = None
) -> dict[str, Any]:
    """The calibration file (``service/data/calibration/<model>.json``) for a benchmark report."""
    options = report["options"]
    logistic = report.get("logistic")
    subset = (
        f"all {report['n']} SNVs"
        if report["selected"] == report["table_rows"]
        else f"{report['selected']} SNVs ({options['subset']}, seed {options['seed']})"
    )
    return {
        "model": report["model"],
        "checkpoint_revision": checkpoint_revision,
        "dataset": f"{DATASET}; {subset}",
        "genome": report["genome"],
        "n": report["n"],
        "n_lof": report["n_lof"],
        "window": options["window"],
        "options": {
            "delta_method": options["delta_method"],
            "reverse_complement": options["reverse_complement"],
        },
        "date": report["date"],
        "method": (
            "label: LOF-like when delta < threshold (Youden cut on all n); probability_lof: logistic "
            "regression of LOF on delta fitted on all n, its quality measured by stratified k-fold CV"
        ),
        "source": "measured by this project (bench/brca1.py)",
        "remeasured": True,
        "threshold": report["threshold"]["value"] if report.get("threshold") else None,
        "youden": report.get("threshold"),
        "class_stats": report["class_stats"],
        "auroc": report["auroc"],
        "logistic": (
            {k: logistic[k] for k in ("intercept", "slope", "converged", "penalty", "fitted_on", "cv")}
            if logistic
            else None
        ),
        "command": command,
    }


def write_calibration(record: dict[str, Any], directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{record['model']}.json"
    path.write_text(json.dumps(record, indent=2) + "\n")
    return path
