"""Labels for deltas, from a per-model calibration file with its provenance.

A calibration file is ``<model>.json`` (``service/data/calibration/`` by default), written by
``python bench/brca1.py --model <name> --write-calibration`` (``service.jobs.benchmark``) and read here,
both through ``CalibrationFile``. It holds the model, checkpoint revision, dataset, n, window, options,
date, the Youden threshold, class statistics, the measured AUROC (overall / coding / noncoding), the
logistic fit with its cross-validated metrics and the command that produced it.

How a delta is labelled:

* ``label``: ``likely_pathogenic`` when ``delta < threshold`` (the Youden cut, which balances
  sensitivity and specificity on BRCA1), else ``likely_benign``.
* ``probability_lof``: ``P(LOF | delta)`` from the logistic regression fitted on the benchmark (its
  out-of-fold quality is in the file). It reflects the BRCA1 table's base rate of LOF (21%), so a
  variant just below the threshold can be labelled ``likely_pathogenic`` with a probability under 0.5.
* ``confidence``: the fitted probability that the label shown is right: ``probability_lof`` for
  ``likely_pathogenic``, ``1 - probability_lof`` for ``likely_benign``. It replaces the original
  project's heuristic ``min(1, |delta - threshold| / class std)``, which was not a probability; it is
  ``None`` when the file has no logistic fit.
* no label (``label`` None, no probability, no confidence), with a ``reason`` from ``LABEL_REASONS``:
  no file or no threshold; a measured AUROC below ``MIN_AUROC``, whose 95% interval reaches 0.5, or
  fitted on fewer than ``MIN_CLASS_N`` rows of a class; or, without a measured AUROC, no published one
  of at least ``MIN_AUROC``; a request whose window / delta method / strand averaging differs from the
  calibration's (deltas are means over the window, so their scale depends on it); a variant kind or an
  actual window length (shortened at a chromosome end) the calibration was not fitted on, or a file that
  does not say which (``variant_kinds``, ``window_lengths``); any N in the windows.

Context (``Calibration.context``): where a delta falls among the benchmark's own deltas, kept sorted by
class in the file (``distribution``): its percentile among all the benchmark's SNVs and the fractions of
LOF and of FUNC/INT SNVs whose delta is at least as low. Given for every model with a distribution
(the CPU one too) when the delta is on the benchmark's scale (options and window length); it is
relative to BRCA1 SGE variants under this model, never a clinical probability (``CONTEXT_NOTE``).

Files from elsewhere (``evo2_7b.json``: the original project's threshold) carry ``"remeasured": false``;
they keep their threshold label when a published AUROC for the model vouches for it, with no
probability. Every label is a BRCA1-calibrated research score, never a clinical call (``SCOPE_NOTE``).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from itertools import pairwise
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

from service.domain.options import DeltaMethod

MIN_AUROC = 0.6
#: Fewest rows per class (LOF, FUNC/INT) a measured calibration needs before it labels anything.
MIN_CLASS_N = 10
LIKELY_PATHOGENIC = "likely_pathogenic"
LIKELY_BENIGN = "likely_benign"

#: Why a delta has no label (``Label.reason``), most fundamental first.
NO_CALIBRATION = "no_calibration"
MODEL_NOT_VALIDATED = "model_not_validated"
NON_FINITE = "non_finite_delta"
OPTIONS_OUTSIDE = "options_outside_calibration"
SCOPE_UNKNOWN = "calibration_scope_unknown"
KIND_OUTSIDE = "kind_outside_calibration"
LENGTH_OUTSIDE = "window_length_outside_calibration"
WINDOW_HAS_N = "window_has_n"
LABEL_REASONS = {
    NO_CALIBRATION: "the model has no calibration file, or the file no threshold",
    MODEL_NOT_VALIDATED: f"the model's BRCA1 AUROC is below {MIN_AUROC}, its 95% interval reaches 0.5, "
    f"or a class had fewer than {MIN_CLASS_N} rows",
    NON_FINITE: "the delta is not a finite number",
    OPTIONS_OUTSIDE: "the request's window, delta method or strand averaging differs from the calibration's",
    SCOPE_UNKNOWN: "the calibration file does not say which variant kinds and window lengths it was "
    "fitted on",
    KIND_OUTSIDE: "the calibration was not fitted on variants of this kind (BRCA1: SNVs only)",
    LENGTH_OUTSIDE: "the window (shortened at a chromosome end) is not a length the calibration was "
    "fitted on",
    WINDOW_HAS_N: "a window holds N or other non-ACGT bases",
}
#: Why a delta has no context (``Calibration.context``).
NO_DISTRIBUTION = "no_distribution"
CONTEXT_REASONS = {
    NO_DISTRIBUTION: "the calibration file keeps no distribution of benchmark deltas",
    NON_FINITE: LABEL_REASONS[NON_FINITE],
    OPTIONS_OUTSIDE: LABEL_REASONS[OPTIONS_OUTSIDE],
    LENGTH_OUTSIDE: "the window is not a length the benchmark's deltas were computed on",
}
CONTEXT_NOTE = (
    "relative to BRCA1 SGE variants under this model (the Findlay et al. 2018 SNVs the benchmark scored): "
    "a description of where this delta falls among theirs, not a clinical probability"
)
SCOPE_NOTE = (
    "Calibrated on BRCA1 saturation genome editing (Findlay et al. 2018) only; a research score, "
    "not a clinical call."
)
LABEL_RULE = (
    "likely_pathogenic when delta < threshold (Youden cut on BRCA1), else likely_benign; "
    "probability_lof from the logistic fit (BRCA1 base rate); confidence = fitted probability that the "
    f"label is right; no label (label_reason says why) when the model's BRCA1 AUROC is below {MIN_AUROC}, "
    "the request's options, the variant kind or the window length differ from the calibration's, or a "
    "window holds N"
)


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScaleOptions(_Record):
    """The delta options the calibration was measured with (deltas from others are on another scale)."""

    delta_method: DeltaMethod | None = None
    reverse_complement: bool | None = None


class YoudenCut(_Record):
    value: float
    tpr: float | None = None
    fpr: float | None = None
    j: float | None = None


class ClassStats(_Record):
    """Summary of the deltas of one class (files from elsewhere may hold only ``std``)."""

    n: int | None = None
    mean: float | None = None
    std: float | None = None
    median: float | None = None


class DeltaStats(_Record):
    lof: ClassStats
    func: ClassStats
    by_func_class: dict[str, ClassStats] | None = None


class AurocEstimate(_Record):
    """AUROC of ``-delta`` for LOF with DeLong's standard error and 95% interval."""

    value: float
    se: float | None = None
    ci95: tuple[float, float] | None = None
    n: int | None = None
    n_lof: int | None = None


