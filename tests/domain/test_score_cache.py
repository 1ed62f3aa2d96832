"""The reference-window score cache: LRU bounds, and repeated queries that skip the reference window."""

from __future__ import annotations

import httpx
import numpy as np
import pytest

from service.coords import Interval
from service.domain.score_cache import RefKey, ScoreCache


def key(
    start: int,
    *,
    strand: str = "+",
    model: str = "m",
    genome: str = "hg38",
    length: int = 9,
    source: str = "s:hg38:1",
) -> RefKey:
    return RefKey(model, genome, Interval("chr17", start, start + length), strand, source=source)  # type: ignore[arg-type]


def test_the_same_window_of_another_sequence_is_another_entry():
    cache = ScoreCache(max_bytes=2**20)
    cache.put(key(0, source="ucsc:hg38:Dec. 2013 (GRCh38/hg38)"), lp(0))
    assert cache.get(key(0, source="fasta:hg38:fai-sha256:0123456789abcdef")) is None


def lp(value: float, length: int = 8) -> np.ndarray:
    return np.full(length, value)


def test_least_recently_used_entries_go_first():
    cache = ScoreCache(max_bytes=2 * 8 * 8)  # two 8-value float64 arrays
    cache.put(key(0), lp(0))
    cache.put(key(1), lp(1))
    assert cache.get(key(0)) is not None  # 0 is now the most recently used
    cache.put(key(2), lp(2))
    assert key(1) not in cache and key(0) in cache and key(2) in cache
    assert cache.stats()["evictions"] == 1


def test_the_byte_bound_holds():
    cache = ScoreCache(max_bytes=3 * 8 * 8)  # three 8-value float64 arrays
    for i in range(5):
        cache.put(key(i), lp(i))
    assert len(cache) == 3 and cache.bytes == 3 * 64
    assert [k for k in (key(i) for i in range(5)) if k in cache] == [key(2), key(3), key(4)]
    cache.put(key(9, length=1001), lp(9, 1000))  # larger than the whole cache: not stored
    assert key(9, length=1001) not in cache and len(cache) == 3


def test_keys_separate_model_genome_window_and_strand():
    cache = ScoreCache(2**20)
    cache.put(key(0), lp(1))
    for other in (key(0, model="n"), key(0, genome="hg19"), key(0, strand="-"), key(1)):
        assert cache.get(other) is None
    np.testing.assert_array_equal(cache.get(key(0)), lp(1))


def test_stored_arrays_are_read_only_copies():
    cache = ScoreCache(2**20)
    original = lp(1)
    cache.put(key(0), original)
    original[:] = 5  # the caller's array stays the caller's
    stored = cache.get(key(0))
    assert stored is not None and stored[0] == 1
    with pytest.raises(ValueError):
        stored[0] = 2


def test_a_wrong_length_is_refused_and_zero_entries_stores_nothing():
    with pytest.raises(ValueError):
        ScoreCache(2**20).put(key(0, length=9), lp(0, 7))
    off = ScoreCache(max_bytes=0)
    off.put(key(0), lp(0))
    assert len(off) == 0 and off.get(key(0)) is None


# --- through the API ------------------------------------------------------------------------------

EXAMPLE = "chr17:43119628:T:{}"


async def _delta(client: httpx.AsyncClient, alt: str, **options: object) -> float:
    response = await client.post("/variant-delta", json={"variant": EXAMPLE.format(alt), **options})
    assert response.status_code == 200, response.text
    return float(response.json()["results"][0]["delta_score"])


@pytest.mark.anyio
@pytest.mark.parametrize(
    "options",
    [{}, {"delta_method": "suffix"}, {"reverse_complement": True}, {"window": 1024}],
    ids=["window", "suffix", "rc", "w1024"],
)
async def test_a_repeated_position_scores_only_the_alternate_windows(make_app, kmer_scorer, options):
    strands = 2 if options.get("reverse_complement") else 1
    app, fresh = make_app(), make_app(ref_cache_bytes=0)
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as cached,
        httpx.AsyncClient(transport=httpx.ASGITransport(fresh), base_url="http://t") as uncached,
    ):
        before = kmer_scorer.stats.snapshot()["sequences"]
        await _delta(cached, "G", **options)
        assert kmer_scorer.stats.snapshot()["sequences"] - before == 2 * strands
        before = kmer_scorer.stats.snapshot()["sequences"]
        again = await _delta(cached, "A", **options)
        assert kmer_scorer.stats.snapshot()["sequences"] - before == strands  # the alt window only
        assert again == await _delta(uncached, "A", **options)


@pytest.mark.anyio
async def test_another_window_length_or_a_disabled_cache_rescores_the_reference(make_app, kmer_scorer):
    for app, second in ((make_app(), {"window": 2048}), (make_app(ref_cache_bytes=0), {})):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
            await _delta(client, "G")
            before = kmer_scorer.stats.snapshot()["sequences"]
            await _delta(client, "A", **second)
            assert kmer_scorer.stats.snapshot()["sequences"] - before == 2
