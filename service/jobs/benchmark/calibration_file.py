"""The calibration file (``service/data/calibration/<model>.json``) built from a benchmark report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from service.domain.calibration import CalibrationFile, ScaleOptions
from service.jobs.benchmark.findlay import DATASET

METHOD = (
    "label: LOF-like when delta < threshold (Youden cut on all n); probability_lof: logistic "
    "regression of LOF on delta fitted on all n, its quality measured by stratified k-fold CV"
)
#: The report's logistic entries the file keeps.
LOGISTIC_FIELDS = ("intercept", "slope", "converged", "penalty", "fitted_on", "cv")


def calibration_record(
    report: dict[str, Any], *, command: str | None = None, checkpoint_revision: str | None = None
) -> CalibrationFile:
    """The calibration file for a benchmark report (``run.benchmark``)."""
    options = report["options"]
    logistic = report.get("logistic")
    subset = (
        f"all {report['n']} SNVs"
        if report["selected"] == report["table_rows"]
        else f"{report['selected']} SNVs ({options['subset']}, seed {options['seed']})"
    )
    return CalibrationFile(
        model=report["model"],
        checkpoint_revision=checkpoint_revision,
        dataset=f"{DATASET}; {subset}",
        genome=report["genome"],
        n=report["n"],
        n_lof=report["n_lof"],
        window=options["window"],
        options=ScaleOptions(
            delta_method=options["delta_method"], reverse_complement=options["reverse_complement"]
        ),
        date=report["date"],
        method=METHOD,
        source="measured by this project (bench/brca1.py)",
        remeasured=True,
        threshold=report["threshold"]["value"] if report.get("threshold") else None,
        youden=report.get("threshold"),
        class_stats=report["class_stats"],
        auroc=report["auroc"],
        logistic={k: logistic[k] for k in LOGISTIC_FIELDS} if logistic else None,
        command=command,
    )


def write_calibration(record: CalibrationFile, directory: Path) -> Path:
    """Write ``<model>.json`` under ``directory``; returns its path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{record.model}.json"
    path.write_text(json.dumps(record.as_json(), indent=2) + "\n")
    return path
