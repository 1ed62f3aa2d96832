"""The micro-batcher and the model runner: merging, routing, cancellation, errors, dedupe, queue full."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from typing import Any

import httpx
import numpy as np
import pytest

from service.coords import Interval
from service.errors import InvalidSequence, ModelUnavailable, Overloaded
from service.genome.bundled import BundledGenome
from service.genome.layered import LayeredGenome
from service.scoring.base import ScorerStats
from tests.support.parts import micro_batcher, model_runner

pytestmark = pytest.mark.anyio


def expected(seq: str) -> np.ndarray:
    """What the fake scorer answers for ``seq``: unique per sequence, length len(seq) - 1."""
    return np.array([ord(c) + i for i, c in enumerate(seq[1:])], dtype=np.float64)


class FakeScorer:
    """Records its calls; ``gate`` holds a call until set; sequences containing X are invalid."""

    name = "fake"
    max_length = 10**6

    def __init__(self, gate: threading.Event | None = None, error: Exception | None = None) -> None:
        self.calls: list[list[str]] = []
        self.stats = ScorerStats()
        self.gate = gate
        self.error = error
        self.entered = threading.Event()
        self.active = 0
        self.max_active = 0
        self._lock = threading.Lock()

    def log_probs(self, seqs: Sequence[str]) -> list[np.ndarray]:
        with self._lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            self.calls.append(list(seqs))
        self.entered.set()
        error = self.error  # decided when the call starts
        try:
            if self.gate is not None:
                self.gate.wait(10)
            if any("X" in s for s in seqs):
                raise InvalidSequence("sequence contains X")
            if error is not None:
                raise error
            return [expected(s) for s in seqs]
        finally:
            with self._lock:
                self.active -= 1

    def describe(self) -> dict[str, Any]:
        return {}


async def entered(scorer: FakeScorer) -> None:
    """Until the scorer's worker thread is inside a call."""
    assert await asyncio.to_thread(scorer.entered.wait, 10)
    scorer.entered.clear()


def check(results: list[np.ndarray], seqs: Sequence[str]) -> None:
    assert len(results) == len(seqs)
    for got, seq in zip(results, seqs, strict=True):
        np.testing.assert_array_equal(got, expected(seq))


async def test_concurrent_calls_are_merged_into_one_scorer_call_and_routed_back():
    scorer = FakeScorer()
    batcher = micro_batcher(scorer.log_probs, wait_ms=0)
    jobs = [["AAAA", "CCCC"], ["GGGG"], ["TTTT", "ACGT", "TGCA"]]
    results = await asyncio.gather(*(batcher.submit(seqs) for seqs in jobs))
    assert scorer.calls == [["AAAA", "CCCC", "GGGG", "TTTT", "ACGT", "TGCA"]]
    for got, seqs in zip(results, jobs, strict=True):
        check(got, seqs)
    assert batcher.stats.batches == 1 and batcher.stats.merged_batches == 1


async def test_duplicate_sequences_across_and_within_callers_are_scored_once():
    scorer = FakeScorer()
    batcher = micro_batcher(scorer.log_probs, wait_ms=0)
    a, b = ["AAAA", "CCCC", "AAAA"], ["CCCC", "GGGG", "CCCC"]
    got_a, got_b = await asyncio.gather(batcher.submit(a), batcher.submit(b))
    assert scorer.calls == [["AAAA", "CCCC", "GGGG"]]
    check(got_a, a)
    check(got_b, b)


async def test_a_sequence_scored_by_the_call_running_when_a_job_queued_is_not_rescored():
    gate = threading.Event()
    scorer = FakeScorer(gate)
    batcher = micro_batcher(scorer.log_probs, wait_ms=0)
    try:
        first = asyncio.create_task(batcher.submit(["AAAA"]))
        await entered(scorer)
        second = asyncio.create_task(batcher.submit(["AAAA", "CCCC"]))
        third = asyncio.create_task(batcher.submit(["AAAA"]))
        await asyncio.sleep(0)
    finally:
        gate.set()
    check(await first, ["AAAA"])
    check(await second, ["AAAA", "CCCC"])
    check(await third, ["AAAA"])
    assert scorer.calls == [["AAAA"], ["CCCC"]]


async def test_a_lone_job_does_not_wait_for_company():
    # Changed on purpose (#14): an idle single request spent most of its time in the batch wait.
    scorer = FakeScorer()
    batcher = micro_batcher(scorer.log_probs, wait_ms=2000, max_tokens=8)
    check(await asyncio.wait_for(batcher.submit(["AAAA"]), 1.0), ["AAAA"])
    batcher.expected = 1  # the caller itself (ModelRunner.expecting): still nobody else on the way
    check(await asyncio.wait_for(batcher.submit(["CCCC"]), 1.0), ["CCCC"])
    assert scorer.calls == [["AAAA"], ["CCCC"]]


