"""A small circuit breaker for calls to an upstream service.

States:

* ``closed``: calls go through; ``failure_threshold`` consecutive failures open the circuit.
* ``open``: calls are refused (``allow()`` is false) until ``reset_s`` seconds have passed.
* ``half_open``: exactly one trial call is let through; its success closes the circuit, its failure
  opens it again for another ``reset_s``.

The caller reports every permitted call's outcome with ``record_success``, ``record_failure`` or, for a
call that ended without a verdict on upstream health (cancelled), ``release``. The clock is injectable.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from service.genome.base import BreakerState as State


class CircuitBreaker:
    def __init__(
        self,
        *,
        failure_threshold: int = 5,
        reset_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        if reset_s < 0:
            raise ValueError("reset_s must be non-negative")
        self.failure_threshold = failure_threshold
        self.reset_s = reset_s
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_in_flight = False
        self.times_opened = 0

    @property
    def state(self) -> State:
        if self._opened_at is None:
            return "closed"
        if self._clock() - self._opened_at >= self.reset_s:
            return "half_open"
        return "open"

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    def allow(self) -> bool:
        """Whether a call may go upstream now; in half-open state only one trial call at a time."""
        state = self.state
        if state == "closed":
            return True
        if state == "open" or self._trial_in_flight:
            return False
        self._trial_in_flight = True
        return True

    def retry_after(self) -> float:
        """Seconds until a call may be allowed again (0 when closed or ready for a trial)."""
        if self._opened_at is None:
            return 0.0
        remaining = self._opened_at + self.reset_s - self._clock()
        if remaining > 0:
            return remaining
        # Half-open with a trial under way: its answer is due soon; suggest a short wait.
        return 1.0 if self._trial_in_flight else 0.0

    def record_success(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._trial_in_flight = False

    def record_failure(self) -> None:
        self._failures += 1
        was_trial = self._trial_in_flight
        self._trial_in_flight = False
        if was_trial or (self._opened_at is None and self._failures >= self.failure_threshold):
            self._open()

    def release(self) -> None:
        """The permitted call ended without telling anything about upstream health (e.g. cancelled)."""
        self._trial_in_flight = False

    def describe(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "consecutive_failures": self._failures,
            "failure_threshold": self.failure_threshold,
            "reset_s": self.reset_s,
            "retry_after_s": round(self.retry_after(), 3),
            "times_opened": self.times_opened,
        }

    def _open(self) -> None:
        self._opened_at = self._clock()
        self.times_opened += 1
