"""The way into the model: a bounded queue in front of one scorer, run off the event loop.

At most ``max_queue`` model jobs wait at once; one more is refused with ``Overloaded`` (503 +
Retry-After) instead of growing memory. Jobs run one at a time in a worker thread, so the event loop
keeps answering /health and genome fetches while the model computes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import numpy as np

from service.errors import ModelUnavailable, Overloaded
from service.scoring.base import Scorer


class ModelRunner:
    def __init__(
        self,
        scorer: Scorer,
        *,
        max_queue: int = 64,
        timeout_s: float = 300.0,
        retry_after_s: float = 5.0,
    ) -> None:
        self.scorer = scorer
        self.max_queue = max_queue
        self.timeout_s = timeout_s
        self.retry_after_s = retry_after_s
        self._lock = asyncio.Lock()
        self._pending = 0
        self.model_seconds = 0.0

    @property
    def queue_depth(self) -> int:
        return self._pending

    async def log_probs(self, seqs: Sequence[str]) -> list[np.ndarray]:
        """Per-position log-probs for ``seqs`` (see ``Scorer.log_probs``)."""
        if not seqs:
            return []
        if self._pending >= self.max_queue:
            raise Overloaded(
                f"the model queue is full ({self.max_queue} jobs waiting); retry shortly",
                detail={"queue_depth": self._pending},
                retry_after=self.retry_after_s,
            )
        self._pending += 1
        try:
            async with self._lock:
                started = time.perf_counter()
                try:
                    return await asyncio.wait_for(
                        asyncio.to_thread(self.scorer.log_probs, list(seqs)), self.timeout_s
                    )
                except TimeoutError:
                    raise ModelUnavailable(
                        f"the model did not finish within {self.timeout_s:g} s",
                        retry_after=self.retry_after_s,
                    ) from None
                finally:
                    self.model_seconds += time.perf_counter() - started
        finally:
            self._pending -= 1
