"""Several genome sources in order: the first that covers an interval serves it.

The usual order is bundled slices, then local FASTA files, then UCSC; chromosome sizes come from the
first source that knows the genome.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from service.coords import Interval
from service.errors import RegionUnavailable, ServiceError, UnknownGenome
from service.genome.base import GenomeSource, SourceStatus


class LayeredGenome:
    name = "layered"

    def __init__(self, sources: Sequence[GenomeSource]) -> None:
        if not sources:
            raise ValueError("at least one genome source is needed")
        self.sources = list(sources)

    async def chrom_sizes(self, genome: str) -> Mapping[str, int]:
        error: ServiceError | None = None
        for source in self.sources:
            try:
                return await source.chrom_sizes(genome)
            except UnknownGenome as exc:
                error = exc
        assert error is not None
        raise error

    def source_for(self, genome: str, interval: Interval) -> GenomeSource | None:
        return next((s for s in self.sources if s.covers(genome, interval)), None)

    def covers(self, genome: str, interval: Interval) -> bool:
        return self.source_for(genome, interval) is not None

    def source_name(self, genome: str, interval: Interval) -> str | None:
        source = self.source_for(genome, interval)
        return source.name if source is not None else None

    async def fetch(self, genome: str, interval: Interval) -> str:
        source = self.source_for(genome, interval)
        if source is None:
            names = ", ".join(s.name for s in self.sources)
            raise RegionUnavailable(
                f"no genome source of this deployment ({names}) holds {genome} {interval.region()}; "
                "configure UCSC or a local FASTA for it",
                detail={"genome": genome, "region": interval.region(), "sources": names},
            )
        return await source.fetch(genome, interval)

    async def aclose(self) -> None:
        for source in self.sources:
            await source.aclose()

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "sources": [s.describe() for s in self.sources]}

    def status(self) -> tuple[SourceStatus, ...]:
        return tuple(status for source in self.sources for status in source.status())
