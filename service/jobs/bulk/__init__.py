"""Bulk scoring of a variant file: read, chunk, score (in-process or fanned out), write as rows finish.

The same code serves the Modal fan-out (``modal run modal_deploy.py::score_variants``) and a laptop
(``python -m service.jobs.bulk in.vcf out.tsv`` with the k-mer scorer): :func:`run_bulk` takes a
``map_fn`` that scores a list of :class:`Chunk` s, either over GPU containers (Modal's ``.map``) or
here (:func:`local_map_fn`), and hands each chunk's results to a sink as they complete.

* Files: ``clients.files`` reads the input (VCF, VCF.gz, TSV, one variant per line) and writes the
  output (TSV, JSON Lines, annotated VCF, bgzipped + indexed VCF), the same as the CLI does;
  ``write.BulkJob`` ties them to the scoring and resumes an interrupted run.
* Every input row gives exactly one output row, in input order: a malformed line, a reference
  mismatch, an unknown chromosome or a failed chunk becomes a row with ``status=error`` and the
  error's type and message. Nothing is dropped.
* Chunks keep nearby variants (same genome and chromosome, closer than a window plus the longest
  allele) together, so each region of the genome is fetched by one container, once.

The names below (chunking and scoring) are what GPU containers import, so this package imports
nothing of ``clients`` eagerly; ``read``, ``write`` and ``cli`` do, and are loaded on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from service.jobs.bulk.chunk import Chunk, clusters, make_chunks
from service.jobs.bulk.rows import BulkRow
from service.jobs.bulk.score import (
    BulkResult,
    MapFn,
    Sink,
    error_result,
    local_map_fn,
    ok_result,
    run_bulk,
    score_chunk,
)

#: Names of the file side, imported when first asked for (they need ``clients``).
_LAZY = {
    "read_variants": "service.jobs.bulk.read",
    "read_tsv": "service.jobs.bulk.read",
    "read_vcf": "service.jobs.bulk.read",
    "parse_rows": "service.jobs.bulk.read",
    "BulkJob": "service.jobs.bulk.write",
    "COLUMNS": "service.jobs.bulk.write",
    "record_of": "service.jobs.bulk.write",
    "summary": "service.jobs.bulk.write",
    "main": "service.jobs.bulk.cli",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BulkResult",
    "BulkRow",
    "Chunk",
    "MapFn",
    "Sink",
    "clusters",
    "error_result",
    "local_map_fn",
    "make_chunks",
    "ok_result",
    "run_bulk",
    "score_chunk",
    *_LAZY,
]
