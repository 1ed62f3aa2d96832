"""Reference bases from the UCSC Genome Browser REST API.

This is the only module that knows UCSC's URLs and JSON (documented at
https://genome.ucsc.edu/goldenPath/help/api.html; server source: kent ``src/hg/hubApi``):

* ``GET /getData/sequence?genome=G;chrom=C;start=S;end=E``: ``start``/``end`` are 0-based half-open,
  exactly like ``Interval``, so no arithmetic happens at this edge. ``dna`` is soft-masked (repeats in
  lower case) and is upper-cased here; its length and the echoed ``genome/chrom/start/end`` are checked.
* ``GET /list/chromosomes?genome=G``: chromosome name → size.

Politeness and resilience: one shared ``httpx.AsyncClient`` (created on first use), a region cache
that also merges concurrent requests for the same region, retries with exponential backoff and jitter
that honour ``Retry-After`` within both an attempt count and a time budget, and a circuit breaker that
fails fast while UCSC is down.

UCSC is a shared public service that asks for about one request a second, so the whole process keeps
to a ``Throttle`` (at most ``max_concurrency`` requests in flight, ``requests_per_second`` on average);
the time spent waiting for a slot is queueing: it is not part of any attempt's timeout or of the retry
budget, and a caller that waits longer than ``queue_timeout_s`` gets 503 ``upstream_unavailable``
without UCSC being asked. Each fetch sent upstream is charged to the request's fetch budget
(``service.genome.budget``). The circuit breaker hears only UCSC's own answers (or its silence): never
queueing, budgets, or a widened tile that failed. A fetch widened to an aligned tile that fails is
tried once more for exactly the bases asked before anything counts as a failure, and that tile is not
asked for again.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections import OrderedDict
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from service.coords import CHROM_NAME_RE, Interval, unknown_chromosome
from service.errors import OutOfBounds, ServiceError, UnknownChromosome, UnknownGenome, UpstreamError
from service.genome.base import SourceIdentity, SourceStatus, UpstreamStats, ucsc_identity
from service.genome.budget import charge_fetch
from service.genome.region_cache import RegionCache
from service.genome.ucsc_http import Retryable, TileFailed, UcscHttp, new_counters

SEQUENCE = "/getData/sequence"
CHROMOSOMES = "/list/chromosomes"

_BASES_RE = re.compile(r"^[ACGTN]*$")
_CHROM_SIZE_RE = re.compile(r"chromosome size (\d+)")
#: Widened tiles that failed, remembered so they are not asked for again (oldest forgotten first).
MAX_FAILED_TILES = 4096


class UcscGenome:
    """``GenomeSource`` over the UCSC REST API."""

    name = "ucsc"
    #: Asks a remote service (hints and offline coverage never consult it).
    remote = True

    def __init__(
        self,
        *,
        genomes: tuple[str, ...],
        cache_bytes: int,
        tile_bp: int,
        http: UcscHttp | None = None,
        **http_options: Any,
    ) -> None:
        """``genomes``, ``cache_bytes`` and ``tile_bp`` come from ``Settings`` (``service.compose.
        build_ucsc``). ``http``: a ``UcscHttp`` shared with other UCSC sources (its client, breaker
        and throttle); without one, ``http_options`` are ``UcscHttp`` 's (base URL, timeouts, retries,
        pace, and the test seams: an HTTP client or transport, the sleep, a breaker, a throttle)."""
        self.http = http or UcscHttp(**http_options)
        self.http.users += 1
        self.base_url = self.http.base_url
        self.genomes = tuple(genomes)
        #: Fetches are widened to whole aligned tiles of this many bases (0: fetch exactly what is asked),
        #: so later windows near an earlier one are served from the region cache, not from UCSC.
        self.tile_bp = tile_bp
        self._breaker = self.http.breaker
        self._throttle = self.http.throttle
        self._cache = RegionCache(cache_bytes)
        self._failed_tiles: OrderedDict[tuple[str, Interval], None] = OrderedDict()
        self._sizes: dict[str, Mapping[str, int]] = {}
        self._sizes_inflight: dict[str, asyncio.Task[Mapping[str, int]]] = {}
        self._counters = {**new_counters(), "tiles": 0, "budget": 0}

    # -- GenomeSource -------------------------------------------------------------------------------

    def covers(self, genome: str, interval: Interval) -> bool:
        return genome in self.genomes

    def holds_chromosome(self, genome: str, chrom: str) -> bool:
        return genome in self.genomes

    def identity(self, genome: str, chrom: str | None = None) -> SourceIdentity:
        self._check_genome(genome)
        return ucsc_identity(genome)

    def source_name(self, genome: str, interval: Interval) -> str | None:
        return self.name if self.covers(genome, interval) else None

    async def chrom_sizes(self, genome: str) -> Mapping[str, int]:
        self._check_genome(genome)
        cached = self._sizes.get(genome)
        if cached is not None:
            return cached
        task = self._sizes_inflight.get(genome)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._load_chrom_sizes(genome))
            self._sizes_inflight[genome] = task
            task.add_done_callback(lambda done: self._settle_sizes(genome, done))
        return await asyncio.shield(task)

    async def fetch(self, genome: str, interval: Interval) -> str:
        self._check_genome(genome)
        self._check_chrom(genome, interval)
        sizes = self._sizes.get(genome)
        if sizes is None and self.tile_bp and self._cache.get(genome, interval) is None:
            sizes = await self.chrom_sizes(genome)  # once per genome: tiles are clamped to the chromosome
        if sizes is not None:
            self._check_bounds(genome, interval, sizes)
        if len(interval) == 0:
            return ""
        tile = self._tile(interval, sizes)
        target = interval if (genome, tile) in self._failed_tiles else tile
        charged = False
        while True:  # ends: each widened fetch that fails is one tile, remembered and not asked again
            charged = charged or self._charge(genome, interval, target)
            try:
                return await self._cache.get_or_fetch(
                    genome,
                    interval,
                    lambda region: self._fetch_remote(genome, region, widened=region != interval),
                    region=target,
                )
            except TileFailed as failed:  # ours, or one this fetch joined: ask for the exact bases
                if failed.tile is not None:
                    self._remember_failed_tile(genome, failed.tile)
                target = interval

    def _charge(self, genome: str, interval: Interval, region: Interval) -> bool:
        """Charge the request's fetch budget when ``interval`` needs a new fetch (of ``region``)."""
        if not self._cache.will_fetch(genome, interval):
            return False
        try:
            charge_fetch("UCSC", region)
        except ServiceError:
            self._counters["budget"] += 1
            raise
        return True

    def _remember_failed_tile(self, genome: str, tile: Interval) -> None:
        if (genome, tile) in self._failed_tiles:
            return
        self._counters["tiles"] += 1
        self._failed_tiles[(genome, tile)] = None
        while len(self._failed_tiles) > MAX_FAILED_TILES:
            self._failed_tiles.popitem(last=False)

    def _tile(self, interval: Interval, sizes: Mapping[str, int] | None) -> Interval:
        """``interval`` widened to aligned tiles, clamped to the chromosome (itself when tiling is off)."""
        size = sizes.get(interval.chrom) if sizes is not None else None
        if not self.tile_bp or size is None:
            return interval
        tile = self.tile_bp
        start = interval.start // tile * tile
        end = min(size, -(-interval.end // tile) * tile)
        return Interval(interval.chrom, start, max(end, interval.end))

    async def aclose(self) -> None:
        await self._cache.cancel_pending()
        pending = list(self._sizes_inflight.values())
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        self.http.users -= 1
        if self.http.users <= 0:
            await self.http.aclose()

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "base_url": self.base_url,
            "genomes": list(self.genomes),
            "breaker": self._breaker.describe(),
            "throttle": self._throttle.describe(),
            "cache": self._cache.stats(),
            "stats": dataclasses.asdict(self.stats),
        }

    @property
    def stats(self) -> UpstreamStats:
        """Counters: HTTP requests sent, retries, cache hits/misses, coalesced waiters, failed fetches."""
        return UpstreamStats(
            requests=self._counters["requests"],
            retries=self._counters["retries"],
            failures=self._counters["failures"],
            rejected_by_breaker=self._counters["rejected"],
            cache_hits=self._cache.hits,
            cache_misses=self._cache.misses,
            coalesced=self._cache.coalesced,
            tile_fallbacks=self._counters["tiles"],
            refused_by_queue=self._counters["queue"],
            refused_by_budget=self._counters["budget"],
        )

    def status(self) -> tuple[SourceStatus, ...]:
        breaker = self._breaker
        return (SourceStatus(self.name, breaker.state, breaker.times_opened, self.stats),)

    # -- validation before sending ------------------------------------------------------------------

    def _check_genome(self, genome: str) -> None:
        if genome not in self.genomes:
            raise UnknownGenome(
                f"genome {genome!r} is not served by the UCSC source; supported: {', '.join(self.genomes)}",
                detail={"genome": genome, "supported": list(self.genomes)},
            )

    @staticmethod
    def _check_chrom(genome: str, interval: Interval) -> None:
        if not CHROM_NAME_RE.match(interval.chrom):
            raise UnknownChromosome(
                f"invalid chromosome name {interval.chrom!r}",
                detail={"genome": genome, "chrom": interval.chrom[:80]},
            )

    @staticmethod
    def _check_bounds(genome: str, interval: Interval, sizes: Mapping[str, int]) -> None:
        size = sizes.get(interval.chrom)
        if size is None:
            raise unknown_chromosome(interval.chrom, genome, sizes)
        if interval.end > size:
            raise OutOfBounds(
                f"{interval.region()} extends past the end of {interval.chrom} ({size:,} bp) in {genome}",
                detail={"genome": genome, "region": interval.region(), "chrom_size": size},
            )

    # -- the two endpoints --------------------------------------------------------------------------

    async def _fetch_remote(self, genome: str, region: Interval, *, widened: bool = False) -> str:
        params: dict[str, str | int] = {
            "genome": genome,
            "chrom": region.chrom,
            "start": region.start,
            "end": region.end,
        }

        def parse(body: dict[str, Any]) -> str:
            return _parse_sequence(body, genome, region)

        def refused(message: str) -> ServiceError:
            return _sequence_refusal(message, genome, region)

        try:
            return await self.http.call(
                SEQUENCE, params, parse, refused, counters=self._counters, widened=widened
            )
        except TileFailed as failed:
            raise TileFailed(failed.reason, region) from None

    async def _load_chrom_sizes(self, genome: str) -> Mapping[str, int]:
        def parse(body: dict[str, Any]) -> Mapping[str, int]:
            return _parse_chromosomes(body, genome)

        def refused(message: str) -> ServiceError:
            if "can not find genome" in message:
                return UnknownGenome(
                    f"UCSC does not know genome {genome!r}",
                    detail={"genome": genome, "upstream_message": message[:300]},
                )
            return UpstreamError(
                f"UCSC {CHROMOSOMES} refused the request (HTTP 400)",
                detail={"endpoint": CHROMOSOMES, "genome": genome, "upstream_message": message[:300]},
            )

        sizes = await self.http.call(CHROMOSOMES, {"genome": genome}, parse, refused, counters=self._counters)
        self._sizes[genome] = sizes
        return sizes

    def _settle_sizes(self, genome: str, task: asyncio.Task[Mapping[str, int]]) -> None:
        if self._sizes_inflight.get(genome) is task:
            del self._sizes_inflight[genome]
        if not task.cancelled():
            task.exception()  # mark retrieved; waiters receive it through shield


def _parse_sequence(body: dict[str, Any], genome: str, region: Interval) -> str:
    dna = body.get("dna")
    if not isinstance(dna, str):
        raise Retryable("error", "answered without a dna field")
    echoed = (body.get("genome"), body.get("chrom"), body.get("start"), body.get("end"))
    if echoed != (genome, region.chrom, region.start, region.end) or isinstance(body.get("start"), bool):
        raise Retryable("error", "answered for another region than asked")
    if len(dna) != len(region):
        raise Retryable("error", f"answered {len(dna)} bases for a {len(region)}-bp request")
    bases = dna.upper()
    if not _BASES_RE.match(bases):
        raise Retryable("error", "answered dna with characters other than A, C, G, T, N")
    return bases


def _parse_chromosomes(body: dict[str, Any], genome: str) -> Mapping[str, int]:
    chromosomes = body.get("chromosomes")
    if body.get("genome") != genome or not isinstance(chromosomes, dict) or not chromosomes:
        raise Retryable("error", "answered without a chromosome list for the genome asked")
    sizes: dict[str, int] = {}
    for name, size in chromosomes.items():
        if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
            raise Retryable("error", "answered a chromosome list with invalid sizes")
        sizes[name] = size
    count = body.get("chromCount")
    if count is not None and count != len(sizes):
        raise Retryable("error", f"answered {len(sizes)} chromosomes where chromCount says {count}")
    return MappingProxyType(sizes)


def _sequence_refusal(message: str, genome: str, region: Interval) -> ServiceError:
    detail: dict[str, Any] = {"genome": genome, "region": region.region(), "upstream_message": message[:300]}
    if "can not find genome" in message:
        return UnknownGenome(f"UCSC does not know genome {genome!r}", detail=detail)
    if "can not find specified chrom" in message:
        return UnknownChromosome(f"{genome} has no chromosome {region.chrom}", detail=detail)
    if "past end of chromosome" in message or "illegal start,end" in message:
        size = _CHROM_SIZE_RE.search(message)
        if size is not None:
            detail["chrom_size"] = int(size.group(1))
        return OutOfBounds(f"{region.region()} is outside {region.chrom} in {genome}", detail=detail)
    return UpstreamError(
        f"UCSC {SEQUENCE} refused the request for {region.region()} (HTTP 400)",
        detail={"endpoint": SEQUENCE, **detail},
    )
