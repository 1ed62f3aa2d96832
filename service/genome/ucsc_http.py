"""The HTTP side of every call to UCSC's REST API, shared by the sequence and the annotation sources.

One ``UcscHttp`` per process owns the ``httpx.AsyncClient`` (created on first use), the circuit breaker
and the throttle, so sequence fetches (``service.genome.ucsc``) and annotation look-ups
(``service.genome.ucsc_annotations``) keep to one pace towards UCSC and one verdict on its health.
``call`` sends one request through the breaker with retries (exponential backoff with jitter that
honours ``Retry-After``, within an attempt count and a time budget); the caller gives the endpoint,
the parameters (built by httpx, never by string formatting), a parser of UCSC's JSON answer and a
function turning UCSC's 400 message into the typed refusal, plus the counters to count into.

The circuit breaker hears only UCSC's own answers (or its silence): never queueing for a throttle
slot, budgets, or a widened tile that failed. Waiting for a slot is queueing: it is not part of any
attempt's timeout or of the retry budget, and a caller that waits longer than ``queue_timeout_s``
gets 503 ``upstream_unavailable`` without UCSC being asked.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, MutableMapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx

from service import __version__
from service.coords import Interval
from service.errors import ServiceError, UpstreamError, UpstreamTimeout, UpstreamUnavailable
from service.genome.breaker import CircuitBreaker
from service.genome.throttle import QueueFull, Throttle

#: UCSC's bot delay answers 429 with ``Retry-After: 30``; used when a 429 carries no usable header.
DEFAULT_RETRY_AFTER_S = 30.0
_TIMES = {1: "once", 2: "twice", 3: "three times", 4: "four times", 5: "five times"}
#: The counters ``call`` counts into (a caller keeps its own).
COUNTERS = ("requests", "retries", "failures", "rejected", "queue")

T = TypeVar("T")

log = logging.getLogger("service.genome.ucsc")


def new_counters() -> dict[str, int]:
    return dict.fromkeys(COUNTERS, 0)


class Retryable(Exception):
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


class TileFailed(Exception):
    """A widened tile could not be fetched; callers ask for their exact intervals instead (internal)."""

    def __init__(self, reason: str, tile: Interval | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.tile = tile


class NoVerdict(Exception):
    """UCSC was never asked (queue full, pool wait): no news for the circuit breaker (internal)."""

    def __init__(self, error: ServiceError) -> None:
        super().__init__(error.message)
        self.error = error


class UcscHttp:
    """Requests to UCSC through one client, one circuit breaker and one throttle (see the module)."""

    def __init__(
        self,
        *,
        base_url: str,
        connect_timeout: float,
        read_timeout: float,
        max_attempts: int,
        retry_budget_s: float,
        backoff_base_s: float,
        backoff_max_s: float,
        breaker_failures: int,
        breaker_reset_s: float,
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
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if retry_budget_s <= 0:
            raise ValueError("retry_budget_s must be positive")
        self.base_url = base_url.rstrip("/")
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_attempts = max_attempts
        self.retry_budget_s = retry_budget_s
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self._client = client
        self._owns_client = False
        self._transport = transport
        self._sleep = sleep
        self._random = random.Random()
        self.breaker = breaker or CircuitBreaker(failure_threshold=breaker_failures, reset_s=breaker_reset_s)
        self.throttle = throttle or Throttle(
            max_concurrency=max_concurrency,
            requests_per_second=requests_per_second,
            burst=rate_burst,
            queue_timeout_s=queue_timeout_s,
            sleep=sleep,
        )
        self.users = 0  #: sources sharing this client (the last one to close it closes the connections)

    async def aclose(self) -> None:
        if self._client is not None and self._owns_client:
            await self._client.aclose()
            self._client = None
            self._owns_client = False

    def describe(self) -> dict[str, Any]:
        return {"breaker": self.breaker.describe(), "throttle": self.throttle.describe()}

    async def call(
        self,
        endpoint: str,
        params: Mapping[str, str | int],
        parse: Callable[[dict[str, Any]], T],
        refused: Callable[[str], ServiceError],
        *,
        counters: MutableMapping[str, int],
        widened: bool = False,
    ) -> T:
        """One fetch through the breaker; ``widened``: a tile (its failure is no verdict: ``TileFailed``)."""
        if not self.breaker.allow():
            counters["rejected"] += 1
            wait = max(self.breaker.retry_after(), 1.0)
            raise UpstreamUnavailable(
                f"UCSC is failing; not asking it again for {wait:.0f} s (circuit breaker open)",
                detail={"endpoint": endpoint, "breaker": self.breaker.state},
                retry_after=wait,
            )
        try:
            result = await self._with_retries(
                endpoint, params, parse, refused, counters=counters, widened=widened
            )
        except TileFailed:
            self.breaker.release()
            raise
        except NoVerdict as exc:
            self.breaker.release()
            raise exc.error from None
        except (UpstreamError, UpstreamTimeout):
            counters["failures"] += 1
            self.breaker.record_failure()
            raise
        except ServiceError:
            # UCSC answered a well-formed refusal (unknown chromosome, out of bounds): it is healthy.
            self.breaker.record_success()
            raise
        except BaseException:
            self.breaker.release()
            raise
        self.breaker.record_success()
        return result

    async def _with_retries(
        self,
        endpoint: str,
        params: Mapping[str, str | int],
        parse: Callable[[dict[str, Any]], T],
        refused: Callable[[str], ServiceError],
        *,
        counters: MutableMapping[str, int],
        widened: bool = False,
    ) -> T:
        client = self._http()  # built before any attempt is timed (loading TLS certificates takes a while)
        spent = 0.0  # seconds of the budget used: time waiting on UCSC plus backoff sleeps (not queueing)
        failures: list[Retryable] = []
        gave_up = ""
        for attempt in range(1, self.max_attempts + 1):
            remaining = self.retry_budget_s - spent
            if remaining <= 0:
                gave_up = f"retry budget of {self.retry_budget_s:g} s spent"
                break
            try:
                async with self._slot(endpoint, failures, counters):
                    started = time.monotonic()
                    try:
                        return await self._attempt(
                            client, endpoint, params, parse, refused, remaining, counters
                        )
                    finally:
                        spent += time.monotonic() - started
            except Retryable as failure:
                failures.append(failure)
            except ServiceError as refusal:
                if widened:  # a well-formed refusal of the tile: ask for the exact bases instead
                    raise TileFailed(refusal.message) from None
                raise
            if widened and failures[-1].kind != "rate_limited":
                raise TileFailed(failures[-1].what)
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
            counters["retries"] += 1
            log.warning("UCSC %s %s (attempt %d); retrying in %.1f s", endpoint, last.what, attempt, delay)
            await self._sleep(delay)
            spent += delay
        raise give_up(endpoint, failures, gave_up, self.read_timeout)

    @asynccontextmanager
    async def _slot(
        self, endpoint: str, failures: list[Retryable], counters: MutableMapping[str, int]
    ) -> AsyncIterator[None]:
        """A throttle slot for one attempt; no slot in time is no verdict (or ends the retries)."""
        try:
            async with self.throttle.slot():
                yield
        except QueueFull as full:
            counters["queue"] += 1
            busy = UpstreamUnavailable(
                f"UCSC {endpoint}: {full.ahead} requests to UCSC are queued ahead; not waiting longer than "
                f"{self.throttle.queue_timeout_s:g} s (UCSC asks for about "
                f"{self.throttle.requests_per_second:g} request/s)",
                detail={"endpoint": endpoint, "queued": full.ahead, "waited_s": round(full.waited, 1)},
                retry_after=max(1.0, self.throttle.queue_timeout_s / 2),
            )
            if failures:  # retries already under way: their failures are UCSC's verdict
                raise give_up(
                    endpoint, failures, "no UCSC slot for another attempt", self.read_timeout
                ) from None
            raise NoVerdict(busy) from None

    async def _attempt(
        self,
        client: httpx.AsyncClient,
        endpoint: str,
        params: Mapping[str, str | int],
        parse: Callable[[dict[str, Any]], T],
        refused: Callable[[str], ServiceError],
        remaining: float,
        counters: MutableMapping[str, int],
    ) -> T:
        """One HTTP request; ``Retryable`` for an answer (or silence) worth another try."""
        counters["requests"] += 1
        try:
            response = await client.get(
                self.base_url + endpoint, params=dict(params), timeout=self._timeout(remaining)
            )
        except httpx.PoolTimeout:  # waiting for a pooled connection is queueing, not UCSC's silence
            raise NoVerdict(
                UpstreamUnavailable(
                    f"UCSC {endpoint}: no free connection to UCSC; try again shortly",
                    detail={"endpoint": endpoint},
                    retry_after=1.0,
                )
            ) from None
        except httpx.TimeoutException:
            raise Retryable("timeout", "timed out") from None
        except httpx.RequestError as exc:
            raise Retryable("error", _transport_failure(exc)) from None
        return _judge(response, endpoint, parse, refused)

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.backoff_max_s, self.backoff_base_s * 2 ** (attempt - 1))
        return self._random.uniform(ceiling / 2, ceiling)

    def _timeout(self, remaining: float) -> httpx.Timeout:
        connect = min(self.connect_timeout, remaining)
        read = min(self.read_timeout, remaining)
        # The throttle keeps requests within the pool; a pool wait is queueing (bounded like one).
        return httpx.Timeout(connect=connect, read=read, write=read, pool=self.throttle.queue_timeout_s)

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            places = self.throttle.max_concurrency
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
            raise Retryable("error", "answered invalid JSON") from None
        if not isinstance(body, dict):
            raise Retryable("error", "answered JSON that is not an object")
        return parse(body)
    if status == 429:
        raise Retryable(
            "rate_limited",
            "answered HTTP 429 (too many requests)",
            retry_after=_retry_after(response),
            # UCSC's 429 text names this server's IP address ("Your host, …"): never pass it on.
            upstream_message=None,
        )
    if status >= 500:
        raise Retryable(
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


def give_up(endpoint: str, failures: list[Retryable], gave_up: str, read_timeout: float) -> ServiceError:
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
