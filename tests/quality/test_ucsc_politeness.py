"""UCSC as the shared, rate-limited public service it is, through the real app over the stand-in server.

One request may not take UCSC away from everyone: the process keeps to a rate and a concurrency cap,
one request may cause only so many fetches, waiting for a slot is never reported (or counted by the
circuit breaker) as UCSC timing out, and a widened tile UCSC cannot serve is fetched exactly instead
of failing the batch.
"""

from __future__ import annotations

import asyncio
import csv
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.api.app import create_app
from service.compose import build_ucsc
from service.genome.layered import LayeredGenome
from service.settings import Settings
from tests.support.ucsc_server import (
    SEQUENCE,
    RateLimit,
    UcscServer,
    chromosome_sizes,
    reference_bases,
    served_synthetic,
)

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]
FINDLAY = ROOT / "service/data/brca1/findlay2018_brca1_snvs.tsv"
#: The politeness settings' defaults (``Settings``), named here so each test states what it relies on.
FETCH_BUDGET = 16  # ucsc_max_fetches_per_request
CONCURRENCY = 2  # ucsc_max_concurrency
BURST = 2  # ucsc_rate_burst


@asynccontextmanager
async def serve(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=120) as client:
            yield client
    finally:
        await app.state.parts.genome.aclose()


def ucsc_only(server: UcscServer, **overrides: Any) -> Settings:
    """Settings whose only genome source is the stand-in (``overrides``: the test's own)."""
    return Settings(genome_sources=["ucsc"], ucsc_base_url=server.url, **overrides)


def spread_variants(count: int, genome: str = "hg19", step: int = 1_000_000) -> list[str]:
    """``count`` SNVs ``step`` bp apart over chr1, chr2, … (refs from the synthetic stand-in's bases)."""
    variants: list[str] = []
    for chrom in (f"chr{i}" for i in range(1, 23)):
        size = chromosome_sizes()[genome][chrom]
        for pos in range(500_000, size - 100_000, step):
            ref = served_synthetic(genome, chrom, pos - 1, pos)
            variants.append(f"{chrom}:{pos}:{ref}:{'A' if ref != 'A' else 'C'}")
            if len(variants) == count:
                return variants
    raise AssertionError("not enough genome for the batch")


def snv(pos: int, genome: str = "hg38", chrom: str = "chr17") -> dict[str, Any]:
    ref = reference_bases(genome, chrom, pos - 1, pos)
    assert ref is not None
    return {"chrom": chrom, "pos": pos, "ref": ref, "alt": "A" if ref != "A" else "C"}


