"""A token bucket per client: ``rate_per_minute`` requests a minute on average, bursts up to ``burst``.

Each client (an API key, or a client IP where no valid key is presented) owns a bucket that holds at
most ``burst`` tokens and refills at ``rate_per_minute / 60`` tokens a second; a request takes one token
or is refused with ``RateLimited`` (429) whose ``retry_after`` is the time until a token is back.

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

from service.errors import RateLimited


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    def __init__(
        self,
        rate_per_minute: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_buckets: int = 10_000,
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
        self._rate = rate_per_minute / 60.0  # tokens per second
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()
        self.refused = 0

    def __len__(self) -> int:
        return len(self._buckets)

    def acquire(self, client: str) -> float:
        """Take a token for ``client``: 0.0 when granted, else the seconds until one is available."""
        with self._lock:
            now = self._clock()
            bucket = self._buckets.get(client)
            if bucket is None:
                bucket = _Bucket(float(self.burst), now)
                self._buckets[client] = bucket
            else:
                self._refill(bucket, now)
                self._buckets.move_to_end(client)
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                wait = 0.0
            else:
                wait = (1.0 - bucket.tokens) / self._rate
                self.refused += 1
            self._evict(now)
            return wait

    def check(self, client: str) -> None:
        """Take a token for ``client`` or raise ``RateLimited`` (429 with Retry-After)."""
        wait = self.acquire(client)
        if wait > 0:
            raise RateLimited(
                f"rate limit of {self.rate_per_minute:g} requests per minute (bursts of {self.burst}) "
                f"exceeded; retry in {wait:.1f} s",
                detail={"rate_limit_per_minute": self.rate_per_minute, "rate_limit_burst": self.burst},
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