class AurocSplits(_Record):
    """``None`` for a split whose rows hold one class only."""

    overall: AurocEstimate | None = None
    coding: AurocEstimate | None = None
    noncoding: AurocEstimate | None = None


class Baseline(_Record):
    what: str
    log_loss: float
    brier: float


class CrossValidation(_Record):
    """Out-of-fold quality of the logistic fit, beside the base rate's."""

    folds: int
    seed: int
    stratified: bool
    auroc: float
    auroc_per_fold: list[float]
    log_loss: float
    brier: float
    baseline: Baseline


class LogisticRecord(_Record):
    """``P(LOF | delta) = 1 / (1 + exp(-(intercept + slope * delta)))``."""

    intercept: float
    slope: float
    converged: bool | None = None
    penalty: float | None = None
    fitted_on: int | None = None
    #: Written by the benchmark; its out-of-fold quality.
    cv: CrossValidation | None = None


class DeltaDistribution(_Record):
    """The benchmark's deltas by class, each list sorted ascending (rounded to ``digits`` significant
    digits): all of them, so a delta's place among them is exact (3,893 numbers, about 50 kB)."""

    what: str | None = None
    digits: int | None = None
    lof: list[float]
    func: list[float]

    @model_validator(mode="after")
    def _sorted(self) -> DeltaDistribution:
        for name, values in (("lof", self.lof), ("func", self.func)):
            if any(b < a for a, b in pairwise(values)):
                raise ValueError(f"distribution.{name} must be sorted ascending")
        if not self.lof or not self.func:
            raise ValueError("distribution needs deltas of both classes")
        return self


class PublishedAuroc(_Record):
    value: float
    source: str


