"""The calibration file (``service/data/calibration/<model>.json``) built from a benchmark report."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, NamedTuple

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
        variant_kinds=report.get("variant_kinds"),
        window_lengths=report.get("window_lengths"),
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
        distribution=report.get("distribution"),
        command=command,
    )


#: Fields that say when and how a record was produced, not what was measured.
CIRCUMSTANCES = frozenset({"date", "command"})


def same_measurement(a: CalibrationFile, b: CalibrationFile) -> bool:
    """Whether two records hold the same figures (everything but ``CIRCUMSTANCES``)."""
    return a.model_dump(exclude=set(CIRCUMSTANCES)) == b.model_dump(exclude=set(CIRCUMSTANCES))


class Written(NamedTuple):
    path: Path
    #: False when the file already held the same measurement and was left untouched.
    changed: bool


def write_calibration(record: CalibrationFile, directory: Path) -> Written:
    """Write ``<model>.json`` under ``directory``, unless it already holds the same measurement.

    So a rerun does not rewrite a tracked file for a new date alone; a damaged file is replaced.
    """
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{record.model}.json"
    if _holds(path, record):
        return Written(path, changed=False)
    path.write_text(dumps(record.as_json()) + "\n")
    return Written(path, changed=True)


#: A JSON array of numbers only, as ``json.dumps(indent=2)`` spreads it over lines.
_NUMBER_ARRAY = re.compile(r"\[[-+0-9.eE,\s]*\]")


def dumps(data: dict[str, Any]) -> str:
    """Indented JSON with every array of numbers on one line (the distribution is 3,893 numbers)."""
    return _NUMBER_ARRAY.sub(lambda m: json.dumps(json.loads(m.group(0))), json.dumps(data, indent=2))


def _holds(path: Path, record: CalibrationFile) -> bool:
    if not path.is_file():
        return False
    try:
        existing = CalibrationFile.model_validate_json(path.read_bytes())
    except ValueError:  # not a calibration file (pydantic's ValidationError is a ValueError)
        return False
    return same_measurement(existing, record)
