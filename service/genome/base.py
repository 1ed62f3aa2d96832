"""The genome-source protocol.

Every source speaks 0-based half-open ``Interval`` s and returns **upper-case** bases (UCSC's
soft-masked lower case is upper-cased at the edge) of exactly ``len(interval)`` characters, and states
what sequence it serves (``SourceIdentity``): two sources with one identity serve the same bases, so
either may answer for the other, and a reference score is kept under its source's identity.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

from service.coords import Interval

BreakerState = Literal["closed", "open", "half_open"]

#: UCSC's own descriptions of its assemblies (``/list/ucscGenomes``): the version of the sequence
#: UCSC serves, and the bundled slices, byte-identical extracts of it, serve.
UCSC_ASSEMBLIES = {"hg38": "Dec. 2013 (GRCh38/hg38)", "hg19": "Feb. 2009 (GRCh37/hg19)"}


@dataclass(frozen=True)
class SourceIdentity:
    """What sequence a source serves for one build: its origin, the build and a version or checksum.

    ``ucsc`` with UCSC's assembly description for UCSC and the bundled slices (one sequence family);
    ``fasta`` with a checksum of the file's index (names, lengths, layout) and size for a local FASTA.
    """

    name: str
    assembly: str
    version: str

    def __str__(self) -> str:
        return f"{self.name}:{self.assembly}:{self.version}"


def ucsc_identity(genome: str) -> SourceIdentity:
    return SourceIdentity("ucsc", genome, UCSC_ASSEMBLIES.get(genome, genome))


@dataclass(frozen=True)
class UpstreamStats:
    """Counters of a source that asks a remote service (UCSC)."""

    requests: int = 0  #: HTTP requests sent, retries included
    retries: int = 0  #: requests that were retries
    failures: int = 0  #: fetches that failed after their retries
    rejected_by_breaker: int = 0  #: fetches refused without asking, circuit open
    cache_hits: int = 0  #: region lookups served from the region cache
    cache_misses: int = 0  #: region lookups that started a fetch
    coalesced: int = 0  #: region lookups that joined a fetch already under way
    tile_fallbacks: int = 0  #: widened tiles that failed and were fetched exactly instead
    refused_by_queue: int = 0  #: requests not sent: no upstream slot within the queue timeout
    refused_by_budget: int = 0  #: fetches not sent: the request had used its fetch budget


@dataclass(frozen=True)
class SourceStatus:
    """What /health and /metrics read of one source."""

    name: str
    #: ``None`` for sources without a circuit breaker (local files).
    breaker_state: BreakerState | None = None
    breaker_opened: int = 0
    #: ``None`` for sources that ask nobody.
    upstream: UpstreamStats | None = None

    @property
    def degraded(self) -> bool:
        return self.breaker_state == "open"


@runtime_checkable
class GenomeSource(Protocol):
    #: Short name for logs, /info and responses (``bundled``, ``fasta``, ``ucsc``).
    name: str

    async def chrom_sizes(self, genome: str) -> Mapping[str, int]:
        """Chromosome name → length for ``genome``; raises ``UnknownGenome``."""
        ...

    def covers(self, genome: str, interval: Interval) -> bool:
        """Whether this source can serve ``interval`` (cheap, no I/O)."""
        ...

    def source_name(self, genome: str, interval: Interval) -> str | None:
        """Name of the source that would serve ``interval`` (a layered source: its first layer that
        covers it), ``None`` when none does. Fetch planning keeps windows of different sources apart."""
        ...

    def holds_chromosome(self, genome: str, chrom: str) -> bool:
        """Whether this source serves all of ``chrom`` (a FASTA record, UCSC), not only slices of it."""
        ...

    def identity(self, genome: str, chrom: str | None = None) -> SourceIdentity:
        """The sequence this source serves for ``genome`` (for ``chrom``: a layered source serves
        chromosomes from different sources); raises ``UnknownGenome``."""
        ...

    async def fetch(self, genome: str, interval: Interval) -> str:
        """Upper-case bases of ``interval``; raises a ``ServiceError`` subclass on failure."""
        ...

    async def aclose(self) -> None:
        """Release connections and files."""
        ...

    def describe(self) -> dict[str, Any]:
        """Facts for /info and /health (base URL, files, cache state)."""
        ...

    def status(self) -> Sequence[SourceStatus]:
        """Typed state of this source (a layered source: of each of its sources, in order)."""
        ...
