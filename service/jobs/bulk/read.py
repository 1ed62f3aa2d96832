"""Rows of a variant file (read by ``clients.files``, the one reader) parsed into ``BulkRow`` s.

Parsing a row's notation into a ``Variant`` is the service's, as it is for the CLI's rows (which
the server parses): the same row gives the same variant, or the same error, on both paths.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from clients.files import READ_ERROR, InputRow
from clients.files import read_variants as read_file
from clients.files.read import parse_tsv, parse_vcf
from service.coords import Variant, check_genome, make_variant, names_build
from service.errors import InvalidRequest, ServiceError
from service.jobs.bulk.rows import BulkRow
from service.notation import Notation, parse_notation
from service.resolve.resolver import Resolver, resolve_all

#: Error type of a row whose rsID has several alternate alleles (one row holds one variant).
MULTIPLE_ALLELES = "multiple_alleles"


def _variant(row: InputRow, genome: str) -> Notation:
    payload = row.payload
    if isinstance(payload, str):
        return parse_notation(payload, genome=genome)
    assert payload is not None
    return make_variant(payload["chrom"], payload["pos"], payload.get("ref"), payload["alt"], genome=genome)


def parse_row(row: InputRow, *, genome: str, genome_given: bool = True) -> BulkRow:
    """The ``BulkRow`` of one input row: its variant on its genome (its own column, else ``genome``),
    or the error that row meets. ``genome_given``: the run's genome was asked for, not defaulted."""
    shown = (row.index, row.line, row.id, row.text)
    if row.payload is None:
        error = {"type": READ_ERROR, "message": row.error or "unreadable row"}
        return BulkRow(*shown, row.genome or genome, None, error)
    try:
        row_genome = check_genome(row.genome) if row.genome else genome
    except ServiceError as exc:
        return BulkRow(*shown, row.genome or genome, None, exc.to_dict())
    try:
        variant = _variant(row, row_genome)
    except ServiceError as exc:
        return BulkRow(*shown, row_genome, None, exc.to_dict())
    if not isinstance(variant, Variant):
        return BulkRow(*shown, row_genome, None, to_resolve=variant)
    fields = row.payload if isinstance(row.payload, dict) else {}
    assumed = not genome_given and row.genome is None and variant.ref is None
    assumed = assumed and not names_build(str(fields.get("chrom", "")))
    return BulkRow(*shown, row_genome, variant, genome_assumed=assumed)


def parse_rows(rows: Iterable[InputRow], *, genome: str, genome_given: bool = True) -> list[BulkRow]:
    genome = check_genome(genome)
    return [parse_row(row, genome=genome, genome_given=genome_given) for row in rows]


async def resolve_rows(rows: Sequence[BulkRow], resolver: Resolver) -> list[BulkRow]:
    """Rows with an rsID or HGVS notation resolved into their variant (or their error, as the API
    answers it; an rsID with several alleles: ``multiple_alleles``, naming them); the others as they are."""
    pending = [row for row in rows if row.to_resolve is not None]
    done: dict[int, BulkRow] = {}
    for genome in dict.fromkeys(row.genome for row in pending):
        group = [row for row in pending if row.genome == genome]
        items = [(row.input, row.to_resolve) for row in group]
        outcomes = await resolve_all(resolver, items, genome, check_genomic=False)  # type: ignore[arg-type]
        for row, outcome in zip(group, outcomes, strict=True):
            done[row.index] = _resolved(row, outcome)
    return [done.get(row.index, row) for row in rows]


def _resolved(row: BulkRow, outcome: object) -> BulkRow:
    if isinstance(outcome, ServiceError):
        return replace(row, error=outcome.to_dict(), to_resolve=None)
    assert isinstance(outcome, list)
    if len(outcome) == 1:
        return replace(row, variant=outcome[0].variant, to_resolve=None)
    alleles = ", ".join(str(r.variant) for r in outcome)
    message = (
        f"{row.input} has {len(outcome)} alternate alleles ({alleles}): a file row holds one variant, so "
        "give each as its own row (chrom pos ref alt)"
    )
    return replace(row, error={"type": MULTIPLE_ALLELES, "message": message}, to_resolve=None)


# --- shorthands over lines or a path (the tests' and older callers') ----------------------------------


def read_vcf(lines: Sequence[str], *, genome: str = "hg38") -> list[BulkRow]:
    return parse_rows(parse_vcf([line.rstrip("\r\n") for line in lines]).rows, genome=genome)


def read_tsv(lines: Sequence[str], *, genome: str = "hg38") -> list[BulkRow]:
    """Rows of a TSV with a header; ``InvalidRequest`` when it has no usable header."""
    try:
        source = parse_tsv([line.rstrip("\r\n") for line in lines])
    except ValueError as exc:
        raise InvalidRequest(str(exc)) from exc
    return parse_rows(source.rows, genome=genome)


def read_variants(path: str | Path, *, genome: str = "hg38") -> list[BulkRow]:
    return parse_rows(read_file(path).rows, genome=genome)
