"""A token bucket per client: ``rate_per_minute`` tokens a minute on average, bursts up to ``burst``.

Each client (an API key, or a client IP where no valid key is presented) owns a bucket that holds at
most ``burst`` tokens and refills at ``rate_per_minute / 60`` tokens a second. A request takes its
tokens (one for the request bucket, its price for the model-token bucket) or is refused with
``RateLimited`` (429) whose ``retry_after`` is the time until enough tokens are back; ``unit`` names
what the tokens count in messages and headers (``requests``, ``model tokens``).

Memory is bounded: buckets live in least-recently-used order, a bucket idle long enough to have refilled
completely is dropped (a fresh bucket is identical), and beyond ``max_buckets`` the least recently used
one is dropped (that client starts again with a full bucket). The clock is injectable. No FastAPI here.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from service.errors import RateLimited


@dataclass
class _Bucket:
    tokens: float
    updated: float


class BucketState(NamedTuple):
    """What the ``X-RateLimit-*`` headers say of one client's bucket after a request."""

    limit: int  #: the bucket's size
    remaining: int  #: whole tokens left
    reset_s: float  #: seconds until the bucket is full again


class TokenBuckets:
    def __init__(
        self,
        rate_per_minute: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_buckets: int = 10_000,
        unit: str = "requests",
    ) -> None:
        if rate_per_minute <= 0:
            raise ValueError("rate_per_minute must be positive (a limit of 0 means: build no limiter)")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        if max_buckets < 1:
            raise ValueError("max_buckets must be at least 1")
        self.rate_per_minute = rate_per_minute
        self.burst = burst
        self.max_buckets = max_buckets
        self.unit = unit
        self._rate = rate_per_minute / 60.0  # tokens per second
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()
        self.refused = 0

    def __len__(self) -> int:
        return len(self._buckets)

    def acquire(self, client: str, tokens: float = 1.0) -> float:
        """Take ``tokens`` for ``client``: 0.0 when granted, else the seconds until they are available."""
        if not 0 < tokens <= self.burst:
            raise ValueError(f"a request may take from 0 to {self.burst} {self.unit}, not {tokens}")
        with self._lock:
            now = self._clock()
            bucket = self._buckets.get(client)
            if bucket is None:
                bucket = _Bucket(float(self.burst), now)
                self._buckets[client] = bucket
            else:
                self._refill(bucket, now)
                self._buckets.move_to_end(client)
            if bucket.tokens >= tokens:
                bucket.tokens -= tokens
                wait = 0.0
            else:
                wait = (tokens - bucket.tokens) / self._rate
                self.refused += 1
            self._evict(now)
            return wait

    def state(self, client: str) -> BucketState:
        """``client``'s bucket now (a full one for a client never seen or evicted)."""
        with self._lock:
            bucket = self._buckets.get(client)
            tokens = float(self.burst)
            if bucket is not None:
                tokens = min(tokens, bucket.tokens + max(0.0, self._clock() - bucket.updated) * self._rate)
        return BucketState(self.burst, int(tokens), (self.burst - tokens) / self._rate)

    def check(self, client: str, tokens: float = 1.0, *, detail: dict[str, object] | None = None) -> None:
        """Take ``tokens`` for ``client`` or raise ``RateLimited`` (429 with Retry-After)."""
        wait = self.acquire(client, tokens)
        if wait > 0:
            what = "" if tokens == 1 else f"; this request takes {tokens:,.0f}"
            rate = _digits(self.rate_per_minute)
            raise RateLimited(
                f"rate limit of {rate} {self.unit} per minute (bursts of {self.burst:,}) "
                f"exceeded{what}; retry in {wait:.1f} s",
                detail={
                    "unit": self.unit,
                    "per_minute": self.rate_per_minute,
                    "burst": self.burst,
                    **(detail or {}),
                },
                retry_after=wait,
            )

    def _refill(self, bucket: _Bucket, now: float) -> None:
        elapsed = max(0.0, now - bucket.updated)
        bucket.tokens = min(float(self.burst), bucket.tokens + elapsed * self._rate)
        bucket.updated = now

    def _evict(self, now: float) -> None:
        # The front is the least recently used bucket: drop it while it has refilled completely.
        while self._buckets:
            client, bucket = next(iter(self._buckets.items()))
            idle_full = bucket.tokens + max(0.0, now - bucket.updated) * self._rate >= self.burst
            if not idle_full and len(self._buckets) <= self.max_buckets:
                break
            del self._buckets[client]


def _digits(value: float) -> str:
    """A rate as people write it: 1,966,080 (not 1.96608e+06), 0.5."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,g}"
