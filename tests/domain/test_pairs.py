"""The engine's window pairs: continuation through the API, chunks, float32 caches, the pair cache."""

from __future__ import annotations

from typing import Any

import httpx
import numpy as np
import pytest

from service.coords import Interval, Variant
from service.domain.pairs import PairScorer, WindowPair
from service.domain.score_cache import PairCache, PairKey, RefKey, ScoreCache
from tests.support.evo2_cpu import random_dna, tiny_scorer
from tests.support.parts import model_runner

pytestmark = pytest.mark.anyio

#: hg38 chr17:43119620-43119631 (the bundled slice) is ACCAACATTGGT; two alleles at two positions.
SNVS = ["chr17:43119622:C:A", "chr17:43119622:C:G", "chr17:43119628:T:A", "chr17:43119628:T:G"]


async def post(app: Any, path: str, body: dict[str, Any]) -> dict[str, Any]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
        response = await client.post(path, json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


@pytest.mark.parametrize(
    "options",
    [{}, {"delta_method": "suffix"}, {"reverse_complement": True}],
    ids=["window", "suffix", "rc"],
)
async def test_continuation_on_and_off_give_the_same_deltas_with_fewer_tokens(make_app, options):
    body = {"variants": [*SNVS, "chr17:43119628:T:TA", "chr17:43119627:TT:T"], "window": 512, **options}
    on, off = tiny_scorer(), tiny_scorer()
    with_state = await post(make_app(scorer=on), "/variant-delta", body)
    full = await post(make_app(scorer=off, prefix_continuation=False), "/variant-delta", body)
    for a, b in zip(with_state["results"], full["results"], strict=True):
        assert a["variant"] == b["variant"]
        assert a["delta_score"] == pytest.approx(b["delta_score"], abs=2e-6)  # float32 round-off
        assert a["ref_score"] == pytest.approx(b["ref_score"], abs=2e-6)
    assert on.stats.snapshot()["continued"] > 0 and off.stats.snapshot()["continued"] == 0
    assert on.stats.snapshot()["tokens"] < off.stats.snapshot()["tokens"]


async def test_an_identical_saturation_repeated_scores_no_window(make_app, kmer_scorer):
    app = make_app()
    body = {"region": "chr17:43119620-43119631"}
    first = await post(app, "/saturation", body)
    before = kmer_scorer.stats.snapshot()["sequences"]
    again = await post(app, "/saturation", body)
    assert kmer_scorer.stats.snapshot()["sequences"] == before  # every pair from the pair cache
    assert again == first
    fresh = await post(make_app(pair_cache_bytes=0, ref_cache_bytes=0), "/saturation", body)
    assert fresh == first


async def test_a_request_larger_than_a_chunk_is_scored_chunk_by_chunk_with_the_same_answers(make_app):
    body = {"variants": SNVS, "window": 1024}
    one = await post(make_app(), "/variant-delta", body)
    app = make_app(request_chunk_tokens=3 * 1024)  # a reference and two alternates per chunk
    calls = []
    runner = app.state.parts.runner
    inner = runner.continued

    async def counting(groups: Any) -> Any:
        calls.append(len(groups))
        return await inner(groups)

    runner.continued = counting
    chunked = await post(app, "/variant-delta", body)
    assert calls == [1, 1]  # two positions, one group each, one chunk each
    assert chunked == one


def snv(ref: str, index: int = 4) -> str:
    return ref[:index] + ("A" if ref[index] != "A" else "C") + ref[index + 1 :]


def pair(ref: str, alt: str, start: int = 0) -> WindowPair:
    key = RefKey("m", "hg38", Interval("chr1", start, start + len(ref)), source="test")
    return WindowPair(ref, alt, key, PairKey(key, Variant("chr1", start + 5, ref[4], alt[4])))


async def test_cached_reference_arrays_are_float32_and_fresh_ones_agree_with_them(kmer_scorer):
    cache = ScoreCache(2**20)
    pairs_scorer = PairScorer(model_runner(kmer_scorer), chunk_tokens=10**6, ref_cache=cache)
    ref = random_dna(300, 1)
    alt = snv(ref)
    [fresh] = await pairs_scorer.sums([pair(ref, alt)])
    [key] = [pair(ref, alt).ref_key]
    stored = cache.get(key)
    assert stored is not None and stored.dtype == np.float32 and not stored.flags.writeable
    [again] = await pairs_scorer.sums([pair(ref, alt)])  # the reference from the cache
    assert again == fresh
    assert fresh.start == 3 and fresh.n == 299


async def test_a_pair_is_reused_from_the_pair_cache_until_it_is_evicted(kmer_scorer):
    cache = PairCache(max_bytes=2 * 512)  # two pairs
    pairs_scorer = PairScorer(model_runner(kmer_scorer), chunk_tokens=10**6, pair_cache=cache)
    refs = [random_dna(200, s) for s in (2, 3, 4)]
    items = [
        pair(r, r[:4] + ("A" if r[4] != "A" else "C") + r[5:], start=i * 1000) for i, r in enumerate(refs)
    ]
    await pairs_scorer.sums(items)
    assert len(cache) == 2 and cache.stats()["evictions"] == 1
    before = kmer_scorer.stats.snapshot()["sequences"]
    await pairs_scorer.sums(items[1:])
    assert kmer_scorer.stats.snapshot()["sequences"] == before