class CalibrationFile(_Record):
    """The calibration file, as the benchmark writes it and the service reads it.

    A file from elsewhere may lack fields (None); only what labels need is required inside a part.
    """

    model: str
    checkpoint_revision: str | None = None
    dataset: str | None = None
    genome: str | None = None
    n: int | None = None
    n_lof: int | None = None
    window: int | None = None
    #: What the fit saw: variant kinds (``snv``, ``mnv``, ``insertion``, ``deletion``) and actual window
    #: lengths. Labels are given only inside them; a file without them labels nothing.
    variant_kinds: list[str] | None = None
    window_lengths: list[int] | None = None
    options: ScaleOptions | None = None
    date: str | None = None
    method: str | None = None
    source: str | None = None
    #: As written in the file; ``Calibration.describe`` reports whether an AUROC was measured instead.
    remeasured: bool | None = None
    label_note: str | None = None
    note: str | None = None
    threshold: float | None = None
    youden: YoudenCut | None = None
    class_stats: DeltaStats | None = None
    #: Measured by this project; None for a file from elsewhere.
    auroc: AurocSplits | None = None
    logistic: LogisticRecord | None = None
    #: The benchmark's deltas by class, for the context of every delta.
    distribution: DeltaDistribution | None = None
    #: For a file not measured here: a published AUROC that vouches for the threshold.
    published_auroc: PublishedAuroc | None = None
    command: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The fields the file holds (those given when it was built or read), as JSON values."""
        return self.model_dump(mode="json", exclude_unset=True)


@dataclass(frozen=True)
class Label:
    #: ``likely_pathogenic``, ``likely_benign``, or None (``reason`` says why).
    label: str | None
    #: P(LOF | delta) from the fitted logistic model (None without one, or without a label).
    probability_lof: float | None
    #: Fitted probability that ``label`` is right (p for pathogenic, 1 - p for benign); None without a fit.
    confidence: float | None
    #: Why there is no label (a key of ``LABEL_REASONS``); None when there is one.
    reason: str | None = None


def no_label(reason: str) -> Label:
    return Label(None, None, None, reason)


@dataclass(frozen=True)
class DeltaScale:
    """What a delta was computed on. None is not checked: the engine gives every field; a caller with a
    delta of the benchmark's own scale (the benchmark, tests) may leave them out."""

    window: int | None = None
    delta_method: str | None = None
    reverse_complement: bool | None = None
    #: The actual window length (shorter than ``window`` at a chromosome end) and the variant's kind.
    window_length: int | None = None
    kind: str | None = None
    #: Non-ACGT bases in the two windows (any withholds the label).
    non_acgt: int = 0


UNCHECKED = DeltaScale()


@dataclass(frozen=True)
class DeltaContext:
    """Where a delta falls among the benchmark's deltas under the same model (``CONTEXT_NOTE``)."""

    #: Percent of the benchmark's SNVs (both classes) whose delta is at most this one.
    percentile: float
    #: Fraction of its LOF SNVs, and of its FUNC/INT SNVs, whose delta is at most this one.
    lof_fraction: float
    func_fraction: float
    n_lof: int
    n_func: int
    note: str = CONTEXT_NOTE


