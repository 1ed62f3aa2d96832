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
import email.utils
import logging
import random
import re
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, TypeVar

import httpx

from service import __version__
from service.coords import CHROM_NAME_RE, Interval, unknown_chromosome
from service.errors import (
    OutOfBounds,
    ServiceError,
    UnknownChromosome,
    UnknownGenome,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from service.genome.base import SourceIdentity, SourceStatus, UpstreamStats, ucsc_identity
from service.genome.breaker import CircuitBreaker
from service.genome.budget import charge_fetch
from service.genome.region_cache import RegionCache
from service.genome.throttle import QueueFull, Throttle

SEQUENCE = "/getData/sequence"
CHROMOSOMES = "/list/chromosomes"

#: UCSC's bot delay answers 429 with ``Retry-After: 30``; used when a 429 carries no usable header.
DEFAULT_RETRY_AFTER_S = 30.0

_BASES_RE = re.compile(r"^[ACGTN]*$")
_CHROM_SIZE_RE = re.compile(r"chromosome size (\d+)")
_TIMES = {1: "once", 2: "twice", 3: "three times", 4: "four times", 5: "five times"}
#: Widened tiles that failed, remembered so they are not asked for again (oldest forgotten first).
MAX_FAILED_TILES = 4096

T = TypeVar("T")

log = logging.getLogger(__name__)


class _Retryable(Exception):
    """One attempt failed in a way worth retrying (internal; never leaves this module)."""

    def __init__(
        self,
        kind: str,
        what: str,
        *,
        retry_after: float | None = None,
        upstream_message: str | None = None,
    ) -> None:
        super().__init__(what)
        self.kind = kind  # "timeout" | "rate_limited" | "error"
        self.what = what  # completes "UCSC /getData/sequence ..."
        self.retry_after = retry_after
        self.upstream_message = upstream_message


class _TileFailed(Exception):
    """A widened tile could not be fetched; callers ask for their exact intervals instead (internal)."""

    def __init__(self, reason: str, tile: Interval | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.tile = tile


class _NoVerdict(Exception):
    """UCSC was never asked (queue full, pool wait): no news for the circuit breaker (internal)."""

    def __init__(self, error: ServiceError) -> None:
        super().__init__(error.message)
        self.error = error


class UcscGenome:
    """``GenomeSource`` over the UCSC REST API."""

    name = "ucsc"
    #: Asks a remote service (hints and offline coverage never consult it).
    remote = True

    def __init__(
        self,
        *,
        base_url: str,
        genomes: tuple[str, ...],
        connect_timeout: float,
        read_timeout: float,
        max_attempts: int,
        retry_budget_s: float,
        backoff_base_s: float,
        backoff_max_s: float,
        cache_bytes: int,
        breaker_failures: int,
        breaker_reset_s: float,
        tile_bp: int,
        max_concurrency: int,
        requests_per_second: float,
        rate_burst: int,
        queue_timeout_s: float,
        client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        breaker: CircuitBreaker | None = None,
        throttle: Throttle | None = None,
    ) -> None:
        """Options without defaults come from ``Settings`` (``service.compose.build_ucsc``); the
        others are seams for tests: an HTTP client or transport, the sleep, a breaker, a throttle."""
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if retry_budget_s <= 0:
            raise ValueError("retry_budget_s must be positive")
        self.base_url = base_url.rstrip("/")
        self.genomes = tuple(genomes)
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_attempts = max_attempts
        self.retry_budget_s = retry_budget_s
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        #: Fetches are widened to whole aligned tiles of this many bases (0: fetch exactly what is asked),
        #: so later windows near an earlier one are served from the region cache, not from UCSC.
        self.tile_bp = tile_bp
        self._client = client
        self._owns_client = False
        self._transport = transport
        self._sleep = sleep
        self._random = random.Random()
        self._breaker = breaker or CircuitBreaker(failure_threshold=breaker_failures, reset_s=breaker_reset_s)
        self._throttle = throttle or Throttle(
            max_concurrency=max_concurrency,
            requests_per_second=requests_per_second,
            burst=rate_burst,
            queue_timeout_s=queue_timeout_s,
            sleep=sleep,
        )
        self._cache = RegionCache(cache_bytes)
        self._failed_tiles: OrderedDict[tuple[str, Interval], None] = OrderedDict()
        self._sizes: dict[str, Mapping[str, int]] = {}
        self._sizes_inflight: dict[str, asyncio.Task[Mapping[str, int]]] = {}
        self._counters = dict.fromkeys(
            ("requests", "retries", "failures", "rejected", "tiles", "queue", "budget"), 0
        )

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
            except _TileFailed as failed:  # ours, or one this fetch joined: ask for the exact bases
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
        if self._client is not None and self._owns_client:
            await self._client.aclose()
            self._client = None
            self._owns_client = False

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
            return await self._call(SEQUENCE, params, parse, refused, widened=widened)
        except _TileFailed as failed:
            raise _TileFailed(failed.reason, region) from None

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

        sizes = await self._call(CHROMOSOMES, {"genome": genome}, parse, refused)
        self._sizes[genome] = sizes
        return sizes

    def _settle_sizes(self, genome: str, task: asyncio.Task[Mapping[str, int]]) -> None:
        if self._sizes_inflight.get(genome) is task:
            del self._sizes_inflight[genome]
        if not task.cancelled():
            task.exception()  # mark retrieved; waiters receive it through shield

    # -- breaker + retries --------------------------------------------------------------------------

    async def _call(
        self,
        endpoint: str,
        params: Mapping[str, str | int],
        parse: Callable[[dict[str, Any]], T],
        refused: Callable[[str], ServiceError],
        *,
        widened: bool = False,
    ) -> T:
        """One fetch through the breaker; ``widened``: a tile (its failure is no verdict: ``_TileFailed``)."""
        if not self._breaker.allow():
            self._counters["rejected"] += 1
            wait = max(self._breaker.retry_after(), 1.0)
            raise UpstreamUnavailable(
                f"UCSC is failing; not asking it again for {wait:.0f} s (circuit breaker open)",
                detail={"endpoint": endpoint, "breaker": self._breaker.state},
                retry_after=wait,
            )
        try:
            result = await self._with_retries(endpoint, params, parse, refused, widened=widened)
        except _TileFailed:
            self._breaker.release()
            raise
        except _NoVerdict as exc:
            self._breaker.release()
            raise exc.error from None
        except (UpstreamError, UpstreamTimeout):
            self._counters["failures"] += 1
            self._breaker.record_failure()
            raise
        except ServiceError:
            # UCSC answered a well-formed refusal (unknown chromosome, out of bounds): it is healthy.
            self._breaker.record_success()
            raise
        except BaseException:
            self._breaker.release()
            raise
        self._breaker.record_success()
        return result

    async def _with_retries(
        self,
        endpoint: str,
        params: Mapping[str, str | int],
        parse: Callable[[dict[str, Any]], T],
        refused: Callable[[str], ServiceError],
        *,
        widened: bool = False,
    ) -> T:
        client = self._http()  # built before any attempt is timed (loading TLS certificates takes a while)
        spent = 0.0  # seconds of the budget used: time waiting on UCSC plus backoff sleeps (not queueing)
        failures: list[_Retryable] = []
        gave_up = ""
        for attempt in range(1, self.max_attempts + 1):
            remaining = self.retry_budget_s - spent
            if remaining <= 0:
                gave_up = f"retry budget of {self.retry_budget_s:g} s spent"
                break
            try:
                async with self._slot(endpoint, failures):
                    started = time.monotonic()
                    try:
                        return await self._attempt(client, endpoint, params, parse, refused, remaining)
                    finally:
                        spent += time.monotonic() - started
            except _Retryable as failure:
                failures.append(failure)
            except ServiceError as refusal:
                if widened:  # a well-formed refusal of the tile: ask for the exact bases instead
                    raise _TileFailed(refusal.message) from None
                raise
            if widened and failures[-1].kind != "rate_limited":
                raise _TileFailed(failures[-1].what)
            if attempt == self.max_attempts:
                break
            if failures[-1].what == _UNREACHABLE:
                # No route, no DNS, connection refused: this machine is offline or UCSC is blocked.
                # Waiting seconds to learn that again helps nobody; say so now.
                gave_up = f"{self.base_url} is unreachable from this machine (offline?)"
                break
            last = failures[-1]
            delay = self._backoff(attempt)
            if last.retry_after is not None:
                if last.retry_after > self.retry_budget_s - spent:
                    gave_up = (
                        f"Retry-After of {last.retry_after:g} s exceeds the remaining retry budget "
                        f"of {max(self.retry_budget_s - spent, 0.0):.1f} s"
                    )
                    break
                delay = max(delay, last.retry_after)
            if spent + delay > self.retry_budget_s:
                gave_up = f"retry budget of {self.retry_budget_s:g} s spent"
                break
            self._counters["retries"] += 1
            log.warning("UCSC %s %s (attempt %d); retrying in %.1f s", endpoint, last.what, attempt, delay)
            await self._sleep(delay)
            spent += delay
        raise _give_up(endpoint, failures, gave_up, self.read_timeout)

    @asynccontextmanager
    async def _slot(self, endpoint: str, failures: list[_Retryable]) -> AsyncIterator[None]:
        """A throttle slot for one attempt; no slot in time is no verdict (or ends the retries)."""
        try:
            async with self._throttle.slot():
                yield
        except QueueFull as full:
            self._counters["queue"] += 1
            busy = UpstreamUnavailable(
                f"UCSC {endpoint}: {full.ahead} requests to UCSC are queued ahead; not waiting longer than "
                f"{self._throttle.queue_timeout_s:g} s (UCSC asks for about "
                f"{self._throttle.requests_per_second:g} request/s)",
                detail={"endpoint": endpoint, "queued": full.ahead, "waited_s": round(full.waited, 1)},
                retry_after=max(1.0, self._throttle.queue_timeout_s / 2),
            )
            if failures:  # retries already under way: their failures are UCSC's verdict
                raise _give_up(
                    endpoint, failures, "no UCSC slot for another attempt", self.read_timeout
                ) from None
            raise _NoVerdict(busy) from None

    async def _attempt(
        self,
        client: httpx.AsyncClient,
        endpoint: str,
        params: Mapping[str, str | int],
        parse: Callable[[dict[str, Any]], T],
        refused: Callable[[str], ServiceError],
        remaining: float,
    ) -> T:
        """One HTTP request; ``_Retryable`` for an answer (or silence) worth another try."""
        self._counters["requests"] += 1
        try:
            response = await client.get(
                self.base_url + endpoint, params=dict(params), timeout=self._timeout(remaining)
            )
        except httpx.PoolTimeout:  # waiting for a pooled connection is queueing, not UCSC's silence
            raise _NoVerdict(
                UpstreamUnavailable(
                    f"UCSC {endpoint}: no free connection to UCSC; try again shortly",
                    detail={"endpoint": endpoint},
                    retry_after=1.0,
                )
            ) from None
        except httpx.TimeoutException:
            raise _Retryable("timeout", "timed out") from None
        except httpx.RequestError as exc:
            raise _Retryable("error", _transport_failure(exc)) from None
        return _judge(response, endpoint, parse, refused)

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.backoff_max_s, self.backoff_base_s * 2 ** (attempt - 1))
        return self._random.uniform(ceiling / 2, ceiling)

    def _timeout(self, remaining: float) -> httpx.Timeout:
        connect = min(self.connect_timeout, remaining)
        read = min(self.read_timeout, remaining)
        # The throttle keeps requests within the pool; a pool wait is queueing (bounded like one).
        return httpx.Timeout(connect=connect, read=read, write=read, pool=self._throttle.queue_timeout_s)

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            places = self._throttle.max_concurrency
            self._client = httpx.AsyncClient(
                transport=self._transport,
                timeout=httpx.Timeout(self.read_timeout, connect=self.connect_timeout),
                headers={"User-Agent": f"evo2-variant-service/{__version__}"},
                follow_redirects=False,
                limits=httpx.Limits(max_connections=places, max_keepalive_connections=places),
            )
            self._owns_client = True
        return self._client


# -- answers ----------------------------------------------------------------------------------------


def _judge(
    response: httpx.Response,
    endpoint: str,
    parse: Callable[[dict[str, Any]], T],
    refused: Callable[[str], ServiceError],
) -> T:
    status = response.status_code
    if status == 200:
        try:
            body = response.json()
        except ValueError:
            raise _Retryable("error", "answered invalid JSON") from None
        if not isinstance(body, dict):
            raise _Retryable("error", "answered JSON that is not an object")
        return parse(body)
    if status == 429:
        raise _Retryable(
            "rate_limited",
            "answered HTTP 429 (too many requests)",
            retry_after=_retry_after(response),
            # UCSC's 429 text names this server's IP address ("Your host, …"): never pass it on.
            upstream_message=None,
        )
    if status >= 500:
        raise _Retryable(
            "error",
            f"answered HTTP {status}",
            retry_after=_retry_after(response),
            upstream_message=_error_message(response),
        )
    message = _error_message(response)
    if status == 400 and message is not None:
        raise refused(message)
    detail: dict[str, Any] = {"endpoint": endpoint, "status": status}
    if message is not None:
        detail["upstream_message"] = message[:300]
    raise UpstreamError(f"UCSC {endpoint} answered HTTP {status}", detail=detail)


def _parse_sequence(body: dict[str, Any], genome: str, region: Interval) -> str:
    dna = body.get("dna")
    if not isinstance(dna, str):
        raise _Retryable("error", "answered without a dna field")
    echoed = (body.get("genome"), body.get("chrom"), body.get("start"), body.get("end"))
    if echoed != (genome, region.chrom, region.start, region.end) or isinstance(body.get("start"), bool):
        raise _Retryable("error", "answered for another region than asked")
    if len(dna) != len(region):
        raise _Retryable("error", f"answered {len(dna)} bases for a {len(region)}-bp request")
    bases = dna.upper()
    if not _BASES_RE.match(bases):
        raise _Retryable("error", "answered dna with characters other than A, C, G, T, N")
    return bases


def _parse_chromosomes(body: dict[str, Any], genome: str) -> Mapping[str, int]:
    chromosomes = body.get("chromosomes")
    if body.get("genome") != genome or not isinstance(chromosomes, dict) or not chromosomes:
        raise _Retryable("error", "answered without a chromosome list for the genome asked")
    sizes: dict[str, int] = {}
    for name, size in chromosomes.items():
        if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
            raise _Retryable("error", "answered a chromosome list with invalid sizes")
        sizes[name] = size
    count = body.get("chromCount")
    if count is not None and count != len(sizes):
        raise _Retryable("error", f"answered {len(sizes)} chromosomes where chromCount says {count}")
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


def _error_message(response: httpx.Response) -> str | None:
    """UCSC's ``error`` field, if the body is its JSON error layout."""
    try:
        body = response.json()
    except ValueError:
        return None
    message = body.get("error") if isinstance(body, dict) else None
    return message if isinstance(message, str) else None


def _retry_after(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds (delta-seconds or an HTTP date), or ``None``."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        return None
    return max(seconds, 0.0)


_UNREACHABLE = "could not be reached"


def _transport_failure(exc: httpx.RequestError) -> str:
    if isinstance(exc, httpx.ConnectError):
        return _UNREACHABLE
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
        return "closed the connection without an answer"
    return "could not be read"


def _give_up(endpoint: str, failures: list[_Retryable], gave_up: str, read_timeout: float) -> ServiceError:
    last = failures[-1]
    count = len(failures)
    times = _TIMES.get(count, f"{count} times")
    kinds = list(dict.fromkeys(failure.what for failure in failures))
    if count == 1:
        message = f"UCSC {endpoint} {last.what}"
    elif len(kinds) == 1:
        message = f"UCSC {endpoint} {last.what} {times}"
    else:
        message = f"UCSC {endpoint} failed {times} ({'; '.join(kinds)})"
    if gave_up:
        message += f"; gave up: {gave_up}"
    detail: dict[str, Any] = {"endpoint": endpoint, "attempts": count, "last": last.what}
    if last.upstream_message:
        detail["upstream_message"] = last.upstream_message[:300]
    if last.kind == "timeout":
        detail["read_timeout_s"] = read_timeout
        return UpstreamTimeout(message, detail=detail)
    if last.kind == "rate_limited":
        retry_after = last.retry_after if last.retry_after is not None else DEFAULT_RETRY_AFTER_S
        return UpstreamUnavailable(message, detail=detail, retry_after=retry_after)
    return UpstreamError(message, detail=detail)
