"""Hints that turn an error into a next step: does the other genome build hold the allele?

Only sources that ask nobody are consulted (bundled slices, local FASTA): a hint never costs an
upstream request, and at most :data:`MAX_LOOKUPS` are made per call.
"""

from __future__ import annotations

from collections.abc import Sequence

from service.coords import Interval, other_genome
from service.errors import RefMismatch, ServiceError
from service.genome.base import GenomeSource
from service.genome.layered import LayeredGenome

MAX_LOOKUPS = 16
_GRC = {"hg38": "GRCh38", "hg19": "GRCh37"}


async def add_build_hints(source: GenomeSource, genome: str, outcomes: Sequence[object]) -> None:
    """Extend each ``RefMismatch`` in ``outcomes`` when the other build has the requested allele there."""
    if not isinstance(source, LayeredGenome):
        return
    other = other_genome(genome)
    mismatches = [o for o in outcomes if isinstance(o, RefMismatch)][:MAX_LOOKUPS]
    for error in mismatches:
        chrom, position, expected = (error.detail.get(k) for k in ("chrom", "position", "expected"))
        if not isinstance(chrom, str) or not isinstance(position, int) or not isinstance(expected, str):
            continue
        interval = Interval(chrom, position - 1, position - 1 + len(expected))
        try:
            bases = await source.fetch_local(other, interval)
        except ServiceError:
            continue
        if bases == expected:
            _extend(
                error,
                f"; {other} ({_GRC[other]}) has {expected} at {chrom}:{position}: are these {other} "
                f"coordinates? Send genome: {other}",
                other_genome_matches=other,
            )


def _extend(error: ServiceError, text: str, **detail: object) -> None:
    error.message = error.message.removesuffix(" (wrong genome build or strand?)") + text
    error.args = (error.message,)
    error.detail.update(detail)
