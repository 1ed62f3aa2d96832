"""Scoring chunks (in this process or fanned out by ``map_fn``) into one ``BulkResult`` per row.

A result's ``values`` are plain data: for a scored row the fields of the API's ``VariantResult``
(``clients.files`` turns them into the output record, as the CLI does with the API's answer), for
the others ``status``, ``genome``, ``error_type`` and ``error_message``. Runs in GPU containers too:
imports nothing of ``clients``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from service.coords import assumed_genome_warning
from service.domain.delta import DeltaEngine, VariantScore
from service.domain.options import DeltaOptions
from service.errors import ServiceError
from service.jobs.bulk.chunk import Chunk, make_chunks
from service.jobs.bulk.rows import BulkRow


@dataclass(frozen=True)
class BulkResult:
    row: BulkRow
    values: dict[str, Any]

    @property
    def ok(self) -> bool:
        return self.values.get("status") == "ok"


#: Scores chunks; yields, in chunk order, each chunk's results or the exception that chunk raised.
MapFn = Callable[[list[Chunk]], Iterable["list[BulkResult] | BaseException"]]
#: Receives each batch of finished results as it completes (the output writer).
Sink = Callable[[list[BulkResult]], None]


def ok_result(row: BulkRow, scored: VariantScore) -> BulkResult:
    w = scored.windows
    variant = scored.variant
    values = {
        "status": "ok",
        "genome": scored.options.genome,
        "variant": str(variant),
        "chrom": variant.chrom,
        "pos": variant.pos,
        "ref": variant.ref,
        "alt": variant.alt,
        "kind": variant.kind,
        "region": w.ref_interval.region(),
        "window_length": len(w.ref_seq),
        "ref_score": scored.ref_score,
        "alt_score": scored.alt_score,
        "delta_score": scored.delta,
        "label": scored.label.label,
        "label_reason": scored.label.reason,
        "probability_lof": scored.label.probability_lof,
        "confidence": scored.label.confidence,
        "non_acgt_ref": w.non_acgt_ref,
        "non_acgt_alt": w.non_acgt_alt,
        "source": dataclasses.asdict(scored.source) if scored.source is not None else None,
        **_context(scored),
        "model": scored.model,
        "warnings": [assumed_genome_warning(scored.options.genome)] if row.genome_assumed else [],
    }
    return BulkResult(row, values)


def _context(scored: VariantScore) -> dict[str, Any]:
    """The delta's place among the BRCA1 benchmark's deltas, shaped as the API's ``context``."""
    c = scored.context
    context = (
        None
        if c is None
        else {"percentile": c.percentile, "lof_fraction": c.lof_fraction, "func_fraction": c.func_fraction}
    )
    return {"context": context, "context_reason": scored.context_reason}


def error_result(row: BulkRow, error: dict[str, Any]) -> BulkResult:
    values = {
        "status": "error",
        "genome": row.genome,
        "error_type": str(error.get("type", "internal_error")),
        "error_message": str(error.get("message", "")),
    }
    return BulkResult(row, values)


async def score_chunk(
    engine: DeltaEngine, rows: Sequence[BulkRow], options: DeltaOptions
) -> list[BulkResult]:
    """Score one chunk with ``engine`` (one fetch per cluster); one result per row, in row order."""
    scorable = [r for r in rows if r.variant is not None]
    outcomes = await engine.score([r.variant for r in scorable if r.variant is not None], options)
    by_index: dict[int, BulkResult] = {}
    for row, outcome in zip(scorable, outcomes, strict=True):
        if isinstance(outcome, ServiceError):
            by_index[row.index] = error_result(row, outcome.to_dict())
        else:
            by_index[row.index] = ok_result(row, outcome)
    return [by_index.get(r.index) or error_result(r, r.error or {}) for r in rows]


def local_map_fn(engine: DeltaEngine, *, loop: asyncio.AbstractEventLoop | None = None) -> MapFn:
    """A ``map_fn`` scoring chunks one after another in this process, on one event loop (``loop``, or
    a private one closed at the end). Must not be called from a running event loop."""

    def map_chunks(chunks: list[Chunk]) -> Iterator[list[BulkResult] | BaseException]:
        own = loop is None
        event_loop = asyncio.new_event_loop() if loop is None else loop
        try:
            for chunk in chunks:
                try:
                    yield event_loop.run_until_complete(score_chunk(engine, chunk.rows, chunk.options))
                except Exception as exc:
                    yield exc
        finally:
            if own:
                event_loop.close()

    return map_chunks


def run_bulk(
    rows: Sequence[BulkRow],
    options: DeltaOptions,
    map_fn: MapFn,
    *,
    chunk_rows: int,
    max_span: int,
    progress: bool = True,
    sink: Sink | None = None,
) -> list[BulkResult]:
    """Chunk ``rows``, score the chunks through ``map_fn`` and return one result per row, in order.

    Rows that failed to parse are answered here; a chunk whose call raised answers each of its rows
    with an ``internal_error`` row naming the exception (a rerun scores them again). ``sink`` gets
    each batch of results as it completes (those rows first, then chunk by chunk), so a writer can
    put them on disk while the rest is scored.
    """
    chunks = make_chunks(rows, options, chunk_rows=chunk_rows, max_span=max_span)
    results: dict[int, BulkResult] = {}

    def deliver(batch: list[BulkResult]) -> None:
        results.update((r.row.index, r) for r in batch)
        if sink is not None and batch:
            sink(batch)

    deliver([error_result(r, r.error) for r in rows if r.error is not None])
    bar = _progress(sum(len(c.rows) for c in chunks), enabled=progress)
    try:
        outputs = map_fn(chunks)
        for chunk, output in zip(chunks, outputs, strict=False):
            if isinstance(output, BaseException):
                message = f"the chunk holding this variant failed: {type(output).__name__}: {output}"[:500]
                error = {"type": "internal_error", "message": message}
                deliver([error_result(row, error) for row in chunk.rows])
            else:
                deliver(list(output))
            bar.update(len(chunk.rows))
    finally:
        bar.close()
    lost = {"type": "internal_error", "message": "no result was returned"}
    deliver([error_result(r, lost) for r in rows if r.index not in results])
    return [results[r.index] for r in rows]


def _progress(total: int, *, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, unit="variant", desc="scoring", disable=not enabled, file=sys.stderr)
