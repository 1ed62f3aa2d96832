"""The whole app over the stand-in UCSC server, with faults injected upstream.

Each test builds the app the way a deployment does (``Settings(genome_sources=["ucsc"], ucsc_base_url=…)``)
with small timeouts and budgets, injects a fault into the stand-in and checks what the client gets: a
retry that ends in the genome's real bases (the same delta as the bundled reference), or an error in the
envelope (502/503/504, Retry-After where due), never a score computed from wrong bases, never a 500.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
import pytest

from service.api.app import create_app
from service.genome.ucsc import UcscGenome
from service.settings import Settings
from tests.support.ucsc_server import CHROMOSOMES, SEQUENCE, Fault, UcscServer, reference_bases

pytestmark = pytest.mark.anyio

EXAMPLE = "chr17:43119628:T:G"  # inside the bundled BRCA1 slice and the stand-in's hg38 slice
HALF = 4096  # the default 8,192-bp window: the variant is at this offset of the fetched region
ATTEMPTS = 3
FAST = {
    "genome_sources": ["ucsc"],
    "ucsc_connect_timeout_s": 0.5,
    "ucsc_read_timeout_s": 0.5,
    "ucsc_max_attempts": ATTEMPTS,
    "ucsc_retry_budget_s": 5.0,
    "ucsc_breaker_failures": 50,
    "ucsc_breaker_reset_s": 60.0,
    # Exact windows, so a fault's offset in the UCSC answer is an offset in the variant's window.
    "ucsc_tile_bp": 0,
}


@pytest.fixture
def server() -> Iterator[UcscServer]:
    with UcscServer() as stand_in:
        yield stand_in


@asynccontextmanager
async def serve(server: UcscServer, scorer: Any, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The real app (UCSC as its only genome source) and a client; backoff shortened to keep tests fast."""
    app = create_app(Settings(**{**FAST, "ucsc_base_url": server.url, **overrides}), scorer=scorer)
    genome = app.state.parts.genome
    for source in genome.sources:
        if isinstance(source, UcscGenome):
            source.backoff_base_s = 0.01
    try:
        transport = httpx.ASGITransport(app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=30) as client:
            yield client
    finally:
        await genome.aclose()


def variant_at(pos: int, genome: str = "hg38", chrom: str = "chr17") -> str:
    """A real SNV at 1-based ``pos`` (ref read from the stand-in's reference)."""
    ref = reference_bases(genome, chrom, pos - 1, pos)
    assert ref is not None
    alt = next(b for b in "ACGT" if b != ref)
    return f"{chrom}:{pos}:{ref}:{alt}"


@pytest.fixture
async def reference_delta(make_app: Any) -> float:
    """The example's delta over the bundled reference (no network): what a correct fetch must give."""
    app = make_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
        response = await client.post("/variant-delta", json={"variant": EXAMPLE})
    assert response.status_code == 200
    delta: float = response.json()["results"][0]["delta_score"]
    return delta


def sample(metrics: str, series: str) -> float:
    """The value of one series in Prometheus text."""
    for line in metrics.splitlines():
        name, _, value = line.rpartition(" ")
        if name == series:
            return float(value)
    raise AssertionError(f"{series} not in /metrics")


