"""Bulk scoring of a VCF or TSV file: read, chunk, score (in-process or fanned out), write one TSV.

The same code serves the Modal fan-out (``modal run modal_deploy.py::score_variants``) and a laptop
(``python -m service.jobs.bulk in.vcf out.tsv`` with the k-mer scorer): :func:`run_bulk` takes a ``map_fn``
that scores a list of :class:`Chunk` s, either over GPU containers (Modal's ``.map``) or here
(:func:`local_map_fn`).

* Input: a VCF (``#CHROM POS ID REF ALT ...``; multi-allelic ALT split into one row per allele) or a
  TSV with a header holding either a ``variant`` column in any notation ``parse_variant`` accepts, or
  ``chrom``, ``pos``, ``ref``, ``alt`` columns (``ref`` may be empty or ``.``), plus optional ``id`` and
  ``genome`` columns. Positions are 1-based.
* Every input row gives exactly one output row, in input order: a malformed line, a reference
  mismatch, an unknown chromosome or a failed chunk becomes a row with ``status=error`` and the
  error's type and message. Nothing is dropped.
* Chunks keep nearby variants (same genome and chromosome, closer than a window plus the longest
  allele) together, so each region of the genome is fetched by one container, once.
"""

from service.jobs.bulk.chunk import Chunk, clusters, make_chunks
from service.jobs.bulk.cli import main
from service.jobs.bulk.read import BulkRow, read_tsv, read_variants, read_vcf
from service.jobs.bulk.score import (
    BulkResult,
    MapFn,
    error_result,
    local_map_fn,
    ok_result,
    run_bulk,
    score_chunk,
)
from service.jobs.bulk.write import COLUMNS, summary, write_tsv

__all__ = [
    "COLUMNS",
    "BulkResult",
    "BulkRow",
    "Chunk",
    "MapFn",
    "clusters",
    "error_result",
    "local_map_fn",
    "main",
    "make_chunks",
    "ok_result",
    "read_tsv",
    "read_variants",
    "read_vcf",
    "run_bulk",
    "score_chunk",
    "summary",
    "write_tsv",
]
