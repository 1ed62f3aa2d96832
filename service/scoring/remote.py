"""A scorer whose forward passes run elsewhere: ``log_probs_fn(seqs)`` on a GPU (Modal's ``Evo2Model``).

The web tier and the bulk workers do everything but the model on CPUs and hand only sequences to
this scorer. It checks them here (alphabet, context length), so a bad request never reaches a GPU;
groups them by length and cuts each group into calls of at most ``call_tokens`` bases (at least one
sequence each: equal-length batches, the only kind the GPU side takes); and keeps up to
``max_in_flight`` calls running at once, so one large micro-batch spreads over several GPU containers.

``log_probs_fn`` is any callable (the Modal method's ``.remote`` in production, a local function in
tests): this module knows nothing about Modal. Results arrive as float32 (half the bytes of float64 on
the wire; the model computes log-softmax in float32 anyway) and are returned as float64, as every
scorer does.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from service.errors import LimitExceeded, ModelUnavailable, ServiceError
from service.scoring.base import ScorerStats
from service.scoring.evo2 import encode_dna

#: Sequences of one length in, one per-position log-prob array (length L - 1) per sequence out.
LogProbsFn = Callable[[list[str]], Sequence[Any]]

#: Retry-After (seconds) when the GPU call failed after the platform's own retries.
REMOTE_RETRY_AFTER_S = 30.0


class RemoteScorer:
    def __init__(
        self,
        name: str,
        max_length: int,
        log_probs_fn: LogProbsFn,
        *,
        call_tokens: int,
        max_in_flight: int,
        facts: Mapping[str, Any] | None = None,
    ) -> None:
        if call_tokens < 2 or max_in_flight < 1:
            raise ValueError("call_tokens must be ≥ 2 and max_in_flight ≥ 1")
        self.name = name
        self.max_length = max_length
        self.call_tokens = call_tokens
        self.max_in_flight = max_in_flight
        self.stats = ScorerStats()
        self._fn = log_probs_fn
        self._facts = dict(facts or {})
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self.calls = 0  #: calls made to ``log_probs_fn`` (each one GPU input)
        self._calls_lock = threading.Lock()

    def plan(self, seqs: Sequence[str]) -> list[list[int]]:
        """Indices of ``seqs`` per call: one length per call, at most ``call_tokens`` bases (≥ 1 seq)."""
        by_length: dict[int, list[int]] = {}
        for index, seq in enumerate(seqs):
            if len(seq) >= 2:
                by_length.setdefault(len(seq), []).append(index)
        calls = []
        for length, indices in by_length.items():
            per_call = max(1, self.call_tokens // length)
            calls += [indices[i : i + per_call] for i in range(0, len(indices), per_call)]
        return calls

    def log_probs(self, seqs: Sequence[str]) -> list[np.ndarray]:
        for seq in seqs:
            encode_dna(seq)  # InvalidSequence here, not on a GPU
            if len(seq) > self.max_length:
                raise LimitExceeded(
                    f"a {len(seq)}-bp sequence exceeds the {self.max_length}-bp context of {self.name}",
                    detail={"length": len(seq), "max_length": self.max_length},
                )
        results = [np.zeros(0, dtype=np.float64) for _ in seqs]
        calls = self.plan(seqs)
        if not calls:
            return results
        started = time.perf_counter()
        batches = [[seqs[i] for i in call] for call in calls]
        if len(batches) == 1 or self.max_in_flight == 1:
            outputs = [self._call(batch) for batch in batches]
        else:
            outputs = list(self._executor().map(self._call, batches))
        for call, batch, arrays in zip(calls, batches, outputs, strict=True):
            for index, seq, array in zip(call, batch, arrays, strict=True):
                results[index] = _checked(array, len(seq))
        self.stats.record(
            sequences=sum(len(c) for c in calls),
            forward_passes=len(calls),
            tokens=sum(len(seqs[i]) for c in calls for i in c),
            seconds=time.perf_counter() - started,
        )
        return results

    def _call(self, batch: list[str]) -> Sequence[Any]:
        with self._calls_lock:
            self.calls += 1
        try:
            arrays = self._fn(batch)
        except ServiceError:
            raise
        except Exception as exc:  # the platform's error after its own retries
            raise ModelUnavailable(
                f"the GPU call for {len(batch)} sequence(s) failed: {type(exc).__name__}: {exc}"[:500],
                detail={"model": self.name},
                retry_after=REMOTE_RETRY_AFTER_S,
            ) from exc
        if len(arrays) != len(batch):
            raise ModelUnavailable(
                f"the GPU returned {len(arrays)} results for {len(batch)} sequences",
                detail={"model": self.name},
            )
        return arrays

    def _executor(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.max_in_flight, thread_name_prefix="remote-scorer")
            return self._pool

    def close(self) -> None:
        with self._pool_lock:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None

    def describe(self) -> dict[str, Any]:
        """Facts known without a GPU call (``/info`` must never start a GPU container)."""
        return {
            "model": self.name,
            "backend": "remote",
            "context_length": self.max_length,
            "call_tokens": self.call_tokens,
            "max_in_flight": self.max_in_flight,
            **self._facts,
        }


def _checked(array: Any, length: int) -> np.ndarray:
    out = np.asarray(array, dtype=np.float64)
    if out.shape != (length - 1,):
        raise ModelUnavailable(
            f"the GPU returned {out.shape} log-probs for a {length}-bp sequence",
            detail={"length": length},
        )
    return out
