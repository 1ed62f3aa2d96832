"""Several genome sources, and for each build and chromosome the one sequence that serves it.

Sources with the same ``SourceIdentity`` serve the same bases and form one family (the bundled slices
are extracts of UCSC's assembly, so they and UCSC are one). For each chromosome of a build one family
serves every window and the chromosome's size:

* the family of the first source, in the configured order, that holds the whole chromosome (a FASTA
  with that record, UCSC) and lists it among its chromosomes;
* else the first family that lists it at all (bundled slices alone: only their regions can be read).

Within the family, the first source covering an interval serves it (bundled before UCSC: no network
for the BRCA1 slices). A family's chromosome sizes come from its first source in order that lists the
build (the bundled table for UCSC's family, so no network call is made for sizes either). A window is
never read from one sequence and sized, cached or clustered by another.

When a region is held by no source, or the only one that could serve it (UCSC) fails, the error
names what this deployment holds without asking anyone and the setting that adds more.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from service.coords import Interval, other_genome, unknown_chromosome
from service.errors import RegionUnavailable, UnknownGenome, UpstreamError, UpstreamTimeout
from service.genome.base import GenomeSource, SourceIdentity, SourceStatus


@dataclass(frozen=True)
class Family:
    """Sources serving one sequence (one identity) for a build, in the configured order."""

    identity: SourceIdentity
    members: tuple[GenomeSource, ...]

    def names(self) -> str:
        return ", ".join(s.name for s in self.members)


@dataclass(frozen=True)
class BuildPlan:
    """For one build: each chromosome's size and the family that serves it."""

    sizes: Mapping[str, int]
    serving: Mapping[str, Family]


class LayeredGenome:
    name = "layered"

    def __init__(self, sources: Sequence[GenomeSource]) -> None:
        if not sources:
            raise ValueError("at least one genome source is needed")
        self.sources = list(sources)
        self._plans: dict[str, BuildPlan] = {}

    def _families(self, genome: str) -> list[Family]:
        """The families that know ``genome``, in the order of their first source."""
        grouped: dict[SourceIdentity, list[GenomeSource]] = {}
        for source in self.sources:
            try:
                grouped.setdefault(source.identity(genome), []).append(source)
            except UnknownGenome:
                continue
        return [Family(identity, tuple(members)) for identity, members in grouped.items()]

    async def plan(self, genome: str) -> BuildPlan:
        """Which family serves each chromosome of ``genome`` (worked out once); ``UnknownGenome``."""
        plan = self._plans.get(genome)
        if plan is None:  # two concurrent first requests both work it out: the same answer, no harm
            plan = self._plans[genome] = await self._make_plan(genome)
        return plan

    async def _make_plan(self, genome: str) -> BuildPlan:
        families = self._families(genome)
        if not families:
            raise UnknownGenome(f"unknown genome {genome!r}", detail={"genome": genome})
        listed = {family.identity: await _family_sizes(family, genome) for family in families}
        family_of = {source: family for family in families for source in family.members}
        sizes: dict[str, int] = {}
        serving: dict[str, Family] = {}
        for family in families:
            for chrom in listed[family.identity]:
                if chrom not in serving:
                    chosen = self._choose(genome, chrom, families, listed, family_of)
                    serving[chrom], sizes[chrom] = chosen, listed[chosen.identity][chrom]
        return BuildPlan(sizes, serving)

    def _choose(
        self,
        genome: str,
        chrom: str,
        families: Sequence[Family],
        listed: Mapping[SourceIdentity, Mapping[str, int]],
        family_of: Mapping[GenomeSource, Family],
    ) -> Family:
        """The family of the first source that holds all of ``chrom`` and lists it; else the first
        family listing it (slices only)."""
        for source in self.sources:
            family = family_of.get(source)
            if (
                family is not None
                and chrom in listed[family.identity]
                and source.holds_chromosome(genome, chrom)
            ):
                return family
        return next(family for family in families if chrom in listed[family.identity])

    async def chrom_sizes(self, genome: str) -> Mapping[str, int]:
        return (await self.plan(genome)).sizes

    async def family(self, genome: str, chrom: str) -> Family:
        serving = (await self.plan(genome)).serving
        if chrom not in serving:
            raise unknown_chromosome(chrom, genome, serving)
        return serving[chrom]

    def identity(self, genome: str, chrom: str | None = None) -> SourceIdentity:
        """The sequence serving ``chrom`` once ``genome`` is planned (``chrom_sizes`` plans it);
        before that, or without ``chrom``, the first family's."""
        plan = self._plans.get(genome)
        if chrom is not None and plan is not None:
            if chrom not in plan.serving:
                raise unknown_chromosome(chrom, genome, plan.serving)
            return plan.serving[chrom].identity
        families = self._families(genome)
        if not families:
            raise UnknownGenome(f"unknown genome {genome!r}", detail={"genome": genome})
        return families[0].identity

    def holds_chromosome(self, genome: str, chrom: str) -> bool:
        return any(source.holds_chromosome(genome, chrom) for source in self.sources)

    def source_for(self, genome: str, interval: Interval, *, local: bool = False) -> GenomeSource | None:
        """The source that serves ``interval``: within its chromosome's family once planned; with
        ``local``, only sources that ask nobody."""
        plan = self._plans.get(genome)
        family = plan.serving.get(interval.chrom) if plan is not None else None
        candidates = family.members if family is not None else self.sources
        return next(
            (
                s
                for s in candidates
                if not (local and getattr(s, "remote", False)) and s.covers(genome, interval)
            ),
            None,
        )

    def covers(self, genome: str, interval: Interval) -> bool:
        return self.source_for(genome, interval) is not None

    def source_name(self, genome: str, interval: Interval) -> str | None:
        source = self.source_for(genome, interval)
        return source.name if source is not None else None

    async def fetch(self, genome: str, interval: Interval) -> str:
        family = await self.family(genome, interval.chrom)
        source = next((s for s in family.members if s.covers(genome, interval)), None)
        if source is None:
            names = family.names()
            raise RegionUnavailable(
                f"no genome source of this deployment holds {genome} {interval.region()} of "
                f"{family.identity} (sources: {names}); {self.holdings_text(genome, interval)}",
                detail={
                    "genome": genome,
                    "region": interval.region(),
                    "sources": names,
                    "source": str(family.identity),
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


async def _family_sizes(family: Family, genome: str) -> Mapping[str, int]:
    """Sizes from the family's first source that lists ``genome`` (local before remote, in order)."""
    error: UnknownGenome | None = None
    for source in family.members:
        try:
            return await source.chrom_sizes(genome)
        except UnknownGenome as exc:
            error = exc
    assert error is not None
    raise error
