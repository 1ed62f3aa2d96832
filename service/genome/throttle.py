"""How fast and how wide this process may ask an upstream service (UCSC): one throttle per source.

``slot()`` admits one request: it waits for one of ``max_concurrency`` places, then for the request's
turn under ``requests_per_second`` (after ``burst`` back-to-back requests the rate applies; a
reservation schedule, so waiting callers are spaced, not woken together). Waiting is queueing, not
an upstream failure: a caller that cannot get a slot within ``queue_timeout_s`` gets ``QueueFull``
(the source answers 503 without asking upstream and without a verdict for its circuit breaker). The
clock and the sleep are injectable.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any


class QueueFull(Exception):
    """No slot within the queue timeout; ``waited`` seconds were spent, ``ahead`` callers were waiting."""

    def __init__(self, waited: float, ahead: int) -> None:
        super().__init__(f"no slot after {waited:.1f} s ({ahead} waiting)")
        self.waited = waited
        self.ahead = ahead


class Throttle:
    def __init__(
        self,
        *,
        max_concurrency: int,
        requests_per_second: float,
        burst: int,
        queue_timeout_s: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if max_concurrency < 1 or burst < 1:
            raise ValueError("max_concurrency and burst must be at least 1")
        if requests_per_second < 0 or queue_timeout_s <= 0:
            raise ValueError("requests_per_second must be ≥ 0 and queue_timeout_s positive")
        self.max_concurrency = max_concurrency
        self.requests_per_second = requests_per_second
        self.burst = burst
        self.queue_timeout_s = queue_timeout_s
        self._clock = clock
        self._sleep = sleep
        self._semaphores: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None
        self._next = 0.0  # theoretical time of the next request at the steady rate
        self.waiting = 0
        self.in_flight = 0
        self.admitted = 0
        self.refused = 0
        self.waited_s = 0.0

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one upstream request's slot; ``QueueFull`` when none comes within the queue timeout."""
        started = self._clock()
        semaphore = self._semaphore()
        self.waiting += 1
        try:
            await self._acquire(semaphore, started)
        finally:
            self.waiting -= 1
        self.waited_s += self._clock() - started
        self.admitted += 1
        self.in_flight += 1
        try:
            yield
        finally:
            self.in_flight -= 1
            semaphore.release()

    def _semaphore(self) -> asyncio.Semaphore:
        """The semaphore of the running event loop (a source may outlive one ``asyncio.run``)."""
        loop = asyncio.get_running_loop()
        if self._semaphores is None or self._semaphores[0] is not loop:
            self._semaphores = (loop, asyncio.Semaphore(self.max_concurrency))
        return self._semaphores[1]

    async def _acquire(self, semaphore: asyncio.Semaphore, started: float) -> None:
        try:
            await asyncio.wait_for(semaphore.acquire(), self.queue_timeout_s)
        except TimeoutError:
            self.refused += 1
            raise QueueFull(self._clock() - started, self.waiting - 1) from None
        delay = self._reserve(self.queue_timeout_s - (self._clock() - started))
        if delay is None:
            semaphore.release()
            self.refused += 1
            raise QueueFull(self._clock() - started, self.waiting - 1)
        if delay > 0:
            try:
                await self._sleep(delay)
            except BaseException:
                semaphore.release()
                raise

    def _reserve(self, patience: float) -> float | None:
        """Seconds until this request's turn under the rate (``None``: beyond ``patience``; not booked)."""
        if self.requests_per_second == 0:
            return 0.0
        interval = 1.0 / self.requests_per_second
        now = self._clock()
        due = max(self._next, now)
        delay = max(0.0, due - now - (self.burst - 1) * interval)
        if delay > patience:
            return None
        self._next = due + interval
        return delay

    def describe(self) -> dict[str, Any]:
        return {
            "max_concurrency": self.max_concurrency,
            "requests_per_second": self.requests_per_second,
            "burst": self.burst,
            "queue_timeout_s": self.queue_timeout_s,
            "in_flight": self.in_flight,
            "waiting": self.waiting,
            "admitted": self.admitted,
            "refused": self.refused,
            "waited_s": round(self.waited_s, 3),
        }
