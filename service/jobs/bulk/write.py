"""The file side of a bulk job: read, resume, stream the results to the output, summarise.

Reading and writing are ``clients.files``'s (the CLI's too), so one input gives the same rows through
``evo2-variant``, ``python -m service.jobs.bulk`` and ``modal run modal_deploy.py::score_variants``, and
a rerun on the same output resumes the same way on all three: rows already there are kept, rows whose
error may pass are scored again, the rest is scored, in input order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from clients.files import (
    COLUMNS,
    InputFile,
    Record,
    ResultWriter,
    RunInfo,
    error_record,
    read_variants,
    scored_record,
)
from service.domain.options import DeltaOptions
from service.jobs.bulk.read import parse_rows, resolve_rows
from service.jobs.bulk.rows import BulkRow
from service.jobs.bulk.score import BulkResult, MapFn, run_bulk
from service.resolve.resolver import Resolver

__all__ = ["COLUMNS", "BulkJob", "record_of", "summary"]


def record_of(source: InputFile, result: BulkResult) -> Record:
    """The output record of one result (the same record the CLI writes for the API's answer)."""
    row = source.rows[result.row.index]
    values = result.values
    if result.ok:
        return scored_record(row, values)
    return error_record(row, values["genome"], values["error_type"], values["error_message"])


@dataclass
class BulkJob:
    """A file being scored into an output; :meth:`open` reads both, :meth:`run` scores what is left."""

    source: InputFile
    rows: list[BulkRow]
    options: DeltaOptions
    writer: ResultWriter
    done: set[int]

    @classmethod
    def open(
        cls,
        input: str | Path,
        output: str | Path,
        options: DeltaOptions,
        run: RunInfo,
        *,
        genome_given: bool = True,
        resolver: Resolver | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> BulkJob:
        """Read ``input`` and open ``output`` (resuming it); ``ValueError`` / ``OSError`` when either
        cannot be used, before anything is scored. Rows with rsIDs or HGVS are resolved with
        ``resolver`` (default: the one ``Settings`` describe), on ``loop`` (default: a new one)."""
        source = read_variants(input)
        if not source.rows:
            empty = not Path(input).read_bytes().strip()
            raise ValueError(f"{input} is empty" if empty else f"{input} holds no variants")
        rows = parse_rows(source.rows, genome=options.genome, genome_given=genome_given)
        if any(row.to_resolve is not None for row in rows):
            rows = _resolve(rows, resolver, loop)
        writer = ResultWriter(Path(output), source, run)
        done = writer.open()
        return cls(source, rows, options, writer, done)

    @property
    def todo(self) -> list[BulkRow]:
        return [row for row in self.rows if row.index not in self.done]

    def run(self, map_fn: MapFn, *, chunk_rows: int, max_span: int, progress: bool = True) -> dict[str, int]:
        """Score the rows not yet in the output, writing each chunk's rows as they complete."""

        def sink(results: list[BulkResult]) -> None:
            self.writer.put(record_of(self.source, r) for r in results)

        try:
            results = run_bulk(
                self.todo,
                self.options,
                map_fn,
                chunk_rows=chunk_rows,
                max_span=max_span,
                progress=progress,
                sink=sink,
            )
        finally:
            self.writer.close()
        return {**summary(results), "already_done": len(self.done)}


def _resolve(
    rows: list[BulkRow], resolver: Resolver | None, loop: asyncio.AbstractEventLoop | None
) -> list[BulkRow]:
    async def run() -> list[BulkRow]:
        if resolver is not None:
            return await resolve_rows(rows, resolver)
        from service.compose import build_genome, build_resolver
        from service.settings import Settings

        settings = Settings()
        genome = build_genome(settings)
        own = build_resolver(settings, genome)
        try:
            return await resolve_rows(rows, own)
        finally:
            await own.aclose()
            await genome.aclose()

    return loop.run_until_complete(run()) if loop is not None else asyncio.run(run())


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
