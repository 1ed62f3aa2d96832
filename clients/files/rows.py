"""Input rows and output records: the one row model of every variant file, whoever scores it.

An input row is one variant to score (one ALT of a VCF record, one line of a TSV). An output record
is one row of the results, with the same keys (:data:`COLUMNS`) whether the CLI scored it over HTTP,
``python -m service.jobs.bulk`` in this process, or the Modal entrypoint on GPU containers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: Output columns, in order. ``row`` is the 1-based output row, ``line`` the 1-based input line;
#: ``pos`` is 1-based (VCF) and ``region`` 1-based inclusive.
#: An empty ``label`` has its ``label_reason``; ``source`` is ``name:assembly:version`` of the sequence the
#: windows were read from; ``delta_percentile``, ``lof_fraction`` and ``func_fraction`` place the delta
#: among the calibration's BRCA1 benchmark SNVs (relative to BRCA1 SGE variants under this model).
COLUMNS: tuple[str, ...] = (
    "row", "line", "id", "input", "genome", "variant", "chrom", "pos", "ref", "alt", "kind", "region",
    "window_length", "ref_score", "alt_score", "delta_score", "label", "label_reason", "probability_lof",
    "confidence", "non_acgt_ref", "non_acgt_alt", "source", "delta_percentile", "lof_fraction",
    "func_fraction", "context_reason", "model", "warnings", "status", "error_type", "error_message",
)  # fmt: skip

#: The columns of a scored row taken from the service's answer (its ``VariantResult`` fields, with
#: ``source`` and ``context`` flattened).
RESULT_FIELDS: tuple[str, ...] = COLUMNS[COLUMNS.index("variant") : COLUMNS.index("model") + 1]
#: ``context`` field of the answer → its column.
CONTEXT_COLUMNS = {
    "percentile": "delta_percentile",
    "lof_fraction": "lof_fraction",
    "func_fraction": "func_fraction",
}

#: Error type of a row that could not be read into a variant (it is answered without scoring).
READ_ERROR = "invalid_variant"

#: Row errors that a rerun on the same output scores again: the service or a container was not
#: able to answer then, and may be now (the HTTP retry statuses' types, and a lost chunk).
RESCORED_ERRORS = frozenset(
    {"rate_limited", "upstream_error", "upstream_unavailable", "upstream_timeout", "overloaded",
     "model_unavailable", "internal_error"}
)  # fmt: skip

Record = dict[str, Any]


@dataclass(frozen=True)
class InputRow:
    """One variant to score. ``payload`` is what the service parses: a notation string, or the fields
    ``chrom``, ``pos`` (1-based int), ``ref`` (absent when the file has none) and ``alt``; it is
    ``None`` when the row could not be read, and ``error`` says why."""

    #: 0-based position among the file's rows (the output order).
    index: int
    #: 1-based line number in the file.
    line: int
    id: str
    #: The variant as written (``chrom:pos:ref:alt`` for VCF records and column TSVs), on one line.
    text: str
    payload: str | dict[str, Any] | None
    #: The row's own genome column, as written (``None``: the run's genome).
    genome: str | None = None
    error: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", " ".join(self.text.split()))

    @property
    def number(self) -> int:
        """The 1-based output row (the ``row`` column)."""
        return self.index + 1


def _head(row: InputRow, genome: str) -> Record:
    return {"row": row.number, "line": row.line, "id": row.id, "input": row.text, "genome": genome}


def scored_record(row: InputRow, result: Mapping[str, Any]) -> Record:
    """The record of a scored row; ``result`` holds the service's ``VariantResult`` fields."""
    record = _head(row, str(result["genome"]))
    record.update({key: result.get(key) for key in RESULT_FIELDS})
    source = result.get("source")
    if isinstance(source, Mapping):
        record["source"] = ":".join(str(source.get(k, "")) for k in ("name", "assembly", "version"))
    context = result.get("context")
    for key, column in CONTEXT_COLUMNS.items():
        record[column] = context.get(key) if isinstance(context, Mapping) else None
    record["warnings"] = [_warning_text(w) for w in result.get("warnings") or []]
    record.update(status="ok", error_type=None, error_message=None)
    return record


def error_record(row: InputRow, genome: str, error_type: str, message: str) -> Record:
    """The record of a row that was not scored (unreadable, refused, or its chunk failed)."""
    record = _head(row, genome)
    record.update(dict.fromkeys(RESULT_FIELDS))
    record.update(warnings=[], status="error", error_type=error_type, error_message=message)
    return record


def read_error_record(row: InputRow, genome: str) -> Record:
    """The record of a row that could not be read (``row.error``); ``genome``: the run's."""
    return error_record(row, row.genome or genome, READ_ERROR, row.error or "unreadable row")


def _warning_text(warning: Any) -> str:
    if isinstance(warning, Mapping):
        return str(warning.get("message", ""))
    return str(warning)


def unreadable(rows: Sequence[InputRow]) -> list[InputRow]:
    return [row for row in rows if row.payload is None]