async def wait_for(condition: Any, timeout: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out waiting"
        await asyncio.sleep(0.01)


# --- case 2: a spread-out batch ------------------------------------------------------------------------


async def test_a_spread_out_batch_keeps_to_its_fetch_budget_and_leaves_ucsc_to_others(
    kmer_scorer: Any,
) -> None:
    """1,000 hg19 variants 1 Mb apart; meanwhile another client asks for one BRCA1 variant."""
    bot_delay = RateLimit(per_second=20, burst=5)  # the stand-in answers 429 (Retry-After 30) beyond this
    with UcscServer(synthetic=True, rate_limit=bot_delay) as server:
        settings = ucsc_only(
            server,
            ucsc_requests_per_second=10,
            ucsc_max_fetches_per_request=FETCH_BUDGET,
            ucsc_max_concurrency=CONCURRENCY,
        )
        async with serve(create_app(settings, scorer=kmer_scorer)) as client:
            batch = asyncio.create_task(
                client.post("/variant-delta", json={"variants": spread_variants(1000), "genome": "hg19"})
            )
            await wait_for(lambda: server.count(SEQUENCE) >= 3)
            other = await client.post(
                "/variant-delta", json={"variant": snv(41_276_135, "hg19"), "genome": "hg19"}
            )
            answered = (await batch).json()["results"]
            health = (await client.get("/health")).json()
    assert other.status_code == 200, other.text
    budget = FETCH_BUDGET
    scored = [r for r in answered if "delta_score" in r]
    refused = [r["error"] for r in answered if "error" in r]
    assert len(scored) == budget  # one fetch per region: the budget's worth of regions is scored
    assert {e["type"] for e in refused} == {"limit_exceeded"} and len(refused) == 1000 - budget
    assert refused[0]["detail"]["max_fetches_per_request"] == budget
    assert server.count(SEQUENCE) == budget + 1  # the batch's budget and the other client's one
    assert server.throttled == 0  # never past UCSC's own limit
    assert server.max_in_flight <= CONCURRENCY
    assert health["status"] == "ok"
    [ucsc] = health["detail"]["genome"]["sources"]
    assert ucsc["breaker"]["consecutive_failures"] == 0
    assert ucsc["stats"]["refused_by_budget"] == 1000 - budget


async def test_requests_to_ucsc_are_spaced_at_the_configured_rate(kmer_scorer: Any) -> None:
    with UcscServer() as server:
        settings = ucsc_only(
            server,
            ucsc_tile_bp=0,
            ucsc_requests_per_second=5,
            ucsc_rate_burst=BURST,
        )
        variants = [snv(42_500_000 + i * 20_000) for i in range(8)]  # eight regions
        async with serve(create_app(settings, scorer=kmer_scorer)) as client:
            response = await client.post("/variant-delta", json={"variants": variants})
    assert response.status_code == 200 and "error" not in response.text
    times = server.times
    assert len(times) == 1 + 8  # the chromosome list and one fetch per region
    # Between any two requests, no more than the burst plus the rate's share of the time between them
    # (one request of slack: a request that was slow to arrive lets the next ones come closer).
    for i, first in enumerate(times):
        for j in range(i + 1, len(times)):
            assert j - i + 1 <= BURST + 1 + 5 * (times[j] - first), (i, j)
    assert times[-1] - times[0] >= (len(times) - BURST - 1) / 5


async def test_waiting_for_a_free_connection_is_queueing_not_an_upstream_timeout(kmer_scorer: Any) -> None:
    """A healthy but slow UCSC and one connection: requests wait their turn; none is a 'timeout'."""
    with UcscServer(latency=0.3) as server:
        settings = ucsc_only(
            server,
            ucsc_tile_bp=0,
            ucsc_connect_timeout_s=0.2,
            ucsc_read_timeout_s=2.0,
            ucsc_max_attempts=1,
            ucsc_breaker_failures=2,
            ucsc_max_concurrency=1,
            ucsc_requests_per_second=0,
        )
        one_connection = httpx.AsyncClient(limits=httpx.Limits(max_connections=1))
        genome = LayeredGenome([build_ucsc(settings, client=one_connection)])
        async with serve(create_app(settings, scorer=kmer_scorer, genome=genome)) as client:
            answers = await asyncio.gather(
                *(
                    client.post("/variant-delta", json={"variant": snv(42_500_000 + i * 20_000)})
                    for i in range(6)
                )
            )
            health = (await client.get("/health")).json()
        await one_connection.aclose()
    assert [a.status_code for a in answers] == [200] * 6, [a.text for a in answers if a.status_code != 200]
    [ucsc] = health["detail"]["genome"]["sources"]
    assert ucsc["breaker"]["state"] == "closed" and ucsc["breaker"]["consecutive_failures"] == 0
    assert ucsc["stats"]["failures"] == 0 and ucsc["stats"]["retries"] == 0
    assert server.count(SEQUENCE) == 6


async def test_a_caller_that_cannot_get_a_slot_in_time_gets_503_and_the_breaker_hears_nothing(
    kmer_scorer: Any,
) -> None:
    with UcscServer(latency=1.0) as server:
        settings = ucsc_only(
            server,
            ucsc_tile_bp=0,
            ucsc_max_concurrency=1,
            ucsc_requests_per_second=0,
            ucsc_queue_timeout_s=0.5,
            ucsc_breaker_failures=1,
        )
        async with serve(create_app(settings, scorer=kmer_scorer)) as client:
            await client.get("/info")  # nothing fetched yet
            first, second = await asyncio.gather(
                client.post("/variant-delta", json={"variant": snv(42_500_000)}),
                client.post("/variant-delta", json={"variant": snv(42_600_000)}),
            )
            health = (await client.get("/health")).json()
    statuses = sorted([first.status_code, second.status_code])
    assert statuses == [200, 503], (first.text, second.text)
    busy = (first if first.status_code == 503 else second).json()["error"]
    assert busy["type"] == "upstream_unavailable" and "queued" in busy["message"]
    [ucsc] = health["detail"]["genome"]["sources"]
    assert health["status"] == "ok" and ucsc["breaker"]["consecutive_failures"] == 0
    assert ucsc["stats"]["refused_by_queue"] == 1


# --- case 5: a widened tile the upstream cannot serve ----------------------------------------------------


def findlay_snvs() -> list[str]:
    with FINDLAY.open() as handle:
        return [
            f"{row['chromosome']}:{row['position_hg19']}:{row['reference']}:{row['alt']}"
            for row in csv.DictReader(handle, delimiter="\t")
        ]


async def test_a_widened_tile_that_fails_falls_back_to_the_exact_span(kmer_scorer: Any) -> None:
    """A mirror that holds only the BRCA1 slice; the default 64-kb tiles reach beyond it."""
    snvs = findlay_snvs()
    assert len(snvs) == 3893
    with UcscServer(coverage="slices") as server:
        settings = ucsc_only(
            server,
        )  # default tiles
        async with serve(create_app(settings, scorer=kmer_scorer)) as client:
            answers = [
                await client.post("/variant-delta", json={"variants": snvs[i : i + 1000], "genome": "hg19"})
                for i in range(0, len(snvs), 1000)
            ]
            health = (await client.get("/health")).json()
    results = [r for answer in answers for r in answer.json()["results"]]
    assert sum("delta_score" in r for r in results) == 3893, [r["error"] for r in results if "error" in r][:2]
    [ucsc] = health["detail"]["genome"]["sources"]
    assert ucsc["breaker"]["state"] == "closed" and ucsc["stats"]["failures"] == 0
    fetched = [(int(p["start"]), int(p["end"])) for path, p in server.requests if path == SEQUENCE]
    tiles = [(start, end) for start, end in fetched if start % 65_536 == 0 and end % 65_536 == 0]
    assert len(tiles) == ucsc["stats"]["tile_fallbacks"] >= 1  # every tile asked for failed, once
    assert len(set(fetched)) == len(fetched)  # no region asked twice: a failed tile is remembered
    assert len(fetched) <= 20


# --- case 3 online: a window inside the bundled slice is read there --------------------------------------


async def test_a_bundled_window_is_read_locally_whatever_its_neighbour_needs(kmer_scorer: Any) -> None:
    inside = "chr17:43119628:T:G"  # its 8,192-bp window lies inside the bundled hg38 slice
    outside = snv(43_127_000)  # its window runs past the slice's end (43,130,000)
    with UcscServer() as server:
        settings = Settings(genome_sources=["bundled", "ucsc"], ucsc_base_url=server.url, ucsc_tile_bp=0)
        async with serve(create_app(settings, scorer=kmer_scorer)) as client:
            response = await client.post("/variant-delta", json={"variants": [inside, outside]})
    results = response.json()["results"]
    assert [("delta_score" in r) for r in results] == [True, True], response.text
    fetched = [(int(p["start"]), int(p["end"])) for path, p in server.requests if path == SEQUENCE]
    assert fetched == [(results[1]["window"]["start"], results[1]["window"]["end"])]  # only the outside one
