"""The results file: rows written as they complete, in input order, resumable after any stop.

:class:`ResultWriter` takes records in any order and appends each output line as soon as every line
before it is written, with one ``write`` + ``fsync`` per call: after a kill the file holds whole
lines in input order (a torn last line is dropped on the next run). Opening an existing output
resumes it: lines that belong to this input are kept (another input's or another model's output is
refused, the file untouched), rows whose error may pass (:data:`RESCORED_ERRORS`) are scored again,
and the file stays in input order. Rewrites go through a temporary file and a rename.

A ``.vcf.gz`` is written as a plain VCF beside it (``NAME.partial``) and bgzipped and tabix-indexed
when its last row is in.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO

from clients.files.formats import Format, FormatName, JsonLinesFormat, Parsed, TsvFormat, output_format
from clients.files.read import InputFile
from clients.files.rows import RESCORED_ERRORS, Record
from clients.files.vcf import RunInfo, VcfFormat, bgzip_and_index, require_pysam, sorted_for_tabix


def make_format(name: FormatName, source: InputFile, run: RunInfo) -> Format:
    if name == "tsv":
        return TsvFormat(source.rows)
    if name == "jsonl":
        return JsonLinesFormat(source.rows)
    if source.vcf is None:
        raise ValueError("an annotated VCF output needs a VCF input; write .tsv or .jsonl for this file")
    if name == "vcf.gz":
        require_pysam()
        unsorted = sorted_for_tabix(source.vcf)
        if unsorted is not None:
            raise ValueError(
                f"a .vcf.gz output is tabix-indexed, which needs records sorted by position: {unsorted}; "
                "sort the input (bcftools sort) or write .vcf"
            )
    return VcfFormat(source.vcf, run)


def check_output(path: Path | None, source: InputFile, *, json_lines: bool = False) -> None:
    """Raise what :class:`ResultWriter` would (unknown extension, VCF from a TSV, unsorted records for
    ``.vcf.gz``, no pysam) before anything is asked of a server."""
    make_format(output_format(path, json_lines), source, RunInfo(model=None))


class ResultWriter:
    """Writes the records of ``source`` 's rows to ``path`` (``None``: to ``stream``, no resume)."""

    def __init__(
        self,
        path: Path | None,
        source: InputFile,
        run: RunInfo,
        *,
        json_lines: bool = False,
        stream: IO[str] | None = None,
    ) -> None:
        self.path = path
        self.kind = output_format(path, json_lines)
        self.format = make_format(self.kind, source, run)
        self.model = run.model
        self._units = self.format.units()
        self._unit_of = {row: k for k, unit in enumerate(self._units) for row in unit}
        self._pending: dict[int, Record] = {}
        self._carried: dict[int, str] = {}
        self._next = 0
        self._stream = stream
        self._handle: IO[str] | None = None
        self._finish = self.kind == "vcf.gz"
        #: Output lines written by this run.
        self.written = 0

    @property
    def work_path(self) -> Path | None:
        """The file appended to (a ``.vcf.gz`` is finished from ``NAME.partial``)."""
        if self.path is None or self.kind != "vcf.gz":
            return self.path
        return self.path.with_name(self.path.name + ".partial")

    @property
    def complete(self) -> bool:
        return self._next == len(self._units)

    def open(self) -> set[int]:
        """Start writing; returns the indexes of the rows already in the output (not to score again)."""
        work = self.work_path
        if work is None:
            self._emit("".join(self.format.header()))
            return set()
        assert self.path is not None
        text = self._existing()
        if not text:
            _replace(work, self.format.header())
            self._handle = work.open("a", encoding="utf-8", newline="")
            return set()
        kept, changed = self._resume(text)
        if self.complete and not changed and work != self.path and not work.exists():
            self._finish = False  # a finished .vcf.gz: nothing to redo
        else:
            if changed or not work.exists():
                _replace(work, kept)
            self._handle = work.open("a", encoding="utf-8", newline="")
        done = {row for k in range(self._next) for row in self._units[k]}
        return done | {row for k in self._carried for row in self._units[k]}

    def _existing(self) -> str:
        work = self.work_path
        assert work is not None and self.path is not None
        if work.exists():
            return work.read_text(encoding="utf-8")
        if work != self.path and self.path.exists():
            with gzip.open(self.path, "rt", encoding="utf-8") as handle:
                return handle.read()
        return ""

    def _resume(self, text: str) -> tuple[list[str], bool]:
        """Read the existing output: the lines to keep, and whether the file must be rewritten."""
        lines = text.split("\n")
        changed = lines[-1] != ""  # a torn last line: the run stopped while writing it
        lines = lines[:-1]
        try:
            skip = self.format.header_length(lines)
        except ValueError as exc:
            raise ValueError(f"{self.path}: {exc}; choose another output") from None
        body = lines[skip:]
        if len(body) > len(self._units):
            raise ValueError(
                f"{self.path} holds results for another input (more rows); choose another output"
            )
        kept = [line + "\n" for line in lines[:skip]]
        redo = False
        for unit, line in enumerate(body):
            parsed = self.format.parse(unit, line)
            if parsed is None:
                where = f"line {skip + unit + 1}"
                raise ValueError(
                    f"{self.path} holds results for another input ({where}); choose another output"
                )
            self._check_model(parsed)
            if any(e in RESCORED_ERRORS for e in parsed.errors):
                redo = changed = True
            elif redo:
                self._carried[unit] = line + "\n"
            else:
                kept.append(line + "\n")
                self._next = unit + 1
        return kept, changed

    def _check_model(self, parsed: Parsed) -> None:
        other = sorted(parsed.models - {self.model}) if self.model else []
        if other:
            raise ValueError(
                f"{self.path} holds scores of model {other[0]}, and this run uses {self.model}; "
                "choose another output"
            )

    def put(self, records: Iterable[Record]) -> None:
        """Take finished records (any order); write every line whose rows are all in, in order."""
        for record in records:
            index = int(record["row"]) - 1
            if index in self._unit_of:
                self._pending[index] = record
        out: list[str] = []
        while self._next < len(self._units):
            unit = self._units[self._next]
            if self._next in self._carried:
                out.append(self._carried.pop(self._next))
            elif all(row in self._pending for row in unit):
                out.append(self.format.render(self._next, [self._pending.pop(row) for row in unit]))
            else:
                break
            self._next += 1
        if out:
            self._emit("".join(out))
            self.written += len(out)

    def _emit(self, text: str) -> None:
        handle = self._handle or self._stream
        if handle is None:
            raise RuntimeError("ResultWriter.open() first")
        handle.write(text)
        handle.flush()
        if self._handle is not None:
            os.fsync(self._handle.fileno())

    def close(self) -> None:
        """Close the file; a complete ``.vcf.gz`` is compressed and indexed (then the partial removed)."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        work = self.work_path
        if self._finish and self.complete and work is not None and self.path is not None and work.exists():
            _finish_bgzip(work, self.path)
            self._finish = False


def _finish_bgzip(partial: Path, target: Path) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".vcf.gz", dir=target.parent)
    os.close(fd)
    try:
        bgzip_and_index(str(partial), tmp)
        os.replace(tmp + ".tbi", str(target) + ".tbi")
        os.replace(tmp, target)
    finally:
        for leftover in (tmp, tmp + ".tbi"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(leftover)
    partial.unlink()


def _replace(path: Path, lines: Sequence[str]) -> None:
    """Write ``lines`` to ``path`` atomically (a temporary file beside it, then a rename)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.writelines(lines)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
