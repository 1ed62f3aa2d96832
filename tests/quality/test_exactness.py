"""The scoring path is exact where it can be: the audit of issue 13 kept as tests.

Mean log-likelihood and reverse-complement averaging through the engine against evo2's own scoring
code on the tiny model, the suffix delta against the window delta in float64, and hundreds of
concurrent micro-batcher jobs (some cancelled) each getting its own answer. (Mixed-length batches and
the 3,893 notebook windows are checked in tests/scoring/test_evo2.py and tests/domain/test_windows.py.)
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import numpy as np
import pytest

import service
from service.coords import Variant
from service.domain.delta import VariantScore
from service.domain.options import DeltaOptions
from service.genome.bundled import BundledGenome, read_fasta
from service.genome.layered import LayeredGenome
from service.jobs.benchmark.findlay import load_findlay
from service.scoring.kmer import KmerScorer
from tests.support.parts import engine_for, micro_batcher
from tests.support.synthetic_genome import SyntheticGenome, random_bases

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def tiny():
    from tests.support.evo2_cpu import tiny_scorer

    return tiny_scorer()


def snvs(chrom: str, positions: list[int]) -> list[Variant]:
    return [Variant("chrT", p, chrom[p - 1], "A" if chrom[p - 1] != "A" else "G") for p in positions]


async def test_engine_scores_equal_evo2_score_sequences_and_score_sequences_rc(tiny):
    from evo2.scoring import score_sequences, score_sequences_rc

    chrom = random_bases(3000, 21)
    engine = engine_for(tiny, SyntheticGenome({"chrT": chrom}))
    variants = snvs(chrom, [700, 1500, 2300])
    for reverse in (False, True):
        scored = await engine.score(variants, DeltaOptions("hg38", 256, "window", reverse))
        seqs = [
            s for v in scored if isinstance(v, VariantScore) for s in (v.windows.ref_seq, v.windows.alt_seq)
        ]
        mine = [x for v in scored if isinstance(v, VariantScore) for x in (v.ref_score, v.alt_score)]
        assert len(mine) == 6
        if reverse:
            theirs = score_sequences_rc(seqs, tiny.model, tiny.tokenizer, batch_size=1, device="cpu")
        else:
            theirs = score_sequences(seqs, tiny.model, tiny.tokenizer, batch_size=1, device="cpu")
        np.testing.assert_allclose(mine, theirs, atol=2e-6, rtol=0)


async def test_suffix_delta_equals_window_delta_in_float64_for_an_exact_causal_model():
    """The k-mer model's log-probs are exact float64 and causal: both reductions agree to round-off."""
    engine = engine_for(KmerScorer.load(), LayeredGenome([BundledGenome()]))
    table = load_findlay()
    rng = random.Random(0)
    variants = [Variant(s.chrom, s.pos, s.ref, s.alt) for s in rng.sample(table, 180)]
    _, hg19 = read_fasta(Path(service.__file__).parent / "data/genome/hg19_chr17_41190000-41285000.fa")
    for pos in range(41_240_000, 41_240_200, 10):  # indels: 1-based pos, the slice starts at 41,190,000
        ref = hg19[pos - 41_190_000 : pos - 41_190_000 + 4]
        variants.append(
            Variant("chr17", pos, ref, ref[0]) if pos % 20 else Variant("chr17", pos, ref[0], ref[0] + "TT")
        )
    window = await engine.score(variants, DeltaOptions("hg19", 8192, "window"))
    suffix = await engine.score(variants, DeltaOptions("hg19", 8192, "suffix"))
    gaps = [
        abs(a.delta - b.delta)
        for a, b in zip(window, suffix, strict=True)
        if isinstance(a, VariantScore) and isinstance(b, VariantScore)
    ]
    assert len(gaps) == 200
    assert max(gaps) < 1e-13


async def test_hundreds_of_concurrent_jobs_with_cancellations_each_get_their_own_answer():
    def score(seqs: list[str]) -> list[np.ndarray]:
        return [np.array([ord(c) * (i + 1) for i, c in enumerate(s[1:])], dtype=np.float64) for s in seqs]

    batcher = micro_batcher(score, wait_ms=2, max_tokens=4096)
    rng = random.Random(3)
    jobs = [
        [random_bases(rng.randrange(20, 200), rng.randrange(10**6)) for _ in range(rng.randrange(1, 4))]
        for _ in range(600)
    ]
    tasks = [asyncio.create_task(batcher.submit(job)) for job in jobs]
    cancelled = set(range(0, 600, 7))
    await asyncio.sleep(0)
    for i in cancelled:
        tasks[i].cancel()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    wrong = 0
    for i, (job, outcome) in enumerate(zip(jobs, outcomes, strict=True)):
        if isinstance(outcome, asyncio.CancelledError):
            assert i in cancelled
            continue
        assert not isinstance(outcome, BaseException), outcome
        wrong += sum(not np.array_equal(got, want) for got, want in zip(outcome, score(job), strict=True))
    assert wrong == 0
    assert sum(not isinstance(o, BaseException) for o in outcomes) >= 600 - len(cancelled)
    batcher.close()