async def test_a_job_waits_for_the_callers_on_their_way_within_the_wait():
    scorer = FakeScorer()
    batcher = micro_batcher(scorer.log_probs, wait_ms=2000, max_tokens=12)
    batcher.expected = 3  # three requests under way (ModelRunner.expecting)
    first = asyncio.create_task(batcher.submit(["AAAA"]))
    second = asyncio.create_task(batcher.submit(["CCCC"]))
    await asyncio.sleep(0.01)
    assert scorer.calls == []  # still waiting for the third
    # The third job arrives (and fills max_tokens), so the batch leaves at once instead of after 2 s.
    third = await asyncio.wait_for(batcher.submit(["GGGG"]), 5)
    check(third, ["GGGG"])
    check(await first, ["AAAA"])
    check(await second, ["CCCC"])
    assert scorer.calls == [["AAAA", "CCCC", "GGGG"]]


async def test_calls_hold_at_most_max_tokens_and_a_big_job_is_split():
    scorer = FakeScorer()
    batcher = micro_batcher(scorer.log_probs, wait_ms=0, max_tokens=10)
    big = ["A" * 4 + str(i) for i in range(7)]  # 7 × 5 bases
    long_one = ["C" * 25]  # longer than max_tokens: goes alone
    got_big, got_long = await asyncio.gather(batcher.submit(big), batcher.submit(long_one))
    check(got_big, big)
    check(got_long, long_one)
    for call in scorer.calls:
        assert len(call) == 1 or sum(map(len, call)) <= 10
    assert sorted(s for call in scorer.calls for s in call) == sorted(big + long_one)


async def test_a_short_job_waits_at_most_one_call_behind_a_long_one():
    scorer = FakeScorer()
    batcher = micro_batcher(scorer.log_probs, wait_ms=0, max_tokens=8)
    big = [f"AAA{i}" for i in range(20)]  # 20 × 4 bases = 10 calls on its own
    big_task = asyncio.create_task(batcher.submit(big))
    await asyncio.sleep(0)
    small = asyncio.create_task(batcher.submit(["CCCC"]))
    check(await small, ["CCCC"])
    check(await big_task, big)
    served = next(i for i, call in enumerate(scorer.calls) if "CCCC" in call)
    assert served <= 1


async def test_a_cancelled_queued_caller_is_not_scored_and_others_are_served():
    scorer = FakeScorer()
    batcher = micro_batcher(scorer.log_probs, wait_ms=500)
    batcher.expected = 3  # a third caller is announced: the two queued jobs wait for it
    leaving = asyncio.create_task(batcher.submit(["AAAA"]))
    staying = asyncio.create_task(batcher.submit(["CCCC"]))
    await asyncio.sleep(0.01)
    leaving.cancel()
    check(await staying, ["CCCC"])
    with pytest.raises(asyncio.CancelledError):
        await leaving
    assert scorer.calls == [["CCCC"]]


async def test_a_caller_cancelled_during_the_call_does_not_poison_the_batch():
    gate = threading.Event()
    scorer = FakeScorer(gate)
    batcher = micro_batcher(scorer.log_probs, wait_ms=0)
    try:
        leaving = asyncio.create_task(batcher.submit(["AAAA", "GGGG"]))
        staying = asyncio.create_task(batcher.submit(["CCCC", "GGGG"]))
        await entered(scorer)
        leaving.cancel()
        await asyncio.sleep(0)
    finally:
        gate.set()
    check(await staying, ["CCCC", "GGGG"])
    with pytest.raises(asyncio.CancelledError):
        await leaving
    check(await batcher.submit(["TTTT"]), ["TTTT"])  # the worker is still healthy


async def test_an_error_reaches_only_the_callers_of_that_batch():
    gate = threading.Event()
    scorer = FakeScorer(gate, error=RuntimeError("CUDA error: device-side assert"))
    batcher = micro_batcher(scorer.log_probs, wait_ms=0)
    try:
        first = asyncio.gather(batcher.submit(["AAAA"]), batcher.submit(["CCCC"]), return_exceptions=True)
        await entered(scorer)
        later = asyncio.create_task(batcher.submit(["GGGG"]))  # queued behind the failing call
        await asyncio.sleep(0)
        scorer.error = None
    finally:
        gate.set()
    outcomes = await first
    assert all(isinstance(o, RuntimeError) for o in outcomes), outcomes
    check(await later, ["GGGG"])
    assert scorer.calls == [["AAAA", "CCCC"], ["GGGG"]]


async def test_an_invalid_input_fails_only_the_caller_that_sent_it():
    scorer = FakeScorer()
    batcher = micro_batcher(scorer.log_probs, wait_ms=0)
    good, bad = await asyncio.gather(
        batcher.submit(["AAAA"]), batcher.submit(["CXCC"]), return_exceptions=True
    )
    assert isinstance(bad, InvalidSequence)
    assert isinstance(good, list)
    check(good, ["AAAA"])


async def test_an_empty_call_never_reaches_the_scorer():
    scorer = FakeScorer()
    assert await micro_batcher(scorer.log_probs).submit([]) == []
    assert scorer.calls == []


