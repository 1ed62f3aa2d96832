"""RegionCache: containment hits, byte-bounded LRU, one fetch per region for concurrent callers."""

from __future__ import annotations

import asyncio

import pytest

from service.coords import Interval
from service.genome.region_cache import RegionCache

CHROM = "chr17"


def bases_of(region: Interval) -> str:
    """Deterministic fake bases: position p holds "ACGT"[p % 4]."""
    return "".join("ACGT"[p % 4] for p in range(region.start, region.end))


class Fetcher:
    """Counts calls; optionally waits for ``gate`` or fails."""

    def __init__(self, *, gate: asyncio.Event | None = None, error: Exception | None = None) -> None:
        self.calls: list[Interval] = []
        self.gate = gate
        self.error = error

    async def __call__(self, region: Interval) -> str:
        self.calls.append(region)
        if self.gate is not None:
            await self.gate.wait()
        else:
            await asyncio.sleep(0)
        if self.error is not None:
            raise self.error
        return bases_of(region)


def test_lookup_hits_when_a_cached_region_contains_the_interval() -> None:
    cache = RegionCache(10_000)
    region = Interval(CHROM, 1000, 2000)
    cache.put("hg38", region, bases_of(region))
    inner = Interval(CHROM, 1500, 1510)
    assert cache.get("hg38", inner) == bases_of(inner)
    assert cache.get("hg38", region) == bases_of(region)
    assert cache.get("hg38", Interval(CHROM, 1990, 2001)) is None  # overlaps, not contained
    assert cache.get("hg19", inner) is None  # another genome
    assert cache.get("hg38", Interval("chr1", 1500, 1510)) is None


def test_lru_is_bounded_by_bytes_and_a_lookup_refreshes_an_entry() -> None:
    cache = RegionCache(max_bytes=250)
    a, b, c = (Interval(CHROM, s, s + 100) for s in (0, 1000, 2000))
    cache.put("hg38", a, bases_of(a))
    cache.put("hg38", b, bases_of(b))
    assert cache.get("hg38", a) is not None  # a is now the most recently used
    cache.put("hg38", c, bases_of(c))  # 300 bytes > 250: evict the least recently used (b)
    assert cache.bytes == 200
    assert cache.get("hg38", b) is None
    assert cache.get("hg38", a) == bases_of(a)
    assert cache.get("hg38", c) == bases_of(c)
    assert cache.stats()["evictions"] == 1


def test_a_region_larger_than_the_cache_is_not_kept() -> None:
    cache = RegionCache(max_bytes=50)
    big = Interval(CHROM, 0, 51)
    cache.put("hg38", big, bases_of(big))
    assert len(cache) == 0
    assert cache.bytes == 0


def test_a_region_replaces_the_cached_regions_it_contains() -> None:
    cache = RegionCache(10_000)
    small = Interval(CHROM, 100, 200)
    cache.put("hg38", small, bases_of(small))
    big = Interval(CHROM, 0, 1000)
    cache.put("hg38", big, bases_of(big))
    assert len(cache) == 1
    assert cache.bytes == 1000
    assert cache.get("hg38", small) == bases_of(small)


def test_put_rejects_bases_of_the_wrong_length() -> None:
    with pytest.raises(ValueError):
        RegionCache(1000).put("hg38", Interval(CHROM, 0, 10), "ACGT")


@pytest.mark.anyio
async def test_concurrent_callers_share_one_fetch() -> None:
    cache = RegionCache(10_000)
    fetch = Fetcher()
    region = Interval(CHROM, 0, 1000)
    inner = Interval(CHROM, 10, 20)
    results = await asyncio.gather(
        *(cache.get_or_fetch("hg38", region, fetch) for _ in range(5)),
        cache.get_or_fetch("hg38", inner, fetch),  # inside the region being fetched: waits for it
    )
    assert fetch.calls == [region]
    assert results[:5] == [bases_of(region)] * 5
    assert results[5] == bases_of(inner)
    assert cache.stats()["misses"] == 1
    assert cache.stats()["coalesced"] == 5
    # Afterwards, a contained interval is a plain cache hit.
    assert await cache.get_or_fetch("hg38", Interval(CHROM, 500, 600), fetch) == bases_of(
        Interval(CHROM, 500, 600)
    )
    assert len(fetch.calls) == 1
    assert cache.stats()["hits"] == 1


@pytest.mark.anyio
async def test_a_miss_can_fetch_a_larger_region() -> None:
    cache = RegionCache(10_000)
    fetch = Fetcher()
    wanted = Interval(CHROM, 500, 510)
    cluster = Interval(CHROM, 0, 2000)
    assert await cache.get_or_fetch("hg38", wanted, fetch, region=cluster) == bases_of(wanted)
    assert fetch.calls == [cluster]
    assert cache.get("hg38", Interval(CHROM, 1900, 2000)) == bases_of(Interval(CHROM, 1900, 2000))
    with pytest.raises(ValueError):
        await cache.get_or_fetch("hg38", Interval(CHROM, 0, 10), fetch, region=Interval(CHROM, 5, 10))


@pytest.mark.anyio
async def test_a_failure_reaches_every_waiter_and_is_not_cached() -> None:
    cache = RegionCache(10_000)
    region = Interval(CHROM, 0, 100)
    failing = Fetcher(error=RuntimeError("upstream down"))
    results = await asyncio.gather(
        *(cache.get_or_fetch("hg38", region, failing) for _ in range(3)), return_exceptions=True
    )
    assert len(failing.calls) == 1
    assert all(isinstance(r, RuntimeError) and str(r) == "upstream down" for r in results)
    assert len(cache) == 0
    working = Fetcher()
    assert await cache.get_or_fetch("hg38", region, working) == bases_of(region)
    assert working.calls == [region]


@pytest.mark.anyio
async def test_a_cancelled_waiter_does_not_cancel_the_fetch_for_the_others() -> None:
    cache = RegionCache(10_000)
    gate = asyncio.Event()
    fetch = Fetcher(gate=gate)
    region = Interval(CHROM, 0, 100)
    first = asyncio.create_task(cache.get_or_fetch("hg38", region, fetch))
    second = asyncio.create_task(cache.get_or_fetch("hg38", region, fetch))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    gate.set()
    assert await second == bases_of(region)
    assert len(fetch.calls) == 1
    assert cache.get("hg38", region) == bases_of(region)


@pytest.mark.anyio
async def test_a_fetch_of_the_wrong_length_is_an_error_and_not_cached() -> None:
    cache = RegionCache(10_000)

    async def short(region: Interval) -> str:
        return bases_of(region)[:-1]

    with pytest.raises(ValueError, match="99 bases"):
        await cache.get_or_fetch("hg38", Interval(CHROM, 0, 100), short)
    assert len(cache) == 0


@pytest.mark.anyio
async def test_cancel_pending_stops_fetches_under_way() -> None:
    cache = RegionCache(10_000)
    fetch = Fetcher(gate=asyncio.Event())  # never opened
    waiter = asyncio.create_task(cache.get_or_fetch("hg38", Interval(CHROM, 0, 100), fetch))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert cache.stats()["in_flight"] == 1
    await cache.cancel_pending()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert cache.stats()["in_flight"] == 0
