"""Batch files for the CLI: variants in (VCF or TSV), one result row per input row out (TSV or JSON Lines).

Input rows get a stable ``row`` key (the 1-based line number; ``12.2`` for the second ALT of a
multi-allelic VCF line). The output is appended to as batches finish, so a run that stops can be
run again: ``open_output`` reads what is there, drops a torn last line and rows whose error may not
happen again (overloaded, upstream down), and the caller skips every row still present.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

from clients._base import TRANSIENT_ERROR_TYPES
from clients.models import VariantError, VariantResult

OutputFormat = Literal["tsv", "jsonl"]

#: Columns of the TSV output (JSON Lines rows carry the full result instead).
COLUMNS = (
    "row", "input", "variant", "genome", "chrom", "pos", "ref", "alt", "kind", "delta_score", "ref_score",
    "alt_score", "label", "probability_lof", "confidence", "region", "model", "error_type", "error_message",
)  # fmt: skip
#: Error type of an input row that could not be read (it is never sent).
INPUT_ERROR = "invalid_input"


@dataclass(frozen=True)
class InputRow:
    """One variant to score: ``key`` is stable across runs, ``text`` is what the row said."""

    key: str
    text: str
    payload: str | dict[str, Any] | None = None
    error: str | None = None

    def __post_init__(self) -> None:
        # One line, single spaces: the text is stored in output cells and compared on resume.
        object.__setattr__(self, "text", " ".join(self.text.split()))


# --- input --------------------------------------------------------------------------------------------


def _open_text(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", newline="")
    return path.open(encoding="utf-8", newline="")


def read_variants(path: Path) -> list[InputRow]:
    """The rows of a VCF (``.vcf``, ``.vcf.gz``) or TSV file, in file order."""
    with _open_text(path) as handle:
        lines = [line.rstrip("\r\n") for line in handle]
    name = path.name.lower()
    is_vcf = name.endswith((".vcf", ".vcf.gz")) or (bool(lines) and lines[0].startswith("##fileformat=VCF"))
    return list(read_vcf(lines) if is_vcf else read_tsv(lines))


def _fields_row(key: str, chrom: str, pos: str, ref: str, alt: str) -> InputRow:
    chrom, pos, ref, alt = (x.strip() for x in (chrom, pos, ref, alt))
    text = f"{chrom}:{pos}:{ref or '.'}:{alt}"
    if not pos.isdigit() or int(pos) < 1:
        return InputRow(key, text, error=f"position {pos!r} is not a 1-based integer")
    fields: dict[str, Any] = {"chrom": chrom, "pos": int(pos), "alt": alt}
    if ref and ref != ".":
        fields["ref"] = ref
    return InputRow(key, text, payload=fields)


def read_vcf(lines: Iterable[str]) -> Iterator[InputRow]:
    """Data lines of a VCF: CHROM, POS (1-based), ID, REF, ALT; one row per ALT allele."""
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) < 5:
            yield InputRow(str(number), line, error="a VCF line needs CHROM, POS, ID, REF and ALT")
            continue
        alts = cols[4].split(",")
        for i, alt in enumerate(alts, start=1):
            key = str(number) if len(alts) == 1 else f"{number}.{i}"
            yield _fields_row(key, cols[0], cols[1], cols[3], alt)


_HEADER_NAMES = {
    "variant": ("variant",),
    "chrom": ("chrom", "chromosome", "chr"),
    "pos": ("pos", "position", "variant_position"),
    "ref": ("ref", "reference"),
    "alt": ("alt", "alternative"),
}


def _header(line: str) -> dict[str, int] | None:
    """Column indexes of a TSV header line, or ``None`` when the line is data."""
    names = [c.strip().lstrip("#").lower() for c in line.split("\t")]
    found = {
        field: names.index(alias)
        for field, aliases in _HEADER_NAMES.items()
        for alias in aliases
        if alias in names
    }
    if "variant" in found or {"chrom", "pos", "alt"} <= found.keys():
        return found
    return None


def read_tsv(lines: Iterable[str]) -> Iterator[InputRow]:
    """A TSV with a ``variant`` column, or ``chrom``/``pos``/``ref``/``alt`` columns (``pos`` 1-based),
    or no header at all: then the first column of each line is a variant in any notation the service
    reads. Blank lines and ``#`` comments are skipped."""
    header: dict[str, int] | None = None
    seen_data = False
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if not seen_data:
            seen_data = True
            header = _header(line)
            if header is not None:
                continue
        if line.startswith("#"):
            continue
        cols = line.split("\t")
        key = str(number)
        if header is None:
            text = cols[0].strip()
            yield InputRow(key, text, payload=text)
        elif "variant" in header:
            text = cols[header["variant"]].strip() if header["variant"] < len(cols) else ""
            yield InputRow(key, text, payload=text) if text else InputRow(key, line, error="no variant")
        else:
            if max(header.values()) >= len(cols):
                yield InputRow(key, line, error="missing columns")
                continue
            ref = cols[header["ref"]] if "ref" in header else ""
            yield _fields_row(key, cols[header["chrom"]], cols[header["pos"]], ref, cols[header["alt"]])