@dataclass(frozen=True)
class Calibration:
    model: str
    file: CalibrationFile

    @property
    def data(self) -> dict[str, Any]:
        """The file's content as JSON values."""
        return self.file.as_json()

    @property
    def threshold(self) -> float | None:
        return self.file.threshold

    @property
    def _overall(self) -> AurocEstimate | None:
        return self.file.auroc.overall if self.file.auroc is not None else None

    @property
    def auroc(self) -> float | None:
        """The measured overall AUROC (None when the file's numbers were not measured by this project)."""
        overall = self._overall
        return overall.value if overall is not None else None

    @property
    def published_auroc(self) -> float | None:
        published = self.file.published_auroc
        return published.value if published is not None else None

    @property
    def auroc_ci95(self) -> tuple[float, float] | None:
        overall = self._overall
        return overall.ci95 if overall is not None else None

    @cached_property
    def usable(self) -> bool:
        """Whether labels are given: a threshold and evidence of signal.

        Measured: AUROC ≥ ``MIN_AUROC``, a 95% interval above 0.5 when the file has one, and at least
        ``MIN_CLASS_N`` rows per class (a small benchmark subset reaches 0.6 by chance, and DeLong's
        interval collapses at AUROC 1). Not measured here: a published AUROC ≥ ``MIN_AUROC``.
        """
        if self.threshold is None:
            return False
        measured = self.auroc
        if measured is not None:
            ci = self.auroc_ci95
            n, n_lof = self.file.n, self.file.n_lof
            if n is not None and n_lof is not None and min(n_lof, n - n_lof) < MIN_CLASS_N:
                return False
            return measured >= MIN_AUROC and (ci is None or ci[0] > 0.5)
        published = self.published_auroc
        return published is not None and published >= MIN_AUROC

    def applies_to(
        self,
        *,
        window: int | None = None,
        delta_method: str | None = None,
        reverse_complement: bool | None = None,
    ) -> bool:
        """Whether deltas computed with these options are on the calibration's scale (None = not given)."""
        options = self.file.options or ScaleOptions()
        checks = (
            (window, self.file.window),
            (delta_method, options.delta_method),
            (reverse_complement, options.reverse_complement),
        )
        return all(given is None or known is None or given == known for given, known in checks)

    def probability(self, delta: float) -> float | None:
        logistic = self.file.logistic
        if logistic is None:
            return None
        z = logistic.intercept + logistic.slope * delta
        # Numerically safe sigmoid for either sign of z.
        return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))

    def label(self, delta: float, scale: DeltaScale = UNCHECKED) -> Label:
        """The label of ``delta``, or none with its reason."""
        reason = self._no_label_reason(delta, scale)
        if reason is None and scale.non_acgt > 0:
            reason = WINDOW_HAS_N
        if reason is not None:
            return no_label(reason)
        threshold = self.threshold
        assert threshold is not None
        pathogenic = delta < threshold
        p = self.probability(delta)
        confidence = None if p is None else (p if pathogenic else 1.0 - p)
        return Label(LIKELY_PATHOGENIC if pathogenic else LIKELY_BENIGN, p, confidence)

    def _on_scale(self, scale: DeltaScale) -> bool:
        return self.applies_to(
            window=scale.window, delta_method=scale.delta_method, reverse_complement=scale.reverse_complement
        )

    def _no_label_reason(self, delta: float, scale: DeltaScale) -> str | None:
        if self.threshold is None:
            return NO_CALIBRATION
        if not self.usable:
            return MODEL_NOT_VALIDATED
        if not math.isfinite(delta):
            return NON_FINITE
        if not self._on_scale(scale):
            return OPTIONS_OUTSIDE
        kinds, lengths = self.file.variant_kinds, self.file.window_lengths
        kind, length = scale.kind, scale.window_length
        if (kind is not None and kinds is None) or (length is not None and lengths is None):
            return SCOPE_UNKNOWN
        if kind is not None and kinds is not None and kind not in kinds:
            return KIND_OUTSIDE
        if length is not None and lengths is not None and length not in lengths:
            return LENGTH_OUTSIDE
        return None

    def context(self, delta: float, scale: DeltaScale = UNCHECKED) -> tuple[DeltaContext | None, str | None]:
        """Where ``delta`` falls among the benchmark's deltas, or None with the reason."""
        distribution = self.file.distribution
        if distribution is None:
            return None, NO_DISTRIBUTION
        if not math.isfinite(delta):
            return None, NON_FINITE
        if not self._on_scale(scale):
            return None, OPTIONS_OUTSIDE
        lengths, length = self.file.window_lengths, scale.window_length
        if length is not None and (lengths is None or length not in lengths):
            return None, LENGTH_OUTSIDE
        lof = bisect_right(distribution.lof, delta)
        func = bisect_right(distribution.func, delta)
        n_lof, n_func = len(distribution.lof), len(distribution.func)
        context = DeltaContext(
            percentile=100.0 * (lof + func) / (n_lof + n_func),
            lof_fraction=lof / n_lof,
            func_fraction=func / n_func,
            n_lof=n_lof,
            n_func=n_func,
        )
        return context, None

    def describe(self) -> dict[str, Any]:
        """The file for /info, with the distribution summarised (its deltas are thousands of numbers)."""
        data = self.data
        distribution = self.file.distribution
        if distribution is not None:
            data["distribution"] = {
                "what": distribution.what,
                "n_lof": len(distribution.lof),
                "n_func": len(distribution.func),
            }
        return {
            **data,
            "usable": self.usable,
            "remeasured": self.auroc is not None,
            "min_auroc": MIN_AUROC,
            "label_rule": LABEL_RULE,
            "label_reasons": LABEL_REASONS,
            "context_reasons": CONTEXT_REASONS,
            "context_note": CONTEXT_NOTE,
            "scope": SCOPE_NOTE,
        }


def _default_dir() -> Path:
    return Path(str(resources.files("service") / "data" / "calibration"))


def load_calibration(model: str, directory: Path | None = None) -> Calibration:
    """The calibration for ``model``; an empty one (no labels) when no file exists."""
    path = (directory or _default_dir()) / f"{model}.json"
    if not path.is_file():
        return Calibration(model, CalibrationFile(model=model, note="no calibration file for this model"))
    file = CalibrationFile.model_validate_json(path.read_text())
    if file.model != model:
        raise ValueError(f"{path} is a calibration for {file.model!r}, not {model!r}")
    return Calibration(model, file)
