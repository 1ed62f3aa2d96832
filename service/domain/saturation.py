"""Saturation mutagenesis: the delta of every possible SNV in a short region.

For each position of the region the three SNVs away from the reference base are scored with the
windows ``/variant-delta`` would build for them (the same ``plan_window`` / ``build_windows``), so
every cell equals the one-by-one answer. The three alternates at a position share one reference
window, the whole region is read with one genome fetch, and scoring goes through the engine's
``score_windows`` (each distinct window once, reference windows through the score cache).

Regions arrive 1-based inclusive (``chr17:43119600-43119699``, or chrom / start / end) and are an
``Interval`` (0-based half-open) inside.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from service.coords import BASES, Interval, Variant, resolve_chrom
from service.domain.delta import DeltaEngine
from service.domain.options import DeltaOptions
from service.domain.windows import VariantWindows, build_windows, plan_window
from service.errors import InvalidRequest, LimitExceeded, OutOfBounds, ServiceError
from service.genome.base import SourceIdentity

#: Column order of the delta matrix.
ALLELES = ("A", "C", "G", "T")

#: ASCII digits only (a position written in other scripts' digits is refused, not converted).
_REGION_RE = re.compile(r"^(?P<chrom>[A-Za-z0-9_.]+):(?P<start>[0-9,]+)(?:-(?P<end>[0-9,]+))?$", re.ASCII)


@dataclass(frozen=True)
class Saturation:
    region: Interval  # 0-based half-open
    ref: str  # reference bases of the region, one per position
    #: ``deltas[i][j]``: alt − ref delta of ``ALLELES[j]`` at position ``region.start + i`` (0-based);
    #: ``None`` for the reference base and at positions whose reference is not A, C, G or T.
    deltas: list[list[float | None]]
    #: The sequence the region and its windows were read from.
    source: SourceIdentity | None = None

    @property
    def positions(self) -> list[int]:
        """1-based positions, in order."""
        return list(range(self.region.start + 1, self.region.end + 1))


def resolve_region(
    region: str | None,
    chrom: str | None,
    start: int | None,
    end: int | None,
    *,
    genome: str,
    max_bp: int,
) -> Interval:
    """The 0-based half-open interval of a 1-based inclusive region given as text or as fields.

    Raises ``InvalidRequest`` (neither or both forms, bad text, ``start > end``), ``GenomeMismatch``
    (an accession of the other build) and ``LimitExceeded`` (longer than ``max_bp``).
    """
    if region is not None and any(v is not None for v in (chrom, start, end)):
        raise InvalidRequest("give either 'region' or 'chrom', 'start' and 'end', not both")
    if region is not None:
        match = _REGION_RE.match(region.strip())
        if match is None:
            raise InvalidRequest(
                f"cannot parse region {region!r}; use e.g. chr17:43119600-43119699 (1-based, inclusive)",
                detail={"region": region},
            )
        chrom = match["chrom"]
        start = int(match["start"].replace(",", ""))
        end = int(match["end"].replace(",", "")) if match["end"] else start
    if chrom is None or start is None or end is None:
        raise InvalidRequest("give 'region', or all of 'chrom', 'start' and 'end' (1-based, inclusive)")
    if start < 1 or end < start:
        raise InvalidRequest(
            f"need 1 ≤ start ≤ end (1-based, inclusive), got start={start}, end={end}",
            detail={"start": start, "end": end},
        )
    name = resolve_chrom(chrom, genome)
    length = end - start + 1
    if length > max_bp:
        raise LimitExceeded(
            f"the region has {length} positions; at most {max_bp} per request",
            detail={"length": length, "max_saturation_bp": max_bp},
        )
    return Interval(name, start - 1, end)


async def saturate(engine: DeltaEngine, region: Interval, options: DeltaOptions) -> Saturation:
    """Deltas of all SNVs in ``region`` (0-based half-open) with one genome fetch."""
    chrom_len = await engine.chrom_length(options.genome, region.chrom)
    if region.end > chrom_len:
        raise OutOfBounds(
            f"{region.region()} reaches beyond the end of {region.chrom} ({chrom_len:,} bp)",
            detail={"region": region.region(), "chrom_length": chrom_len},
        )
    positions = range(region.start, region.end)
    # An SNV's windows do not depend on the alt allele: one plan per position.
    plans = [
        plan_window(Variant(region.chrom, p + 1, None, "A"), options.window, chrom_len) for p in positions
    ]
    span = Interval(region.chrom, plans[0].span.start, max(plan.span.end for plan in plans))
    bases = await engine.fetch(options.genome, span)
    ref = bases[region.start - span.start : region.end - span.start]
    built: list[VariantWindows | ServiceError] = []
    cells: list[tuple[int, int]] = []
    for i, (p, plan) in enumerate(zip(positions, plans, strict=True)):
        base = ref[i]
        if base not in BASES:
            continue
        window_bases = bases[plan.span.start - span.start : plan.span.end - span.start]
        for j, alt in enumerate(ALLELES):
            if alt != base:
                built.append(build_windows(Variant(region.chrom, p + 1, base, alt), plan, window_bases))
                cells.append((i, j))
    scored = await engine.score_windows(built, options)
    deltas: list[list[float | None]] = [[None] * len(ALLELES) for _ in positions]
    for (i, j), outcome in zip(cells, scored, strict=True):
        if isinstance(outcome, ServiceError):
            raise outcome
        deltas[i][j] = outcome.delta
    return Saturation(region, ref, deltas, engine.genome.identity(options.genome, region.chrom))
