"""Chunks: nearby variants kept together, so each region of the genome is fetched by one call, once."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from service.coords import MAX_ALLELE_LENGTH
from service.domain.options import DeltaOptions
from service.jobs.bulk.rows import BulkRow


@dataclass(frozen=True)
class Chunk:
    """Rows scored together by one container call (one genome; nearby variants kept together)."""

    rows: tuple[BulkRow, ...]
    options: DeltaOptions


def clusters(rows: Sequence[BulkRow], *, window: int, max_span: int) -> list[list[BulkRow]]:
    """Scorable rows grouped by genome and chromosome into runs of nearby positions, sorted.

    Two variants further apart than ``window + 2 * MAX_ALLELE_LENGTH`` read disjoint bases, so
    separate clusters never fetch the same region.
    """
    gap = window + 2 * MAX_ALLELE_LENGTH
    scorable = sorted(
        (r for r in rows if r.variant is not None),
        key=lambda r: (r.genome, r.variant.chrom, r.variant.pos, r.index) if r.variant else (),
    )
    out: list[list[BulkRow]] = []
    for row in scorable:
        assert row.variant is not None
        if out:
            last = out[-1][-1]
            first = out[-1][0]
            assert last.variant is not None and first.variant is not None
            if (
                last.genome == row.genome
                and last.variant.chrom == row.variant.chrom
                and row.variant.pos - last.variant.pos <= gap
                and row.variant.pos - first.variant.pos <= max_span
            ):
                out[-1].append(row)
                continue
        out.append([row])
    return out


def _split(cluster: list[BulkRow], size: int) -> list[list[BulkRow]]:
    """Pieces of at most ``size`` rows, cut only where the position changes (so alleles at one
    position share their reference window); a position with more alleles than ``size`` stays whole."""
    pieces: list[list[BulkRow]] = [[]]
    for row in cluster:
        piece = pieces[-1]
        if len(piece) >= size and _pos(piece[-1]) != _pos(row):
            pieces.append([])
        pieces[-1].append(row)
    return pieces


def _pos(row: BulkRow) -> int:
    assert row.variant is not None
    return row.variant.pos


def make_chunks(
    rows: Sequence[BulkRow],
    options: DeltaOptions,
    *,
    chunk_rows: int,
    max_span: int,
) -> list[Chunk]:
    """Pack clusters into chunks of at most ``chunk_rows`` rows (one genome per chunk).

    A cluster goes whole into one chunk when it fits; a cluster longer than ``chunk_rows`` is cut
    into consecutive pieces (each piece then fetches its own stretch, overlapping its neighbour by
    at most one window). Rows that failed to parse are not chunked.
    """
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be at least 1")
    chunks: list[Chunk] = []
    current: list[BulkRow] = []

    def flush() -> None:
        if current:
            chunks.append(Chunk(tuple(current), dataclasses.replace(options, genome=current[0].genome)))
            current.clear()

    for cluster in clusters(rows, window=options.window, max_span=max_span):
        for piece in _split(cluster, chunk_rows) if len(cluster) > chunk_rows else [cluster]:
            if current and (current[0].genome != piece[0].genome or len(current) + len(piece) > chunk_rows):
                flush()
            current.extend(piece)
    flush()
    return chunks
