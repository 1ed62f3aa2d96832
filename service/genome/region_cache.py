"""A byte-bounded LRU of fetched genome regions, with in-flight de-duplication.

Keys are ``(genome, Interval)``. A lookup hits when a cached region *contains* the asked interval and
returns the slice, so one fetch of a 90-kb cluster serves every window inside it. Concurrent callers
whose interval lies inside a region being fetched wait on that one fetch (an asyncio task) instead of
starting another; a failure reaches every waiter and is not cached; a cancelled waiter does not cancel
the fetch for the others. Size is counted in bases (one byte each).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from service.coords import Interval

#: Fetches the bases of the given region (upper case, exactly ``len(region)`` long).
Fetcher = Callable[[Interval], Awaitable[str]]

_Key = tuple[str, Interval]


class RegionCache:
    def __init__(self, max_bytes: int) -> None:
        if max_bytes < 0:
            raise ValueError("max_bytes must be non-negative")
        self.max_bytes = max_bytes
        self._entries: OrderedDict[_Key, str] = OrderedDict()
        self._by_chrom: dict[tuple[str, str], set[Interval]] = {}
        self._bytes = 0
        self._inflight: dict[_Key, asyncio.Task[str]] = {}
        self.hits = 0
        self.misses = 0
        self.coalesced = 0
        self.evictions = 0

    # -- synchronous part ---------------------------------------------------------------------------

    def get(self, genome: str, interval: Interval) -> str | None:
        """The bases of ``interval`` if a cached region contains it (marks that region recently used)."""
        key = self._covering(genome, interval)
        if key is None:
            return None
        self._entries.move_to_end(key)
        offset = interval.start - key[1].start
        return self._entries[key][offset : offset + len(interval)]

    def will_fetch(self, genome: str, interval: Interval) -> bool:
        """Whether ``get_or_fetch`` for ``interval`` would start a fetch (not cached, none under way)."""
        return self._covering(genome, interval) is None and self._inflight_covering(genome, interval) is None

    def put(self, genome: str, region: Interval, bases: str) -> None:
        """Store ``bases`` of ``region``; regions it contains are dropped, the LRU is trimmed to size."""
        if len(bases) != len(region):
            raise ValueError(f"{len(bases)} bases given for a {len(region)}-bp region")
        if len(bases) > self.max_bytes or len(region) == 0:
            return
        if self._covering(genome, region) is not None:
            return
        for other in list(self._by_chrom.get((genome, region.chrom), ())):
            if region.contains(other):
                self._remove((genome, other))
        key = (genome, region)
        self._entries[key] = bases
        self._by_chrom.setdefault((genome, region.chrom), set()).add(region)
        self._bytes += len(bases)
        while self._bytes > self.max_bytes and self._entries:
            oldest = next(iter(self._entries))
            self._remove(oldest)
            self.evictions += 1

    def clear(self) -> None:
        self._entries.clear()
        self._by_chrom.clear()
        self._bytes = 0

    @property
    def bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def stats(self) -> dict[str, Any]:
        return {
            "entries": len(self._entries),
            "bytes": self._bytes,
            "max_bytes": self.max_bytes,
            "hits": self.hits,
            "misses": self.misses,
            "coalesced": self.coalesced,
            "evictions": self.evictions,
            "in_flight": len(self._inflight),
        }

    # -- asynchronous part --------------------------------------------------------------------------

    async def get_or_fetch(
        self,
        genome: str,
        interval: Interval,
        fetch: Fetcher,
        *,
        region: Interval | None = None,
    ) -> str:
        """Bases of ``interval`` from the cache, from a fetch already under way, or from ``fetch(region)``.

        ``region`` (default: ``interval``) is what to fetch on a miss; it must contain ``interval``.
        """
        target = interval if region is None else region
        if not target.contains(interval):
            raise ValueError(f"region {target} does not contain {interval}")
        if len(target) == 0:
            return ""
        cached = self.get(genome, interval)
        if cached is not None:
            self.hits += 1
            return cached
        found = self._inflight_covering(genome, interval)
        if found is not None:
            self.coalesced += 1
            target, task = found
        else:
            self.misses += 1
            task = asyncio.get_running_loop().create_task(self._fetch_and_store(genome, target, fetch))
            key = (genome, target)
            self._inflight[key] = task
            task.add_done_callback(lambda done: self._settle(key, done))
        # shield: a cancelled caller stops waiting, the fetch goes on for the others.
        bases = await asyncio.shield(task)
        offset = interval.start - target.start
        return bases[offset : offset + len(interval)]

    async def cancel_pending(self) -> None:
        """Cancel fetches under way (on shutdown) and wait for them to finish."""
        tasks = list(self._inflight.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    # -- internals ----------------------------------------------------------------------------------

    async def _fetch_and_store(self, genome: str, region: Interval, fetch: Fetcher) -> str:
        bases = await fetch(region)
        if len(bases) != len(region):
            raise ValueError(f"fetch returned {len(bases)} bases for a {len(region)}-bp region")
        self.put(genome, region, bases)
        return bases

    def _settle(self, key: _Key, task: asyncio.Task[str]) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]
        if not task.cancelled():
            task.exception()  # mark retrieved: waiters get it through shield; no "never retrieved" noise

    def _covering(self, genome: str, interval: Interval) -> _Key | None:
        for region in self._by_chrom.get((genome, interval.chrom), ()):
            if region.contains(interval):
                return (genome, region)
        return None

    def _inflight_covering(
        self, genome: str, interval: Interval
    ) -> tuple[Interval, asyncio.Task[str]] | None:
        for (g, region), task in self._inflight.items():
            if g == genome and region.contains(interval) and not task.done():
                return region, task
        return None

    def _remove(self, key: _Key) -> None:
        bases = self._entries.pop(key)
        self._bytes -= len(bases)
        regions = self._by_chrom.get((key[0], key[1].chrom))
        if regions is not None:
            regions.discard(key[1])
            if not regions:
                del self._by_chrom[(key[0], key[1].chrom)]
