"""A scorer whose forward passes run elsewhere: ``log_probs_fn(seqs)`` on a GPU (Modal's ``Evo2Model``).

The web tier and the bulk workers do everything but the model on CPUs and hand only sequences to
this scorer. It checks them here (alphabet, context length), so a bad request never reaches a GPU;
groups them by length and cuts each group into calls of at most ``call_tokens`` bases (at least one
sequence each: equal-length batches, the only kind the GPU side takes); and keeps up to
``max_in_flight`` calls running at once, so one large micro-batch spreads over several GPU containers.

``log_probs_fn`` is any callable (the Modal method's ``.remote`` in production, a local function in
tests): this module knows nothing about Modal. With ``continued_fn`` (``Evo2Model.log_probs_continued``)
the scorer also takes prefix groups (``service.scoring.prefix``): a reference window and its
alternates go to the GPU together, as plain lists, and the GPU continues each alternate from the
reference's prefix state; the states never leave the GPU, only log-probs come back.

Results arrive as float32 (half the bytes of float64 on the wire; the model computes log-softmax in
float32 anyway) and are returned as float64, as every scorer does.
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
from service.scoring.prefix import GroupLogProbs, PrefixGroup, log_probs_by_windows

#: Sequences of one length in, one per-position log-prob array (length L - 1) per sequence out.
LogProbsFn = Callable[[list[str]], Sequence[Any]]
#: A prefix group on the wire: ``[ref, [alt, ...], need_ref]`` (equal lengths).
WireGroup = tuple[str, list[str], bool]
#: Prefix groups in, per group ``[ref log-probs or None, [alt log-probs, ...]]`` out.
ContinuedFn = Callable[[list[WireGroup]], Sequence[Any]]

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
        continued_fn: ContinuedFn | None = None,
    ) -> None:
        if call_tokens < 2 or max_in_flight < 1:
            raise ValueError("call_tokens must be ≥ 2 and max_in_flight ≥ 1")
        self.name = name
        self.max_length = max_length
        self.call_tokens = call_tokens
        self.max_in_flight = max_in_flight
        self.stats = ScorerStats()
        self._fn = log_probs_fn
        self._continued_fn = continued_fn
        #: Whether the GPU side continues alternates from prefix states (``supports_continuation``).
        self.continuation = continued_fn is not None
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

    def _check(self, seqs: Sequence[str]) -> None:
        for seq in seqs:
            encode_dna(seq)  # InvalidSequence here, not on a GPU
            if len(seq) > self.max_length:
                raise LimitExceeded(
                    f"a {len(seq)}-bp sequence exceeds the {self.max_length}-bp context of {self.name}",
                    detail={"length": len(seq), "max_length": self.max_length},
                )

    def log_probs(self, seqs: Sequence[str]) -> list[np.ndarray]:
        self._check(seqs)
        results = [np.zeros(0, dtype=np.float64) for _ in seqs]
        calls = self.plan(seqs)
        if not calls:
            return results
        started = time.perf_counter()
        batches = [[seqs[i] for i in call] for call in calls]
        outputs = self._run(self._call, batches)
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

    def log_probs_continued(self, groups: Sequence[PrefixGroup]) -> list[GroupLogProbs]:
        """Each group's reference (where needed) and alternates, the alternates continued on the GPU
        from the reference's prefix state; without ``continued_fn``, full passes through ``log_probs``."""
        if self._continued_fn is None:
            return log_probs_by_windows(self.log_probs, groups)
        for group in groups:
            self._check([group.ref, *group.alts])
        calls = self.plan_groups(groups)
        started = time.perf_counter()
        batches = [
            [(groups[i].ref, list(groups[i].alts), groups[i].need_ref) for i in call] for call in calls
        ]
        outputs = self._run(self._call_groups, batches)
        results: dict[int, GroupLogProbs] = {}
        for call, answers in zip(calls, outputs, strict=True):
            for index, answer in zip(call, answers, strict=True):
                results[index] = _checked_group(groups[index], answer)
        self.stats.record(
            sequences=sum(len(g.alts) + g.need_ref for g in groups),
            forward_passes=len(calls),
            tokens=sum(g.tokens for g in groups),
            seconds=time.perf_counter() - started,
        )
        return [results[i] for i in range(len(groups))]  # plan_groups puts every group in one call

    def plan_groups(self, groups: Sequence[PrefixGroup]) -> list[list[int]]:
        """Indices of ``groups`` per call: one window length per call, at most ``call_tokens`` bases
        counted as full passes (≥ 1 group)."""
        by_length: dict[int, list[int]] = {}
        for index, group in enumerate(groups):
            by_length.setdefault(len(group.ref), []).append(index)
        calls: list[list[int]] = []
        for indices in by_length.values():
            call: list[int] = []
            tokens = 0
            for index in indices:
                if call and tokens + groups[index].tokens > self.call_tokens:
                    calls.append(call)
                    call, tokens = [], 0
                call.append(index)
                tokens += groups[index].tokens
            calls.append(call)
        return calls

    def _run(self, fn: Callable[[Any], Sequence[Any]], batches: list[Any]) -> list[Sequence[Any]]:
        """``fn`` over ``batches``, up to ``max_in_flight`` at once, results in order."""
        if len(batches) == 1 or self.max_in_flight == 1:
            return [fn(batch) for batch in batches]
        return list(self._executor().map(fn, batches))

    def _call(self, batch: list[str]) -> Sequence[Any]:
        return self._remote(self._fn, batch, f"{len(batch)} sequence(s)")

    def _call_groups(self, batch: list[WireGroup]) -> Sequence[Any]:
        if self._continued_fn is None:
            raise ModelUnavailable("this scorer has no continuation call", detail={"model": self.name})
        return self._remote(self._continued_fn, batch, f"{len(batch)} window group(s)")

    def _remote(self, fn: Callable[[Any], Sequence[Any]], batch: list[Any], what: str) -> Sequence[Any]:
        with self._calls_lock:
            self.calls += 1
        try:
            answers = fn(batch)
        except ServiceError:
            raise
        except Exception as exc:  # the platform's error after its own retries
            raise ModelUnavailable(
                f"the GPU call for {what} failed: {type(exc).__name__}: {exc}"[:500],
                detail={"model": self.name},
                retry_after=REMOTE_RETRY_AFTER_S,
            ) from exc
        if len(answers) != len(batch):
            raise ModelUnavailable(
                f"the GPU returned {len(answers)} results for {what}", detail={"model": self.name}
            )
        return answers

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
            "continuation": self.continuation,
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


def _checked_group(group: PrefixGroup, answer: Any) -> GroupLogProbs:
    """A group's answer from the wire, each array checked against its window's length."""
    try:
        ref, alts = answer
    except (TypeError, ValueError):
        raise ModelUnavailable("the GPU returned a malformed group result", detail={}) from None
    if len(alts) != len(group.alts):
        raise ModelUnavailable(
            f"the GPU returned {len(alts)} alternates for a group of {len(group.alts)}", detail={}
        )
    if ref is None and group.need_ref:
        raise ModelUnavailable(
            "the GPU returned no reference log-probs for a group that needs them", detail={}
        )
    length = len(group.ref)
    return GroupLogProbs(
        None if ref is None else _checked(ref, length), tuple(_checked(a, length) for a in alts)
    )
