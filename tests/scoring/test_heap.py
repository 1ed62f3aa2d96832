"""Freed heap memory goes back to the OS after large model work, once the runner is idle."""

from __future__ import annotations

import asyncio
import sys

import pytest

from service.scoring.heap import trim_heap
from tests.support.parts import model_runner

pytestmark = pytest.mark.anyio


def rss_kib() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc_trim")
def test_trim_heap_hands_back_fragmented_free_memory():
    # 60 MB in 40 kB blocks (below the mmap threshold: heap), then free all but every 64th block.
    blocks = [bytearray(40_000) for _ in range(1500)]
    kept = blocks[::64]
    del blocks
    before = rss_kib()
    assert trim_heap() is True
    assert rss_kib() < before - 20_000  # at least 20 MB back
    assert kept


async def test_the_runner_trims_once_idle_after_trim_tokens(kmer_scorer):
    runner = model_runner(kmer_scorer, trim_tokens=1000)
    await runner.log_probs(["ACGT" * 100])  # 400 bases: not yet
    assert runner.trims == 0
    await asyncio.gather(runner.log_probs(["ACGT" * 100]), runner.log_probs(["TTGA" * 100]))
    assert runner.trims == 1  # 1,200 bases since the start, idle after the second pair
    off = model_runner(kmer_scorer, trim_tokens=0)
    await off.log_probs(["ACGT" * 1000])
    assert off.trims == 0


async def test_a_request_under_way_is_trimmed_after_its_last_chunk_not_between(kmer_scorer):
    runner = model_runner(kmer_scorer, trim_tokens=1000)
    async with runner.expecting():
        for _ in range(3):
            await runner.log_probs(["ACGT" * 300])  # 1,200 bases per chunk
        assert runner.trims == 0
    assert runner.trims == 1