# --- output -------------------------------------------------------------------------------------------


def output_format(path: Path | None, json_flag: bool = False) -> OutputFormat:
    """JSON Lines for ``.json``, ``.jsonl`` and ``.ndjson`` (one object per line, so it can be resumed)."""
    if path is None:
        return "jsonl" if json_flag else "tsv"
    return "jsonl" if path.suffix.lower() in (".json", ".jsonl", ".ndjson") else "tsv"


def result_record(row: InputRow, outcome: VariantResult | VariantError | None) -> dict[str, Any]:
    """The output record of one row (``outcome`` is ``None`` for rows that could not be read)."""
    head: dict[str, Any] = {"row": row.key, "input": row.text}
    if outcome is None:
        return {**head, "error": {"type": INPUT_ERROR, "message": row.error or "unreadable", "detail": {}}}
    return {**head, **outcome.model_dump(exclude={"input"}, mode="json")}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return " ".join(str(value).split()) if isinstance(value, str) else str(value)


def tsv_line(record: dict[str, Any]) -> str:
    flat = dict(record)
    error = flat.pop("error", None) or {}
    flat["error_type"] = error.get("type")
    flat["error_message"] = error.get("message")
    return "\t".join(_cell(flat.get(c)) for c in COLUMNS) + "\n"


def _parse_line(line: str, fmt: OutputFormat) -> dict[str, Any] | None:
    """``row``, ``input`` and ``error_type`` of an output line, or ``None`` if it is not one."""
    if fmt == "jsonl":
        try:
            record = json.loads(line)
        except ValueError:
            return None
        if not isinstance(record, dict) or "row" not in record:
            return None
        error = record.get("error") or {}
        return {"row": str(record["row"]), "input": record.get("input"), "error_type": error.get("type")}
    cols = line.split("\t")
    if len(cols) != len(COLUMNS):
        return None
    record = dict(zip(COLUMNS, cols, strict=True))
    return {"row": record["row"], "input": record["input"], "error_type": record["error_type"] or None}


class ResultWriter:
    """Appends records to a TSV or JSON Lines file (``path=None``: standard output, no resume)."""

    def __init__(self, path: Path | None, fmt: OutputFormat, stream: IO[str] | None = None) -> None:
        self.path = path
        self.fmt = fmt
        self._stream = stream
        self._handle: IO[str] | None = None

    def open(self, inputs: Mapping[str, str]) -> dict[str, str]:
        """Start writing; returns ``row → input`` of the rows already done (kept in the file).

        ``inputs`` (``row → input`` of this run) must agree with the rows in the file, which is left
        untouched otherwise (``ValueError``)."""
        done: dict[str, str] = {}
        if self.path is None:
            if self.fmt == "tsv":
                self._emit("\t".join(COLUMNS) + "\n")
            return done
        kept: list[str] = []
        changed = False
        if self.path.exists() and self.path.stat().st_size:
            text = self.path.read_text(encoding="utf-8")
            lines = text.split("\n")
            changed = lines[-1] != ""  # a torn last line (the run stopped while writing it)
            lines = lines[:-1]
            if self.fmt == "tsv":
                if not lines or lines[0] != "\t".join(COLUMNS):
                    raise ValueError(f"{self.path} exists and is not a TSV this tool wrote; choose another")
                lines = lines[1:]
            for line in lines:
                parsed = _parse_line(line, self.fmt)
                keep = (
                    parsed is not None
                    and parsed["row"] not in done
                    and parsed["error_type"] not in TRANSIENT_ERROR_TYPES
                )
                if parsed is not None and keep:
                    done[parsed["row"]] = parsed["input"]
                    kept.append(line + "\n")
                else:
                    changed = True
        else:
            changed = True
        stale = [row for row, text in done.items() if inputs.get(row) != text]
        if stale:
            raise ValueError(f"{self.path} holds results for another input (row {stale[0]}); choose another")
        if changed:
            header = ["\t".join(COLUMNS) + "\n"] if self.fmt == "tsv" else []
            _replace(self.path, header + kept)
        self._handle = self.path.open("a", encoding="utf-8", newline="")
        return done

    def write(self, records: Iterable[dict[str, Any]]) -> None:
        """Append records and flush them to disk (one batch is one checkpoint)."""
        lines = [tsv_line(r) if self.fmt == "tsv" else json.dumps(r) + "\n" for r in records]
        self._emit("".join(lines))

    def _emit(self, text: str) -> None:
        handle = self._handle or self._stream
        assert handle is not None, "ResultWriter.open() first"
        handle.write(text)
        handle.flush()
        if self._handle is not None:
            os.fsync(self._handle.fileno())

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def _replace(path: Path, lines: list[str]) -> None:
    """Write ``lines`` to ``path`` atomically (a temporary file beside it, then a rename)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or Path("."))
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.writelines(lines)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
