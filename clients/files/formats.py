"""Output formats: TSV and JSON Lines (one row per line); the annotated VCF is in ``clients.files.vcf``.

A format turns the records of one output *unit* into one line (a unit is one row, or one VCF record
holding the rows of its ALT alleles) and reads such a line back on resume.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from clients.files.rows import COLUMNS, InputRow, Record

FormatName = Literal["tsv", "jsonl", "vcf", "vcf.gz"]
SUFFIXES: dict[str, FormatName] = {
    ".tsv": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".vcf": "vcf",
    ".vcf.gz": "vcf.gz",
}


def output_format(path: Path | None, json_lines: bool = False) -> FormatName:
    """The format an output name asks for (standard output: TSV, or JSON Lines when asked);
    ``ValueError`` for a name whose extension is none of :data:`SUFFIXES`."""
    if path is None:
        return "jsonl" if json_lines else "tsv"
    name = path.name.lower()
    for suffix in sorted(SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return SUFFIXES[suffix]
    raise ValueError(
        f"cannot tell the output format of {path.name!r}: name it .tsv, .jsonl (JSON Lines), "
        ".vcf or .vcf.gz (bgzipped and tabix-indexed)"
    )


@dataclass(frozen=True)
class Parsed:
    """What resuming needs of one output line: its rows' error types and the models named."""

    errors: tuple[str | None, ...]
    models: frozenset[str]


class Format(Protocol):
    def header(self) -> list[str]:
        """Lines (ending in a newline) that start a new output."""
        ...

    def header_length(self, lines: Sequence[str]) -> int:
        """How many of an existing output's lines are its header; ``ValueError`` if it is not ours."""
        ...

    def units(self) -> list[tuple[int, ...]]:
        """Row indexes of each output line, in output order."""
        ...

    def render(self, unit: int, records: Sequence[Record]) -> str:
        """Output line ``unit`` (ending in a newline) from its rows' records."""
        ...

    def parse(self, unit: int, line: str) -> Parsed | None:
        """Read back output line ``unit``; ``None`` when it is not that unit's line."""
        ...


def cell(value: Any) -> str:
    """A TSV cell: empty for none, ``repr`` of floats (exact), lists joined by ``; ``, one line."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)
    if isinstance(value, list):
        value = "; ".join(str(v) for v in value)
    return " ".join(str(value).split())


class TsvFormat:
    """One row per line under a header of :data:`COLUMNS`."""

    def __init__(self, rows: Sequence[InputRow]) -> None:
        self.rows = rows

    def header(self) -> list[str]:
        return ["\t".join(COLUMNS) + "\n"]

    def header_length(self, lines: Sequence[str]) -> int:
        if not lines or lines[0] != "\t".join(COLUMNS):
            raise ValueError("it exists and is not a TSV this tool wrote")
        return 1

    def units(self) -> list[tuple[int, ...]]:
        return [(row.index,) for row in self.rows]

    def render(self, unit: int, records: Sequence[Record]) -> str:
        [record] = records
        return "\t".join(cell(record.get(c)) for c in COLUMNS) + "\n"

    def parse(self, unit: int, line: str) -> Parsed | None:
        cells = line.split("\t")
        if len(cells) != len(COLUMNS):
            return None
        values = dict(zip(COLUMNS, cells, strict=True))
        return _parsed(self.rows[unit], values["row"], values["input"], values)


class JsonLinesFormat:
    """One JSON object per line with the keys of :data:`COLUMNS` (numbers as numbers, none as null)."""

    def __init__(self, rows: Sequence[InputRow]) -> None:
        self.rows = rows

    def header(self) -> list[str]:
        return []

    def header_length(self, lines: Sequence[str]) -> int:
        return 0

    def units(self) -> list[tuple[int, ...]]:
        return [(row.index,) for row in self.rows]

    def render(self, unit: int, records: Sequence[Record]) -> str:
        [record] = records
        return json.dumps({c: _json_value(record.get(c)) for c in COLUMNS}, allow_nan=False) + "\n"

    def parse(self, unit: int, line: str) -> Parsed | None:
        try:
            values = json.loads(line)
        except ValueError:
            return None
        if not isinstance(values, dict):
            return None
        return _parsed(self.rows[unit], str(values.get("row")), values.get("input"), values)


def _json_value(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _parsed(row: InputRow, number: str, text: Any, values: dict[str, Any]) -> Parsed | None:
    if number != str(row.number) or text != row.text:
        return None
    error = values.get("error_type") or None
    model = values.get("model") or None
    return Parsed((error,), frozenset({model} if model and not error else ()))
