"""A small genome source of made-up chromosomes, for the edges real data does not reach in tests.

``SyntheticGenome({"chrT": bases})`` serves whole chromosomes of any length (30,000 bp is plenty for an
8,192-bp window at both ends) for one build; ``slice_of`` makes a partial source (like the bundled
slices) that holds only part of a chromosome under a chosen identity.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from service.coords import Interval
from service.errors import UnknownGenome
from service.genome.base import SourceIdentity, SourceStatus


def random_bases(length: int, seed: int) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice("ACGT") for _ in range(length))


class SyntheticGenome:
    """Whole made-up chromosomes of one build, served from memory; counts its fetches."""

    def __init__(
        self,
        chroms: Mapping[str, str],
        *,
        genome: str = "hg38",
        name: str = "synthetic",
        version: str = "v1",
        offsets: Mapping[str, int] | None = None,
        lengths: Mapping[str, int] | None = None,
    ) -> None:
        self.name = name
        self.genome = genome
        self.chroms = dict(chroms)
        #: A partial source holds ``chroms[c]`` from 0-based ``offsets[c]`` of a ``lengths[c]``-bp chromosome.
        self.offsets = dict(offsets or {})
        self.lengths = dict(lengths or {})
        self.partial = bool(self.offsets)
        self.version = version
        self.fetches: list[Interval] = []

    def _check(self, genome: str) -> None:
        if genome != self.genome:
            raise UnknownGenome(f"unknown genome {genome!r}", detail={"genome": genome})

    async def chrom_sizes(self, genome: str) -> Mapping[str, int]:
        self._check(genome)
        return {c: self.lengths.get(c, len(b)) for c, b in self.chroms.items()}

    def identity(self, genome: str, chrom: str | None = None) -> SourceIdentity:
        self._check(genome)
        return SourceIdentity(self.name, genome, self.version)

    def holds_chromosome(self, genome: str, chrom: str) -> bool:
        return genome == self.genome and chrom in self.chroms and not self.partial

    def source_name(self, genome: str, interval: Interval) -> str | None:
        return self.name if self.covers(genome, interval) else None

    def covers(self, genome: str, interval: Interval) -> bool:
        if genome != self.genome or interval.chrom not in self.chroms:
            return False
        start = self.offsets.get(interval.chrom, 0)
        return start <= interval.start and interval.end <= start + len(self.chroms[interval.chrom])

    async def fetch(self, genome: str, interval: Interval) -> str:
        if not self.covers(genome, interval):
            raise KeyError(f"{self.name} does not hold {genome} {interval}")
        self.fetches.append(interval)
        start = self.offsets.get(interval.chrom, 0)
        return self.chroms[interval.chrom][interval.start - start : interval.end - start]

    async def aclose(self) -> None:
        return None

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "genomes": [self.genome], "chroms": sorted(self.chroms)}

    def status(self) -> tuple[SourceStatus, ...]:
        return (SourceStatus(self.name),)


def slice_of(
    genome: SyntheticGenome,
    chrom: str,
    start: int,
    end: int,
    *,
    name: str,
    version: str,
    bases: str | None = None,
) -> SyntheticGenome:
    """A partial source holding ``[start, end)`` of ``chrom`` (``bases``, or ``genome``'s own there)."""
    held = bases if bases is not None else genome.chroms[chrom][start:end]
    return SyntheticGenome(
        {chrom: held},
        genome=genome.genome,
        name=name,
        version=version,
        offsets={chrom: start},
        lengths={chrom: len(genome.chroms[chrom])},
    )
