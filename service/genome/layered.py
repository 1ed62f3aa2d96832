"""Several genome sources in order: the first that covers an interval serves it.

The usual order is bundled slices, then local FASTA files, then UCSC; chromosome sizes come from the
first source that knows the genome. When a region is held by no source, or the only one that could
serve it (UCSC) fails, the error names what this deployment holds without asking anyone and the
setting that adds more.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from service.coords import Interval, other_genome
from service.errors import RegionUnavailable, ServiceError, UnknownGenome, UpstreamError, UpstreamTimeout
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

    def source_for(self, genome: str, interval: Interval, *, local: bool = False) -> GenomeSource | None:
        """The first source covering ``interval``; with ``local``, only sources that ask nobody."""
        return next(
            (
                s
                for s in self.sources
                if not (local and getattr(s, "remote", False)) and s.covers(genome, interval)
            ),
            None,
        )

    def covers(self, genome: str, interval: Interval) -> bool:
        return self.source_for(genome, interval) is not None

    async def fetch(self, genome: str, interval: Interval) -> str:
        source = self.source_for(genome, interval)
        if source is None:
            names = ", ".join(s.name for s in self.sources)
            raise RegionUnavailable(
                f"no genome source of this deployment ({names}) holds {genome} {interval.region()}; "
                f"{self.holdings_text(genome, interval)}",
                detail={
                    "genome": genome,
                    "region": interval.region(),
                    "sources": names,
                    "held": self.holdings(),
                },
            )
        try:
            return await source.fetch(genome, interval)
        except (UpstreamError, UpstreamTimeout) as exc:
            raise type(exc)(
                f"{exc.message}. {self.holdings_text(genome, interval, remote=source.name)}",
                detail={**exc.detail, "held": self.holdings()},
                retry_after=exc.retry_after,
            ) from exc

    async def fetch_local(self, genome: str, interval: Interval) -> str | None:
        """The bases of ``interval`` from a source that asks nobody, or ``None`` when none holds it."""
        source = self.source_for(genome, interval, local=True)
        return None if source is None else await source.fetch(genome, interval)

    def holdings(self) -> list[str]:
        """What the sources that ask nobody hold, one entry each (``hg38 chr17:43040001-43130000``)."""
        return [item for s in self.sources for item in getattr(s, "holdings", lambda: [])()]

    def holdings_text(self, genome: str, interval: Interval, *, remote: str | None = None) -> str:
        """What can be scored without the remote source, and the settings that add more."""
        held = self.holdings()
        where = "Without UCSC" if remote else "here"
        text = f"{where} this deployment holds {', '.join(held) if held else 'no genome regions'}"
        other = other_genome(genome)
        if self.source_for(other, interval, local=True) is not None:
            text += (
                f"; {other} holds {interval.region()}: if these are {other} coordinates, send genome: {other}"
            )
        text += (
            f". To score {genome} {interval.region()}, set EVO2_SERVICE_FASTA_{genome.upper()} to an indexed "
            f"FASTA of {genome} (plain or bgzip, with its .fai)"
        )
        if remote is None and not any(getattr(s, "remote", False) for s in self.sources):
            text += ' or add "ucsc" to EVO2_SERVICE_GENOME_SOURCES (needs the internet)'
        elif remote is not None:
            text += " or EVO2_SERVICE_UCSC_BASE_URL to a UCSC mirror this machine can reach"
        return text

    async def aclose(self) -> None:
        for source in self.sources:
            await source.aclose()

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "sources": [s.describe() for s in self.sources]}

    def status(self) -> tuple[SourceStatus, ...]:
        return tuple(status for source in self.sources for status in source.status())
