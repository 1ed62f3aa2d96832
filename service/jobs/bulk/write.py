"""Writing bulk results: one TSV row per input row, in input order."""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, Any

from service.jobs.bulk.score import BulkResult

#: Output columns, in order. ``region`` is 1-based inclusive (``chr17:43115533-43123724``). An empty
#: ``label`` has its ``label_reason``; ``delta_percentile``, ``lof_fraction`` and ``func_fraction`` place
#: the delta among the BRCA1 benchmark's (relative to BRCA1 SGE variants under this model).
COLUMNS: tuple[str, ...] = (
    "line",
    "id",
    "input",
    "genome",
    "variant",
    "chrom",
    "pos",
    "ref",
    "alt",
    "kind",
    "region",
    "window_length",
    "ref_score",
    "alt_score",
    "delta_score",
    "label",
    "label_reason",
    "probability_lof",
    "confidence",
    "non_acgt_ref",
    "non_acgt_alt",
    "source",
    "delta_percentile",
    "lof_fraction",
    "func_fraction",
    "context_reason",
    "model",
    "status",
    "error_type",
    "error_message",
)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)
    return str(value).replace("\t", " ").replace("\n", " ")


def write_tsv(results: Iterable[BulkResult], path: str | Path | IO[str]) -> int:
    """Write the results as a TSV with the :data:`COLUMNS` header; returns the number of rows."""
    if isinstance(path, (str, Path)):
        with Path(path).open("w", encoding="utf-8", newline="") as handle:
            return write_tsv(results, handle)
    writer = csv.writer(path, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_NONE, escapechar="\\")
    writer.writerow(COLUMNS)
    count = 0
    for result in results:
        writer.writerow([_cell(result.values.get(column)) for column in COLUMNS])
        count += 1
    return count


def summary(results: Sequence[BulkResult]) -> dict[str, int]:
    errors: dict[str, int] = {}
    for result in results:
        if not result.ok:
            key = str(result.values.get("error_type"))
            errors[key] = errors.get(key, 0) + 1
    return {
        "rows": len(results),
        "ok": sum(r.ok for r in results),
        **{f"error:{k}": v for k, v in errors.items()},
    }
