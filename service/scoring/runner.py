"""The way into the model: a bounded queue in front of one scorer, run off the event loop.

At most ``max_queue`` model jobs wait at once; one more is refused with ``Overloaded`` (503 +
Retry-After) instead of growing memory. Admitted jobs go through a micro-batcher
(``service.scoring.batcher``): calls that arrive within ``batch_wait_ms`` of each other are merged into one
scorer call of at most ``batch_max_tokens`` bases, duplicate sequences are scored once, and the
scorer runs in one worker thread, one call at a time, so the event loop keeps answering /health and
genome fetches while the model computes. A scorer call that outlasts ``timeout_s`` answers
``ModelUnavailable`` (503). ``batch_max_tokens=0`` turns merging off (each job is one scorer call).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from service.errors import Overloaded
from service.scoring.base import Scorer
from service.scoring.batcher import MicroBatcher


class ModelRunner:
    def __init__(
        self,
        scorer: Scorer,
        *,
        max_queue: int,
        timeout_s: float,
        retry_after_s: float,
        batch_wait_ms: float,
        batch_max_tokens: int,
    ) -> None:
        self.scorer = scorer
        self.max_queue = max_queue
        self.timeout_s = timeout_s
        self.retry_after_s = retry_after_s
        self.batcher = MicroBatcher(
            scorer.log_probs,
            wait_ms=batch_wait_ms,
            max_tokens=batch_max_tokens,
            timeout_s=timeout_s,
            retry_after_s=retry_after_s,
        )
        self._pending = 0

    @property
    def queue_depth(self) -> int:
        """Model jobs admitted and not yet answered (waiting or being scored)."""
        return self._pending

    @property
    def model_seconds(self) -> float:
        """Wall time spent in scorer calls so far."""
        return self.batcher.stats.model_seconds

    async def log_probs(self, seqs: Sequence[str]) -> list[np.ndarray]:
        """Per-position log-probs for ``seqs`` (see ``Scorer.log_probs``), in order.

        Raises ``Overloaded`` when ``max_queue`` jobs are already waiting and ``ModelUnavailable``
        when the scorer call does not finish within ``timeout_s``.
        """
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
            return await self.batcher.submit(seqs)
        finally:
            self._pending -= 1

    def describe(self) -> dict[str, Any]:
        """Queue and batching figures (for /health, /metrics and the benchmarks)."""
        return {
            "queue_depth": self._pending,
            "max_queue": self.max_queue,
            "batch_wait_ms": self.batcher.wait_s * 1000,
            "batch_max_tokens": self.batcher.max_tokens,
            **self.batcher.stats.snapshot(),
        }

    def close(self) -> None:
        """Stop the model worker thread (app shutdown)."""
        self.batcher.close()
