"""The resume file: deltas appended to a TSV keyed by variant, so an interrupted run resumes.

Line 1 is ``DELTAS_MAGIC``, line 2 ``# `` and the JSON settings the deltas were computed with, line 3
the column names; then one row per scored variant: its scores, the window length and the delta under
both reductions (``window``, ``suffix``) of the same log-probs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple, TextIO

from service.domain.options import DeltaOptions
from service.errors import InvalidRequest
from service.jobs.benchmark.findlay import ScoredSnv

#: Deltas file format marker (first line of the TSV).
DELTAS_MAGIC = "# brca1-benchmark deltas v2"
#: Files of the previous format (no window length or per-method deltas) are refused by name.
OLD_MAGIC = "# brca1-benchmark deltas v1"
DELTAS_COLUMNS = (
    "variant",
    "consequence",
    "func_class",
    "function_score",
    "ref_score",
    "alt_score",
    "delta",
    "window_length",
    "window_delta",
    "suffix_delta",
)


class DeltaRow(NamedTuple):
    ref_score: float
    alt_score: float
    window_length: int
    window_delta: float
    suffix_delta: float


def deltas_header(model: str, options: DeltaOptions) -> dict[str, Any]:
    """The settings a deltas file is valid for (a file written with others is refused)."""
    return {
        "model": model,
        "genome": options.genome,
        "window": options.window,
        "delta_method": options.delta_method,
        "reverse_complement": options.reverse_complement,
    }


def read_deltas(path: Path, expected: dict[str, Any] | None = None) -> dict[str, DeltaRow]:
    """Variant → its ``DeltaRow`` from a deltas TSV; checks its header against ``expected``.

    A truncated last line (an interrupted write) is ignored.
    """
    if not path.is_file():
        return {}
    with path.open() as handle:
        magic = handle.readline().rstrip("\n")
        header_line = handle.readline()
        if magic == OLD_MAGIC:
            raise InvalidRequest(
                f"{path} was written by an older benchmark (no window/suffix deltas); delete it or use "
                "another --out",
                detail={"path": str(path)},
            )
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
        scored: dict[str, DeltaRow] = {}
        for line in handle:
            parsed = _parse_row(line)
            if parsed is not None:
                scored[parsed[0]] = parsed[1]
    return scored


def _parse_row(line: str) -> tuple[str, DeltaRow] | None:
    """(variant, its row) of one complete line; None for a cut or damaged line."""
    if not line.endswith("\n"):
        return None
    cells = line[:-1].split("\t")
    if len(cells) != len(DELTAS_COLUMNS):
        return None
    try:
        ref_score, alt_score, delta = float(cells[4]), float(cells[5]), float(cells[6])
        row = DeltaRow(ref_score, alt_score, int(cells[7]), float(cells[8]), float(cells[9]))
    except ValueError:
        return None
    if delta != alt_score - ref_score:  # written as repr(alt - ref): a cut number shows here
        return None
    return cells[0], row


def open_deltas(path: Path, header: dict[str, Any]) -> TextIO:
    """The deltas file open for appending: created with its header, or with a cut last line dropped."""
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


def append_rows(handle: TextIO, rows: Sequence[ScoredSnv]) -> None:
    """Append rows and flush, so an interruption loses at most the row being written."""
    handle.write("".join(_format_row(r) for r in rows))
    handle.flush()


def _format_row(r: ScoredSnv) -> str:
    s = r.snv
    cells = (s.notation, s.consequence, s.func_class, repr(s.function_score))
    scores = (repr(r.ref_score), repr(r.alt_score), repr(r.delta))
    methods = (str(r.window_length), repr(r.window_delta), repr(r.suffix_delta))
    return "\t".join((*cells, *scores, *methods)) + "\n"