async def test_queue_full_is_overloaded_with_retry_after():
    gate = threading.Event()
    scorer = FakeScorer(gate)
    runner = model_runner(scorer, max_queue=2, retry_after_s=7, batch_wait_ms=0)
    try:
        running = [asyncio.create_task(runner.log_probs([s])) for s in ("AAAA", "CCCC")]
        await entered(scorer)
        assert runner.queue_depth == 2
        with pytest.raises(Overloaded) as refused:
            await runner.log_probs(["GGGG"])
        assert refused.value.status == 503 and refused.value.retry_after == 7
    finally:
        gate.set()
    for task, seq in zip(running, ("AAAA", "CCCC"), strict=True):
        check(await task, [seq])
    assert runner.queue_depth == 0
    check(await runner.log_probs(["GGGG"]), ["GGGG"])


async def test_a_model_call_past_the_timeout_is_model_unavailable_and_calls_stay_serial():
    gate = threading.Event()
    scorer = FakeScorer(gate)
    runner = model_runner(scorer, timeout_s=0.05, retry_after_s=3, batch_wait_ms=0)
    try:
        with pytest.raises(ModelUnavailable) as timed_out:
            await runner.log_probs(["AAAA"])
        assert timed_out.value.status == 503 and timed_out.value.retry_after == 3
        assert runner.queue_depth == 0
        runner.batcher.timeout_s = 10
        second = asyncio.create_task(runner.log_probs(["CCCC"]))
        await asyncio.sleep(0.05)
        assert scorer.calls == [["AAAA"]]  # the stuck call still holds the model thread
    finally:
        gate.set()
    check(await second, ["CCCC"])
    assert scorer.max_active == 1


async def test_batch_max_tokens_zero_turns_merging_off():
    scorer = FakeScorer()
    runner = model_runner(scorer, batch_wait_ms=0, batch_max_tokens=0)
    jobs = [["AAAA", "CCCC"], ["CCCC"], ["G" * 10**5]]
    for got, seqs in zip(await asyncio.gather(*(runner.log_probs(j) for j in jobs)), jobs, strict=True):
        check(got, seqs)
    assert scorer.calls == jobs


async def test_concurrent_api_requests_share_scorer_calls_and_get_their_own_answers(make_app, kmer_scorer):
    variants = [f"chr17:{43119600 + i}:{ref}:{alt}" for i, (ref, alt) in enumerate(["CA", "AG", "CG", "AT"])]
    # Four requests of two 8,192-bp windows fill 65,536 tokens: the batch leaves when the last arrives.
    merged_app = make_app(batch_wait_ms=1000, batch_max_tokens=4 * 2 * 8192)
    serial_app = make_app(batch_wait_ms=0, batch_max_tokens=0)
    calls: dict[str, int] = {}
    for name, app in (("merged", merged_app), ("serial", serial_app)):
        batcher = app.state.parts.runner.batcher
        inner = batcher._score

        def counting(seqs: list[str], inner: Any = inner, name: str = name) -> list[np.ndarray]:
            calls[name] = calls.get(name, 0) + 1
            return inner(seqs)

        batcher._score = counting
    answers = {}
    for name, app in (("merged", merged_app), ("serial", serial_app)):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
            posts = (c.post("/variant-delta", json={"variant": v}) for v in variants)
            answers[name] = await asyncio.gather(*posts)
    assert calls == {"merged": 1, "serial": len(variants)}
    for merged, serial, variant in zip(answers["merged"], answers["serial"], variants, strict=True):
        assert merged.status_code == serial.status_code == 200, merged.text
        [result] = merged.json()["results"]
        assert result["variant"] == variant
        assert result["delta_score"] == serial.json()["results"][0]["delta_score"]


class _SlowLastGenome(LayeredGenome):
    """The bundled slices, with windows starting at or after ``slow_from`` read 0.2 s late: the
    last member of a burst is still fetching when the others have queued their jobs."""

    slow_from = 43_115_505  # 0-based start of chr17:43119602's 8,192-bp window

    async def fetch(self, genome: str, interval: Interval) -> str:
        if interval.start >= self.slow_from:
            await asyncio.sleep(0.2)
        return await super().fetch(genome, interval)


async def test_a_lone_http_request_never_waits_and_a_burst_waits_for_its_members(make_app):
    app = make_app(merge_wait_ms=1000, genome=_SlowLastGenome([BundledGenome()]))
    stats = app.state.parts.runner.batcher.stats
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
        alone = await c.post("/variant-delta", json={"variant": "chr17:43119628:T:G"})
        assert alone.status_code == 200 and stats.waits == 0 and stats.batches == 1
        variants = [f"chr17:{43119600 + i}:{ref}:{alt}" for i, (ref, alt) in enumerate(["CA", "AG", "CG"])]
        burst = await asyncio.gather(*(c.post("/variant-delta", json={"variant": v}) for v in variants))
    assert all(r.status_code == 200 for r in burst)
    assert stats.waits >= 1 and stats.batches == 2 and stats.merged_batches == 1
