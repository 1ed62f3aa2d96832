"""The genome-source protocol.

Every source speaks 0-based half-open ``Interval`` s and returns **upper-case** bases (UCSC's
soft-masked lower case is upper-cased at the edge) of exactly ``len(interval)`` characters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

from service.coords import Interval

BreakerState = Literal["closed", "open", "half_open"]


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
