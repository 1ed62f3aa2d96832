"""Labels for deltas, from a per-model calibration file with its provenance.

A calibration file is ``<model>.json`` (``service/data/calibration/`` by default) holding the model, the
dataset, n, window, how it was fitted, the threshold, class statistics and the measured AUROC. A model
without a file, or whose measured AUROC shows no signal (< ``MIN_AUROC``), gets no pathogenic/benign
label: the label is ``uncalibrated``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

MIN_AUROC = 0.6
LIKELY_PATHOGENIC = "likely_pathogenic"
LIKELY_BENIGN = "likely_benign"
UNCALIBRATED = "uncalibrated"
SCOPE_NOTE = (
    "Calibrated on BRCA1 saturation genome editing (Findlay et al. 2018) only; a research score, "
    "not a clinical call."
)


@dataclass(frozen=True)
class Label:
    label: str
    #: Probability of loss of function from the fitted logistic model (None without one).
    probability_lof: float | None
    #: The original project's heuristic: min(1, |delta - threshold| / class std) (None when uncalibrated).
    confidence: float | None


@dataclass(frozen=True)
class Calibration:
    model: str
    data: dict[str, Any]

    @property
    def threshold(self) -> float | None:
        value = self.data.get("threshold")
        return float(value) if value is not None else None

    @property
    def auroc(self) -> float | None:
        value = self.data.get("auroc")
        return float(value) if value is not None else None

    @property
    def usable(self) -> bool:
        if self.threshold is None:
            return False
        return self.auroc is None or self.auroc >= MIN_AUROC

    def label(self, delta: float) -> Label:
        threshold = self.threshold
        if threshold is None or not self.usable:
            return Label(UNCALIBRATED, None, None)
        stats = self.data.get("class_stats", {})
        logistic = self.data.get("logistic")
        probability = None
        if logistic:
            z = float(logistic["intercept"]) + float(logistic["slope"]) * delta
            probability = 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0
        pathogenic = probability >= 0.5 if probability is not None else delta < threshold
        std = float(stats.get("lof" if pathogenic else "func", {}).get("std") or 0.0)
        confidence = min(1.0, abs(delta - threshold) / std) if std > 0 else None
        return Label(LIKELY_PATHOGENIC if pathogenic else LIKELY_BENIGN, probability, confidence)

    def describe(self) -> dict[str, Any]:
        return {**self.data, "usable": self.usable, "scope": SCOPE_NOTE}


def _default_dir() -> Path:
    return Path(str(resources.files("service") / "data" / "calibration"))


def load_calibration(model: str, directory: Path | None = None) -> Calibration:
    """The calibration for ``model``; an empty (uncalibrated) one when no file exists."""
    path = (directory or _default_dir()) / f"{model}.json"
    if not path.is_file():
        return Calibration(model, {"model": model, "note": "no calibration file for this model"})
    data = json.loads(path.read_text())
    if data.get("model") != model:
        raise ValueError(f"{path} is a calibration for {data.get('model')!r}, not {model!r}")
    return Calibration(model, data)