def assert_error(response: httpx.Response, status: int, type_: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert "delta_score" not in response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["type"] == type_
    return error


ONE_OFF_FAULTS = {
    "http_500": Fault("status", status=500, path=SEQUENCE),
    "http_502": Fault("status", status=502, path=SEQUENCE),
    "http_503": Fault("status", status=503, retry_after=0, path=SEQUENCE),
    "connection_reset": Fault("reset", path=SEQUENCE),
    "invalid_json": Fault("invalid_json", path=SEQUENCE),
    "dna_too_short": Fault("truncate_dna", length=1),
    "dna_too_long": Fault("extend_dna", length=5),
    "wrong_region_echoed": Fault("wrong_echo"),
    "read_timeout": Fault("slow", delay=1.5, path=SEQUENCE),
}


@pytest.mark.parametrize("fault", ONE_OFF_FAULTS.values(), ids=ONE_OFF_FAULTS.keys())
async def test_a_fault_once_is_retried_and_the_score_is_the_genomes(
    server: UcscServer, kmer_scorer: Any, reference_delta: float, fault: Fault
) -> None:
    server.inject(fault, times=1)
    async with serve(server, kmer_scorer) as client:
        response = await client.post("/variant-delta", json={"variant": EXAMPLE})
    assert response.status_code == 200, response.text
    assert response.json()["results"][0]["delta_score"] == reference_delta
    assert server.count(SEQUENCE) == 2


PERSISTENT_FAULTS = {
    "http_500": (Fault("status", status=500, path=SEQUENCE), 502, "upstream_error"),
    "http_503": (Fault("status", status=503, path=SEQUENCE), 502, "upstream_error"),
    "connection_reset": (Fault("reset", path=SEQUENCE), 502, "upstream_error"),
    "invalid_json": (Fault("invalid_json", path=SEQUENCE), 502, "upstream_error"),
    "dna_too_short": (Fault("truncate_dna", length=3), 502, "upstream_error"),
    "dna_too_long": (Fault("extend_dna", length=1), 502, "upstream_error"),
    "wrong_region_echoed": (Fault("wrong_echo"), 502, "upstream_error"),
    "read_timeout": (Fault("slow", delay=2.0, path=SEQUENCE), 504, "upstream_timeout"),
}


@pytest.mark.parametrize(
    ("fault", "status", "type_"), PERSISTENT_FAULTS.values(), ids=PERSISTENT_FAULTS.keys()
)
async def test_a_persistent_fault_is_an_error_after_the_retries_never_a_score(
    server: UcscServer, kmer_scorer: Any, fault: Fault, status: int, type_: str
) -> None:
    server.inject(fault, times=None)
    async with serve(server, kmer_scorer) as client:
        response = await client.post("/variant-delta", json={"variant": EXAMPLE})
        assert_error(response, status, type_)
        # The legacy frontend call gets the same answer.
        legacy = await client.post(
            "/analyze_single_variant",
            params={
                "variant_position": 43119628,
                "alternative": "G",
                "genome": "hg38",
                "chromosome": "chr17",
            },
        )
        assert_error(legacy, status, type_)
    assert server.count(SEQUENCE) == 2 * ATTEMPTS  # every attempt used, none more


async def test_a_failing_chromosome_list_is_a_502_not_a_500(server: UcscServer, kmer_scorer: Any) -> None:
    server.inject(Fault("status", status=500, path=CHROMOSOMES), times=None)
    async with serve(server, kmer_scorer) as client:
        response = await client.post("/variant-delta", json={"variant": EXAMPLE})
    assert_error(response, 502, "upstream_error")
    assert server.count(SEQUENCE) == 0


async def test_a_burst_of_5xx_shorter_than_the_attempts_is_absorbed(
    server: UcscServer, kmer_scorer: Any, reference_delta: float
) -> None:
    server.inject(Fault("status", status=503, path=SEQUENCE), times=ATTEMPTS - 1)
    async with serve(server, kmer_scorer) as client:
        response = await client.post("/variant-delta", json={"variant": EXAMPLE})
    assert response.status_code == 200, response.text
    assert response.json()["results"][0]["delta_score"] == reference_delta
    assert server.count(SEQUENCE) == ATTEMPTS


async def test_ucsc_429_with_a_short_retry_after_is_waited_out(
    server: UcscServer, kmer_scorer: Any, reference_delta: float
) -> None:
    server.inject(Fault("status", status=429, retry_after=1, path=SEQUENCE), times=1)
    async with serve(server, kmer_scorer) as client:
        response = await client.post("/variant-delta", json={"variant": EXAMPLE})
    assert response.status_code == 200, response.text
    assert response.json()["results"][0]["delta_score"] == reference_delta
    assert server.count(SEQUENCE) == 2


async def test_ucsc_429_with_a_retry_after_beyond_the_budget_is_a_503_with_retry_after(
    server: UcscServer, kmer_scorer: Any
) -> None:
    server.inject(Fault("status", status=429, retry_after=30, path=SEQUENCE), times=None)
    async with serve(server, kmer_scorer) as client:
        response = await client.post("/variant-delta", json={"variant": EXAMPLE})
    assert_error(response, 503, "upstream_unavailable")
    assert int(response.headers["retry-after"]) >= 30
    assert server.count(SEQUENCE) == 1  # UCSC asked for 30 s: no retry inside a 5-s budget


async def test_n_bases_at_the_variant_are_caught_by_the_reference_check(
    server: UcscServer, kmer_scorer: Any
) -> None:
    async with serve(server, kmer_scorer) as client:
        server.inject(Fault("n_run", offset=HALF - 3, length=8), times=1)
        with_ref = await client.post("/variant-delta", json={"variant": EXAMPLE})
        error = assert_error(with_ref, 400, "ref_mismatch")
        assert (error["detail"]["expected"], error["detail"]["observed"]) == ("T", "N")
        # Without a ref allele the base is read from the genome: an N is refused, not scored.
        other = variant_at(43_200_000)
        chrom, pos, _, alt = other.split(":")
        server.inject(Fault("n_run", offset=HALF, length=1), times=1)
        no_ref = await client.post(
            "/variant-delta", json={"variant": {"chrom": chrom, "pos": int(pos), "alt": alt}}
        )
        assert_error(no_ref, 400, "invalid_variant")


async def test_a_batch_over_a_failing_upstream_answers_every_variant_with_its_error(
    server: UcscServer, kmer_scorer: Any
) -> None:
    variants = [variant_at(43_000_000), variant_at(43_300_000), "chr17:43119628:A:G", "not a variant"]
    server.inject(Fault("status", status=500, path=SEQUENCE), times=None)
    async with serve(server, kmer_scorer) as client:
        response = await client.post("/variant-delta", json={"variants": variants})
    assert response.status_code == 200, response.text
    assert "delta_score" not in response.text
    kinds = [r["error"]["type"] for r in response.json()["results"]]
    assert kinds == ["upstream_error", "upstream_error", "upstream_error", "invalid_variant"]


async def test_concurrent_requests_for_one_region_share_one_upstream_fetch(
    server: UcscServer, kmer_scorer: Any, reference_delta: float
) -> None:
    # The first fetch is slow, so every request arrives while it is under way.
    server.inject(Fault("slow", delay=0.3, path=SEQUENCE), times=1)
    bodies = [{"variant": EXAMPLE}] * 8 + [{"variant": f"chr17:43119628:T:{alt}"} for alt in "AC"]
    async with serve(server, kmer_scorer) as client:
        responses = await asyncio.gather(*(client.post("/variant-delta", json=b) for b in bodies))
        metrics = (await client.get("/metrics")).text
    assert [r.status_code for r in responses] == [200] * len(bodies)
    results = [r.json()["results"][0] for r in responses]
    assert {r["delta_score"] for r in results[:8]} == {reference_delta}
    assert len({r["ref_score"] for r in results}) == 1
    assert server.count(SEQUENCE) == 1
    assert server.count(CHROMOSOMES) == 1
    # Shared while under way (not merely cached afterwards): the others joined the first fetch.
    assert sample(metrics, 'evo2_genome_cache_misses_total{source="ucsc"}') == 1
    assert sample(metrics, 'evo2_genome_cache_coalesced_total{source="ucsc"}') >= 1


async def test_the_circuit_opens_during_an_outage_health_says_degraded_and_it_recovers(
    server: UcscServer, kmer_scorer: Any
) -> None:
    server.inject(Fault("status", status=500, path=SEQUENCE), times=None)
    async with serve(server, kmer_scorer, ucsc_breaker_failures=2, ucsc_breaker_reset_s=1.0) as client:
        health = (await client.get("/health")).json()
        assert health["status"] == "ok"
        for pos in (43_000_000, 43_300_000):
            assert_error(
                await client.post("/variant-delta", json={"variant": variant_at(pos)}), 502, "upstream_error"
            )
        health = (await client.get("/health")).json()
        assert health["status"] == "degraded"
        [ucsc] = health["detail"]["genome"]["sources"]
        assert ucsc["breaker"]["state"] == "open"

        asked = server.count()
        for pos in (43_100_000, 43_400_000, 43_000_000):
            response = await client.post("/variant-delta", json={"variant": variant_at(pos)})
            assert_error(response, 503, "upstream_unavailable")
            assert int(response.headers["retry-after"]) >= 1
        assert server.count() == asked  # fails fast: UCSC is not asked while the circuit is open
        metrics = (await client.get("/metrics")).text
        assert sample(metrics, 'evo2_upstream_breaker_state{source="ucsc",state="open"}') == 1
        assert sample(metrics, 'evo2_upstream_rejected_by_breaker_total{source="ucsc"}') == 3

        # UCSC comes back; after the reset time one trial request closes the circuit again.
        server.clear_faults()
        await anyio.sleep(1.1)
        response = await client.post("/variant-delta", json={"variant": EXAMPLE})
        assert response.status_code == 200, response.text
        assert (await client.get("/health")).json()["status"] == "ok"


async def test_nearby_single_variant_requests_share_one_tiled_fetch(
    server: UcscServer, kmer_scorer: Any
) -> None:
    """With aligned tiles (the default), one UCSC request serves later requests at nearby positions."""
    variants = [variant_at(43_119_628 + step) for step in (0, 37, 900, 2_500)]
    async with serve(server, kmer_scorer, ucsc_tile_bp=65_536) as client:
        answers = [await client.post("/variant-delta", json={"variant": v}) for v in variants]
    assert [a.status_code for a in answers] == [200] * len(variants), answers[-1].text
    assert server.count(SEQUENCE) == 1
    asked = next(params for path, params in server.requests if path == SEQUENCE)
    assert int(asked["start"]) % 65_536 == 0 and int(asked["end"]) % 65_536 == 0
