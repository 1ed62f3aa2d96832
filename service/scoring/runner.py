"""The way into the model: a bounded queue in front of one scorer, run off the event loop.

At most ``max_queue`` model jobs wait at once; one more is refused with ``Overloaded`` (503 +
Retry-After) instead of growing memory. Admitted jobs go through a micro-batcher
(``service.scoring.batcher``): calls that arrive within ``batch_wait_ms`` of each other are merged into one
scorer call of at most ``batch_max_tokens`` bases, duplicate sequences are scored once, and the
scorer runs in one worker thread, one call at a time, so the event loop keeps answering /health and
genome fetches while the model computes. A scorer call that outlasts ``timeout_s`` answers
``ModelUnavailable`` (503). ``batch_max_tokens=0`` turns merging off (each job is one scorer call).

After large work (``trim_tokens`` bases scored since the last time) the runner, once idle (no job
pending and no request under way: a large request is trimmed after its last chunk, not between
them), hands the freed heap back to the operating system (``service.scoring.heap``) in a worker thread.

``continued(groups)`` scores reference windows with their alternates: through the scorer's
``log_probs_continued`` (each alternate from its reference's prefix state) when ``continuation`` is on
and the scorer has it, else as full passes of every window through ``log_probs``: the same answers
to round-off either way.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import numpy as np

from service.errors import Overloaded
from service.scoring.base import Scorer
from service.scoring.batcher import MicroBatcher, item_tokens
from service.scoring.embed import EmbedJob
from service.scoring.heap import trim_heap
from service.scoring.prefix import GroupLogProbs, PrefixGroup, group_sequences, regroup, supports_continuation


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
        continuation: bool,
        trim_tokens: int,
    ) -> None:
        self.scorer = scorer
        #: Alternates continue from their reference's state (the scorer can, and the setting is on).
        self.continuation = continuation and supports_continuation(scorer)
        self.max_queue = max_queue
        self.timeout_s = timeout_s
        self.retry_after_s = retry_after_s
        self.batcher = MicroBatcher(
            self._score,
            wait_ms=batch_wait_ms,
            max_tokens=batch_max_tokens,
            timeout_s=timeout_s,
            retry_after_s=retry_after_s,
        )
        self._pending = 0
        self.trim_tokens = trim_tokens
        self._untrimmed = 0
        self.trims = 0

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
        return await self._submit(list(seqs))

    async def continued(self, groups: Sequence[PrefixGroup]) -> list[GroupLogProbs]:
        """Log-probs of each group's reference (at least where ``need_ref``) and alternates, in order."""
        if self.continuation:
            return await self._submit(list(groups))
        seqs = group_sequences(groups)
        return regroup(groups, dict(zip(seqs, await self._submit(seqs), strict=True)))

    @asynccontextmanager
    async def expecting(self) -> AsyncIterator[None]:
        """Marks a request under way that will need the model (its genome fetch may still run): a job
        that finds the model idle waits up to ``batch_wait_ms`` for such requests, and only for them."""
        self.batcher.expected += 1
        try:
            yield
        finally:
            self.batcher.expected -= 1
            self._maybe_trim()

    async def embed(self, job: EmbedJob) -> list[dict[str, np.ndarray]]:
        """Layer outputs of ``job`` (``service.scoring.embed``); the scorer must have ``embed``."""
        [result] = await self._submit([job])
        return list(result)

    def _score(self, items: list[Any]) -> list[Any]:
        """One scorer call (worker thread): sequences through ``log_probs``, groups together, then any
        embedding jobs."""
        seqs = [item for item in items if isinstance(item, str)]
        groups = [item for item in items if isinstance(item, PrefixGroup)]
        done: dict[Any, Any] = dict(zip(seqs, self.scorer.log_probs(seqs), strict=True)) if seqs else {}
        if groups:
            continued = self.scorer.log_probs_continued(groups)  # type: ignore[attr-defined]
            done.update(zip(groups, continued, strict=True))
        for item in items:
            if isinstance(item, EmbedJob):
                done[item] = self.scorer.embed(item)  # type: ignore[attr-defined]
        return [done[item] for item in items]

    async def _submit(self, items: list[Any]) -> list[Any]:
        if not items:
            return []
        if self._pending >= self.max_queue:
            raise Overloaded(
                f"the model queue is full ({self.max_queue} jobs waiting); retry shortly",
                detail={"queue_depth": self._pending},
                retry_after=self.retry_after_s,
            )
        self._pending += 1
        try:
            return await self.batcher.submit(items)
        finally:
            self._pending -= 1
            self._untrimmed += sum(map(item_tokens, items))
            self._maybe_trim()

    def _maybe_trim(self) -> None:
        """Hand the freed heap back once idle (no job pending, no request under way) after large work."""
        idle = self._pending == 0 and self.batcher.expected == 0
        if self.trim_tokens and idle and self._untrimmed >= self.trim_tokens:
            self._untrimmed = 0
            self.trims += 1
            asyncio.get_running_loop().run_in_executor(None, trim_heap)

    def describe(self) -> dict[str, Any]:
        """Queue and batching figures (for /health, /metrics and the benchmarks)."""
        return {
            "queue_depth": self._pending,
            "max_queue": self.max_queue,
            "batch_wait_ms": self.batcher.wait_s * 1000,
            "batch_max_tokens": self.batcher.max_tokens,
            "continuation": self.continuation,
            "heap_trims": self.trims,
            **self.batcher.stats.snapshot(),
        }

    def close(self) -> None:
        """Stop the model worker thread (app shutdown)."""
        self.batcher.close()
