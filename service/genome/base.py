"""The genome-source protocol.

Every source speaks 0-based half-open ``Interval`` s and returns **upper-case** bases (UCSC's
soft-masked lower case is upper-cased at the edge) of exactly ``len(interval)`` characters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from service.coords import Interval


@runtime_checkable
class GenomeSource(Protocol):
    #: Short name for logs, /info and responses (``bundled``, ``fasta``, ``ucsc``).
    name: str

    async def chrom_sizes(self, genome: str) -> Mapping[str, int]:
        """Chromosome name → length for ``genome``; raises ``UnknownGenome``."""
        ...

    def covers(self, genome: str, interval: Interval) -> bool:
        """Whether this source can serve ``interval`` without asking anyone (cheap, no I/O)."""
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
