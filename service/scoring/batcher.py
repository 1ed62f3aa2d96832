"""Micro-batching: concurrent model calls merged into few, full scorer calls.

Every ``submit(seqs)`` becomes a *job*. One worker task (per event loop, started on demand, gone when
the queue is empty) takes work from the queue in arrival order and hands it to the scorer in a single
worker thread, so there is never more than one model call at a time:

* **Merging.** A job that finds the model idle and no other caller on its way goes at once. Callers
  announce themselves (``expected``: requests under way that will need the model, counted by
  ``ModelRunner.expecting``); while fewer jobs are queued than are expected, the worker waits up to
  ``wait_ms`` after the oldest arrived for the others (or until ``max_tokens`` are queued), then puts
  the queued work into one scorer call. Work that arrives while the model is busy is merged without
  any extra wait.
* **Items.** A job asks for *items*: sequences (``str``, sized by their length) or groups of a
  reference and its alternates (``PrefixGroup``, sized by ``tokens``); the scorer call gets the
  items and answers one result per item.
* **Dedupe.** A sequence asked for by several jobs in one batch is scored once, and a job that was
  queued while the previous call scored one of its sequences gets that result instead of a rescore;
  each job gets the result for every sequence it asked for, in its own order.
* **Bounded calls.** One scorer call holds at most ``max_tokens`` bases (a single longer sequence goes
  alone); a job larger than that is split over several calls. After each call a partly served job
  moves to the back of the queue, so a short request waits at most one call behind a long one.
  ``max_tokens=0`` turns merging and splitting off: each job is one scorer call, in arrival order.
* **Isolation.** A cancelled caller's job is dropped (its sequences still in a running call are
  discarded, never routed). An exception fails only the jobs in that call; when the call merged
  several jobs and the error is about the input (``InvalidRequest``), each job is retried alone so
  that only the job that caused it gets it.
* **Timeout.** A scorer call that runs longer than ``timeout_s`` fails its jobs with
  ``ModelUnavailable`` (503 + Retry-After). The thread cannot be interrupted: later calls queue behind
  it in the same thread, so one-call-at-a-time holds even then.

Admission control (the bounded queue → ``Overloaded``) is the caller's (``service.scoring.runner``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from service.errors import InvalidRequest, ModelUnavailable, ServiceError
from service.scoring.embed import EmbedJob
from service.scoring.prefix import PrefixGroup

log = logging.getLogger("service.scoring.batcher")

#: What a job asks for: a sequence, a reference with its alternates, or layer outputs.
Item = str | PrefixGroup | EmbedJob
#: The scorer call: items in, one result per item out (same order): per-position log-probs for a
#: sequence (``np.ndarray``), a ``GroupLogProbs`` for a group.
ScoreFn = Callable[[list[Any]], list[Any]]


def item_tokens(item: Item) -> int:
    """Bases an item costs the model (a group: as full passes, an upper bound)."""
    return item.tokens if isinstance(item, PrefixGroup | EmbedJob) else len(item)


@dataclass
class BatchStats:
    """Counters for /metrics and the benchmarks (event-loop thread only)."""

    jobs: int = 0  #: submit() calls
    batches: int = 0  #: scorer calls
    merged_batches: int = 0  #: scorer calls that served more than one job
    sequences_requested: int = 0  #: sequences asked for, duplicates included
    sequences_scored: int = 0  #: sequences handed to the scorer
    tokens_scored: int = 0
    failed_batches: int = 0
    timeouts: int = 0
    waits: int = 0  #: times the worker waited for expected callers before a call
    model_seconds: float = 0.0

    def snapshot(self) -> dict[str, float]:
        return {k: v for k, v in self.__dict__.items() if isinstance(v, int | float)}


@dataclass(eq=False)
class _Job:
    future: asyncio.Future[list[Any]]
    seqs: list[Any]  # items as asked, duplicates included
    distinct: list[Any]  # first-seen order
    arrived: float
    cursor: int = 0  # distinct[:cursor] have been handed to a batch
    results: dict[Any, Any] = field(default_factory=dict)

    @property
    def dispatched(self) -> bool:
        return self.cursor >= len(self.distinct)

    def finish_if_complete(self) -> None:
        if not self.future.done() and self.dispatched and len(self.results) == len(self.distinct):
            self.future.set_result([self.results[s] for s in self.seqs])


class MicroBatcher:
    def __init__(
        self,
        score: ScoreFn,
        *,
        wait_ms: float,
        max_tokens: int,
        timeout_s: float,
        retry_after_s: float,
    ) -> None:
        if wait_ms < 0:
            raise ValueError("wait_ms must be ≥ 0")
        if max_tokens < 0:
            raise ValueError("max_tokens must be ≥ 0")
        self._score = score
        self.wait_s = wait_ms / 1000
        self.max_tokens = max_tokens
        self.timeout_s = timeout_s
        self.retry_after_s = retry_after_s
        self.stats = BatchStats()
        #: Callers under way that will submit work (see ``ModelRunner.expecting``).
        self.expected = 0
        self._queue: deque[_Job] = deque()
        self._worker: asyncio.Task[None] | None = None
        self._wakeup: asyncio.Future[None] | None = None
        self._running: list[_Job] = []
        self._partial: _Job | None = None
        #: The last call's results: a job queued while that call ran gets them instead of a rescore.
        self._recent: dict[Any, Any] = {}
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None

    async def submit(self, seqs: Sequence[Any]) -> list[Any]:
        """Results for ``seqs`` (items, in order; per-position log-probs for sequences), scored together
        with concurrent submissions."""
        if not seqs:
            return []
        loop = asyncio.get_running_loop()
        if self._worker is not None and self._worker.get_loop() is not loop:
            # Used from a new event loop (the old one is gone, and its jobs with it): start afresh.
            self._worker, self._wakeup, self._partial = None, None, None
            self._queue = deque(job for job in self._queue if job.future.get_loop() is loop)
        job = _Job(loop.create_future(), list(seqs), list(dict.fromkeys(seqs)), loop.time())
        self.stats.jobs += 1
        self.stats.sequences_requested += len(job.seqs)
        self._queue.append(job)
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)
        if self._worker is None or self._worker.done():
            self._worker = loop.create_task(self._drain(), name="micro-batcher")
        try:
            return await job.future
        finally:
            if not job.future.done():  # the caller was cancelled: drop its job
                job.future.cancel()
            if not job.dispatched:
                self._discard(job)

    def close(self) -> None:
        """Stop the worker thread once its current call returns (queued jobs fail on their next use)."""
        if self._worker is not None and not self._worker.done():
            self._worker.cancel()
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    # -- worker -------------------------------------------------------------------------------------

    async def _drain(self) -> None:
        try:
            while self._queue:
                await self._gather()
                batch = self._take()
                if batch:
                    await self._run(batch)
        except BaseException as exc:
            cancelled = isinstance(exc, asyncio.CancelledError)
            if not cancelled:
                log.exception("the micro-batcher failed")
            error = ModelUnavailable("the model runner is shutting down") if cancelled else exc
            for job in [*self._queue, *self._running]:
                if not job.future.done():
                    job.future.set_exception(error)
            self._queue.clear()
            if cancelled:
                raise
        finally:
            self._worker = None
            self._recent = {}

    async def _gather(self) -> None:
        """While other expected callers have not queued their jobs yet, wait until ``wait_s`` after the
        oldest arrived or until a full batch is queued; with nobody else on the way, go at once."""
        if self.wait_s <= 0:
            return
        loop = asyncio.get_running_loop()
        while self._queue:
            self._drop_done()
            if len(self._queue) >= self.expected or self._queued_tokens() >= self.max_tokens:
                return
            remaining = min(job.arrived for job in self._queue) + self.wait_s - loop.time()
            if remaining <= 0:
                return
            self.stats.waits += 1
            self._wakeup = loop.create_future()
            try:
                await asyncio.wait({self._wakeup}, timeout=remaining)
            finally:
                self._wakeup = None

    def _take(self) -> dict[Any, list[_Job]]:
        """The next batch: sequence → jobs waiting for it, at most ``max_tokens`` bases (≥ 1 sequence)."""
        self._drop_done()
        if not self._queue:
            return {}
        if len(self._queue) > 1 and self._queue[0] is self._partial:
            self._queue.rotate(-1)  # the job served by the last call goes behind the others (fairness)
        batch: dict[Any, list[_Job]] = {}
        if self.max_tokens == 0:  # merging off: the oldest job, whole
            oldest = self._queue.popleft()
            oldest.cursor = len(oldest.distinct)
            return {seq: [oldest] for seq in oldest.distinct}
        tokens = 0
        served: list[_Job] = []
        for job in self._queue:
            while not job.dispatched:
                seq = job.distinct[job.cursor]
                if seq in batch:
                    batch[seq].append(job)
                elif seq in self._recent:
                    job.results[seq] = self._recent[seq]
                    served.append(job)
                elif batch and tokens + item_tokens(seq) > self.max_tokens:
                    break
                else:
                    batch[seq] = [job]
                    tokens += item_tokens(seq)
                job.cursor += 1
            if not job.dispatched:
                break
        for job in served:
            job.finish_if_complete()
        head = self._queue[0] if self._queue else None
        self._partial = head if head is not None and not head.dispatched else None
        self._queue = deque(job for job in self._queue if not job.dispatched)
        return batch

    async def _run(self, batch: dict[Any, list[_Job]]) -> None:
        jobs = list(dict.fromkeys(job for waiting in batch.values() for job in waiting))
        if all(job.future.done() for job in jobs):
            return  # every caller left while the batch was being formed
        seqs = list(batch)
        self._running = jobs
        try:
            results = await self._call(seqs)
        except Exception as exc:
            self.stats.failed_batches += 1
            live = [job for job in jobs if not job.future.done()]
            if len(live) > 1 and isinstance(exc, InvalidRequest):
                for job in live:  # find the job the error belongs to; the others are served
                    await self._run({s: [job] for s, waiting in batch.items() if job in waiting})
                return
            for job in live:
                self._fail(job, exc)
            return
        if len(jobs) > 1:
            self.stats.merged_batches += 1
        # Sequences only: a group's or an embedding's answer is not asked for twice in a row, and may be big.
        self._recent = {s: r for s, r in zip(seqs, results, strict=True) if isinstance(s, str)}
        for seq, lp in zip(seqs, results, strict=True):
            for job in batch[seq]:
                if not job.future.done():
                    job.results[seq] = lp
        for job in jobs:
            job.finish_if_complete()

    async def _call(self, seqs: list[Any]) -> list[Any]:
        """One scorer call in the worker thread, bounded by ``timeout_s``."""
        if self._executor is None:
            self._executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="model")
        loop = asyncio.get_running_loop()
        self.stats.batches += 1
        self.stats.sequences_scored += len(seqs)
        self.stats.tokens_scored += sum(map(item_tokens, seqs))
        started = time.perf_counter()
        try:
            call = loop.run_in_executor(self._executor, self._score, seqs)
            results = await asyncio.wait_for(call, self.timeout_s)
        except TimeoutError:
            self.stats.timeouts += 1
            raise ModelUnavailable(
                f"the model did not finish within {self.timeout_s:g} s",
                detail={"timeout_s": self.timeout_s},
                retry_after=self.retry_after_s,
            ) from None
        finally:
            self.stats.model_seconds += time.perf_counter() - started
        if len(results) != len(seqs):
            raise ServiceError(f"the scorer returned {len(results)} results for {len(seqs)} sequences")
        return results

    # -- helpers ------------------------------------------------------------------------------------

    def _fail(self, job: _Job, exc: BaseException) -> None:
        job.future.set_exception(exc)
        self._discard(job)

    def _discard(self, job: _Job) -> None:
        if job in self._queue:
            self._queue.remove(job)

    def _drop_done(self) -> None:
        if any(job.future.done() for job in self._queue):
            self._queue = deque(job for job in self._queue if not job.future.done())

    def _queued_tokens(self) -> int:
        return sum(item_tokens(s) for job in self._queue for s in job.distinct[job.cursor :])
