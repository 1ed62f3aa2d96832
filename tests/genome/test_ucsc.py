"""UcscGenome over real sockets against the stand-in UCSC server, and its circuit breaker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from service.coords import Interval
from service.errors import (
    OutOfBounds,
    UnknownChromosome,
    UnknownGenome,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from service.genome.base import GenomeSource
from service.genome.breaker import CircuitBreaker
from service.genome.ucsc import UcscGenome
from tests.support import ucsc_server as stand_in
from tests.support.parts import ucsc_genome
from tests.support.ucsc_server import (
    Fault,
    UcscServer,
    reference_bases,
)

ucsc_server = stand_in.ucsc_server  # the fixture (conftest may import it as well)

SEQ = "/getData/sequence"
BRCA1 = Interval("chr17", 43_119_500, 43_119_700)  # hg38, around the example variant 43,119,628 (1-based)
MASKED = Interval("chr17", 43_117_900, 43_118_600)  # crosses a block the stand-in lower-cases


class Sleeps:
    """Injectable sleep that records the requested delays instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@asynccontextmanager
async def ucsc(server: UcscServer, **options: Any) -> AsyncIterator[UcscGenome]:
    options.setdefault("sleep", Sleeps())
    genome = ucsc_genome(base_url=server.url, **options)
    try:
        yield genome
    finally:
        await genome.aclose()


def expected(interval: Interval, genome: str = "hg38") -> str:
    bases = reference_bases(genome, interval.chrom, interval.start, interval.end)
    assert bases is not None
    return bases


# -- the happy path ---------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_fetch_returns_upper_case_reference_bases_with_0_based_params(
    ucsc_server: UcscServer,
) -> None:
    async with ucsc(ucsc_server) as genome:
        assert isinstance(genome, GenomeSource)
        bases = await genome.fetch("hg38", MASKED)
    assert bases == expected(MASKED)  # the stand-in sent lower case in the middle
    assert bases.isupper() and len(bases) == len(MASKED)
    assert ucsc_server.requests == [
        (SEQ, {"genome": "hg38", "chrom": "chr17", "start": "43117900", "end": "43118600"})
    ]


@pytest.mark.anyio
async def test_reference_base_of_the_example_variant_in_both_builds(ucsc_server: UcscServer) -> None:
    async with ucsc(ucsc_server) as genome:
        # hg38 chr17:43,119,628 (1-based) is T; hg19 is 1,847,983 lower at BRCA1.
        assert await genome.fetch("hg38", Interval("chr17", 43_119_627, 43_119_628)) == "T"
        assert await genome.fetch("hg19", Interval("chr17", 41_271_644, 41_271_645)) == "T"
        assert await genome.fetch("hg38", Interval("chr17", 5, 5)) == ""  # empty: no request
    assert ucsc_server.count(SEQ) == 2


@pytest.mark.anyio
async def test_assembly_gaps_come_back_as_n(ucsc_server: UcscServer) -> None:
    gap_edge = Interval("chr22", 20_509_421, 20_509_441)  # hg19 gap starts at 20,509,432 (1-based)
    async with ucsc(ucsc_server) as genome:
        bases = await genome.fetch("hg19", gap_edge)
    assert bases == expected(gap_edge, "hg19")
    assert bases.endswith("N" * 10) and "N" not in bases[:10]


@pytest.mark.anyio
async def test_chrom_sizes_are_fetched_once_per_genome(ucsc_server: UcscServer) -> None:
    async with ucsc(ucsc_server) as genome:
        first, second = await asyncio.gather(genome.chrom_sizes("hg38"), genome.chrom_sizes("hg38"))
        assert first["chr17"] == 83_257_441
        assert len(first) == 420
        assert second is first
        assert (await genome.chrom_sizes("hg19"))["chr17"] == 81_195_210
        assert await genome.chrom_sizes("hg38") is first
    assert ucsc_server.count("/list/chromosomes") == 2


@pytest.mark.anyio
async def test_known_chrom_sizes_let_bad_intervals_fail_without_a_request(
    ucsc_server: UcscServer,
) -> None:
    async with ucsc(ucsc_server) as genome:
        await genome.chrom_sizes("hg38")
        with pytest.raises(OutOfBounds) as past_end:
            await genome.fetch("hg38", Interval("chr17", 83_257_400, 83_257_450))
        assert past_end.value.detail["chrom_size"] == 83_257_441
        with pytest.raises(UnknownChromosome):
            await genome.fetch("hg38", Interval("chr99", 0, 10))
    assert ucsc_server.count(SEQ) == 0


# -- UCSC's refusals ------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_ucsc_refusals_map_to_typed_errors_without_retry(ucsc_server: UcscServer) -> None:
    async with ucsc(ucsc_server, genomes=("hg38", "hg19", "hg99")) as genome:
        with pytest.raises(UnknownChromosome) as unknown_chrom:
            await genome.fetch("hg38", Interval("chr99", 0, 10))
        assert "chr99" in unknown_chrom.value.message
        with pytest.raises(OutOfBounds) as past_end:
            await genome.fetch("hg38", Interval("chr17", 83_257_400, 83_257_450))
        assert past_end.value.detail["chrom_size"] == 83_257_441
        assert past_end.value.detail["region"] == "chr17:83257401-83257450"  # 1-based for people
        with pytest.raises(UnknownGenome):
            await genome.fetch("hg99", Interval("chr17", 0, 10))
        with pytest.raises(UnknownGenome):
            await genome.chrom_sizes("hg99")
        ucsc_server.inject(Fault("status", status=400, message="illegal start,end coordinates given: 1,0"))
        with pytest.raises(OutOfBounds):
            await genome.fetch("hg38", BRCA1)
        ucsc_server.inject(Fault("status", status=400, message="something new"))
        with pytest.raises(UpstreamError) as other:
            await genome.fetch("hg38", BRCA1)
        assert other.value.status == 502
        assert genome.stats.retries == 0
        assert genome.describe()["breaker"]["state"] == "closed"
    assert ucsc_server.count() == 6  # one request each, no retries


@pytest.mark.anyio
async def test_unsupported_genome_and_insane_chrom_are_refused_before_sending(
    ucsc_server: UcscServer,
) -> None:
    async with ucsc(ucsc_server) as genome:
        assert genome.covers("hg38", BRCA1) and not genome.covers("mm10", BRCA1)
        with pytest.raises(UnknownGenome):
            await genome.fetch("mm10", BRCA1)
        with pytest.raises(UnknownGenome):
            await genome.chrom_sizes("mm10")
        for chrom in ("chr1;start=5", "chr1&end=9", "chr 1", "chr1/../x", ""):
            with pytest.raises(UnknownChromosome):
                await genome.fetch("hg38", Interval(chrom, 0, 10))
    assert ucsc_server.count() == 0


# -- faults, retries, budget ----------------------------------------------------------------------------


TRANSIENT = [
    Fault("status", status=500),
    Fault("status", status=503),
    Fault("reset"),
    Fault("invalid_json"),
    Fault("truncate_dna"),
    Fault("extend_dna"),
    Fault("wrong_echo"),
]


@pytest.mark.anyio
@pytest.mark.parametrize("fault", TRANSIENT, ids=lambda f: f"{f.kind}-{f.status}")
async def test_transient_faults_are_retried(ucsc_server: UcscServer, fault: Fault) -> None:
    sleeps = Sleeps()
    ucsc_server.inject(fault, times=2)
    async with ucsc(ucsc_server, sleep=sleeps) as genome:
        assert await genome.fetch("hg38", BRCA1) == expected(BRCA1)
        assert genome.stats.requests == 3
        assert genome.stats.retries == 2
    assert ucsc_server.count(SEQ) == 3
    assert len(sleeps.delays) == 2
    assert 0.25 <= sleeps.delays[0] <= 0.5 and 0.5 <= sleeps.delays[1] <= 1.0  # exponential, jittered


@pytest.mark.anyio
@pytest.mark.parametrize("fault", TRANSIENT, ids=lambda f: f"{f.kind}-{f.status}")
async def test_persistent_faults_become_upstream_errors(ucsc_server: UcscServer, fault: Fault) -> None:
    ucsc_server.inject(fault, times=None)
    async with ucsc(ucsc_server, max_attempts=3) as genome:
        with pytest.raises(UpstreamError) as failure:
            await genome.fetch("hg38", BRCA1)
        assert genome.stats.failures == 1
    error = failure.value
    assert type(error) is UpstreamError and error.status == 502
    assert error.message.startswith("UCSC /getData/sequence ")
    assert error.message.endswith("three times")
    assert "http" not in error.message and "127.0.0.1" not in error.message
    assert "Traceback" not in error.message
    assert error.detail["attempts"] == 3
    assert ucsc_server.count(SEQ) == 3


@pytest.mark.anyio
async def test_error_message_says_what_failed(ucsc_server: UcscServer) -> None:
    ucsc_server.inject(Fault("status", status=500), times=None)
    async with ucsc(ucsc_server, max_attempts=3) as genome:
        with pytest.raises(UpstreamError) as failure:
            await genome.fetch("hg38", BRCA1)
    assert failure.value.message == "UCSC /getData/sequence answered HTTP 500 three times"
    assert failure.value.detail["upstream_message"] == "stand-in injected HTTP 500"


@pytest.mark.anyio
async def test_wrong_length_dna_is_never_returned(ucsc_server: UcscServer) -> None:
    ucsc_server.inject(Fault("truncate_dna"), times=None)
    async with ucsc(ucsc_server, max_attempts=2) as genome:
        with pytest.raises(UpstreamError, match="answered 199 bases for a 200-bp request"):
            await genome.fetch("hg38", BRCA1)
        ucsc_server.clear_faults()
        ucsc_server.inject(Fault("extend_dna", length=5), times=None)
        with pytest.raises(UpstreamError, match="answered 205 bases"):
            await genome.fetch("hg38", BRCA1)
        assert genome.describe()["cache"]["entries"] == 0


@pytest.mark.anyio
async def test_n_runs_pass_through_unchanged(ucsc_server: UcscServer) -> None:
    ucsc_server.inject(Fault("n_run", offset=50, length=30))
    async with ucsc(ucsc_server) as genome:
        bases = await genome.fetch("hg38", BRCA1)
    reference = expected(BRCA1)
    assert bases == reference[:50] + "N" * 30 + reference[80:]


@pytest.mark.anyio
async def test_timeouts_are_retried_then_upstream_timeout(ucsc_server: UcscServer) -> None:
    ucsc_server.inject(Fault("slow", delay=3.0), times=None)
    async with ucsc(ucsc_server, read_timeout=0.15, max_attempts=2) as genome:
        with pytest.raises(UpstreamTimeout) as failure:
            await genome.fetch("hg38", BRCA1)
    assert failure.value.status == 504
    assert failure.value.message == "UCSC /getData/sequence timed out twice"
    assert ucsc_server.count(SEQ) == 2


@pytest.mark.anyio
async def test_one_slow_answer_is_retried(ucsc_server: UcscServer) -> None:
    ucsc_server.inject(Fault("slow", delay=3.0))
    async with ucsc(ucsc_server, read_timeout=0.15) as genome:
        assert await genome.fetch("hg38", BRCA1) == expected(BRCA1)
    assert ucsc_server.count(SEQ) == 2


@pytest.mark.anyio
async def test_retry_after_is_honoured(ucsc_server: UcscServer) -> None:
    sleeps = Sleeps()
    ucsc_server.inject(Fault("status", status=429, retry_after=2), times=2)
    async with ucsc(ucsc_server, sleep=sleeps) as genome:
        assert await genome.fetch("hg38", BRCA1) == expected(BRCA1)
    assert sleeps.delays == [2.0, 2.0]
    assert ucsc_server.count(SEQ) == 3


@pytest.mark.anyio
async def test_persistent_429_becomes_upstream_unavailable_with_retry_after(
    ucsc_server: UcscServer,
) -> None:
    ucsc_server.inject(Fault("status", status=429, retry_after=1), times=None)
    async with ucsc(ucsc_server, max_attempts=3) as genome:
        with pytest.raises(UpstreamUnavailable) as failure:
            await genome.fetch("hg38", BRCA1)
    assert failure.value.status == 503
    assert failure.value.retry_after == 1.0
    assert "too many requests" in failure.value.message
    assert ucsc_server.count(SEQ) == 3
    # UCSC's 429 text names this server's IP address: it must not reach our callers.
    assert "127.0.0.1" not in str(failure.value.to_dict())
    assert "Your host" not in str(failure.value.to_dict())


@pytest.mark.anyio
async def test_retry_after_beyond_the_budget_stops_at_once(ucsc_server: UcscServer) -> None:
    sleeps = Sleeps()
    ucsc_server.inject(Fault("status", status=429, retry_after=60), times=None)
    async with ucsc(ucsc_server, sleep=sleeps, retry_budget_s=30) as genome:
        with pytest.raises(UpstreamUnavailable) as failure:
            await genome.fetch("hg38", BRCA1)
    assert failure.value.retry_after == 60.0
    assert "exceeds the remaining retry budget" in failure.value.message
    assert sleeps.delays == []
    assert ucsc_server.count(SEQ) == 1


@pytest.mark.anyio
async def test_backoff_stays_within_the_budget(ucsc_server: UcscServer) -> None:
    sleeps = Sleeps()
    ucsc_server.inject(Fault("status", status=500), times=None)
    # Delays are jittered in [b/2, b] with b = 0.4, 0.8, ...: the first sleep (<= 0.4 s) fits in the
    # 0.59 s budget; after it (>= 0.2 s) the second (>= 0.4 s) would not.
    async with ucsc(
        ucsc_server, sleep=sleeps, backoff_base_s=0.4, retry_budget_s=0.59, max_attempts=10
    ) as genome:
        with pytest.raises(UpstreamError, match=r"retry budget of 0\.59 s spent"):
            await genome.fetch("hg38", BRCA1)
    assert len(sleeps.delays) == 1
    assert ucsc_server.count(SEQ) == 2


@pytest.mark.anyio
async def test_backoff_is_capped(ucsc_server: UcscServer) -> None:
    sleeps = Sleeps()
    ucsc_server.inject(Fault("status", status=502), times=None)
    async with ucsc(
        ucsc_server, sleep=sleeps, backoff_base_s=1.0, backoff_max_s=2.0, max_attempts=6, retry_budget_s=100
    ) as genome:
        with pytest.raises(UpstreamError):
            await genome.fetch("hg38", BRCA1)
    assert len(sleeps.delays) == 5
    assert all(delay <= 2.0 for delay in sleeps.delays)
    assert all(delay >= 1.0 for delay in sleeps.delays[1:])


# -- cache and de-duplication ---------------------------------------------------------------------------


@pytest.mark.anyio
async def test_concurrent_fetches_of_one_region_send_one_request(ucsc_server: UcscServer) -> None:
    async with ucsc(ucsc_server) as genome:
        results = await asyncio.gather(*(genome.fetch("hg38", BRCA1) for _ in range(20)))
        assert results == [expected(BRCA1)] * 20
        assert genome.stats.coalesced == 19
        assert genome.stats.cache_misses == 1
    assert ucsc_server.count(SEQ) == 1


@pytest.mark.anyio
async def test_a_shared_failure_reaches_every_caller_and_is_not_cached(
    ucsc_server: UcscServer,
) -> None:
    ucsc_server.inject(Fault("status", status=500), times=None)
    async with ucsc(ucsc_server, max_attempts=2) as genome:
        results = await asyncio.gather(
            *(genome.fetch("hg38", BRCA1) for _ in range(5)), return_exceptions=True
        )
        assert all(isinstance(result, UpstreamError) for result in results)
        assert ucsc_server.count(SEQ) == 2  # one shared fetch, two attempts
        ucsc_server.clear_faults()
        assert await genome.fetch("hg38", BRCA1) == expected(BRCA1)
    assert ucsc_server.count(SEQ) == 3


@pytest.mark.anyio
async def test_a_cancelled_caller_does_not_cancel_the_shared_fetch(ucsc_server: UcscServer) -> None:
    ucsc_server.inject(Fault("slow", delay=0.2))
    async with ucsc(ucsc_server) as genome:
        impatient = asyncio.create_task(genome.fetch("hg38", BRCA1))
        patient = asyncio.create_task(genome.fetch("hg38", BRCA1))
        await asyncio.sleep(0.05)
        impatient.cancel()
        assert await patient == expected(BRCA1)
        with pytest.raises(asyncio.CancelledError):
            await impatient
    assert ucsc_server.count(SEQ) == 1


@pytest.mark.anyio
async def test_contained_interval_is_served_from_the_cache(ucsc_server: UcscServer) -> None:
    cluster = Interval("chr17", 43_100_000, 43_125_000)
    window = Interval("chr17", 43_115_532, 43_123_724)  # 8,192 bp
    async with ucsc(ucsc_server) as genome:
        await genome.fetch("hg38", cluster)
        assert await genome.fetch("hg38", window) == expected(window)
        assert genome.stats.cache_hits == 1
        assert genome.stats.requests == 1
    assert ucsc_server.count(SEQ) == 1


@pytest.mark.anyio
async def test_cache_evicts_least_recently_used_regions_by_bytes(ucsc_server: UcscServer) -> None:
    a = Interval("chr17", 43_100_000, 43_100_600)
    b = Interval("chr17", 43_110_000, 43_110_600)
    async with ucsc(ucsc_server, cache_bytes=1000) as genome:
        await genome.fetch("hg38", a)
        await genome.fetch("hg38", b)  # 1,200 bytes > 1,000: a goes
        assert genome.describe()["cache"]["bytes"] == 600
        await genome.fetch("hg38", b)
        assert ucsc_server.count(SEQ) == 2
        assert await genome.fetch("hg38", a) == expected(a)
    assert ucsc_server.count(SEQ) == 3


# -- circuit breaker ------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_breaker_opens_fails_fast_then_recovers(ucsc_server: UcscServer) -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=2, reset_s=30, clock=clock)
    ucsc_server.inject(Fault("status", status=500), times=None)
    async with ucsc(ucsc_server, breaker=breaker, max_attempts=1) as genome:
        for start in (0, 1000):
            with pytest.raises(UpstreamError):
                await genome.fetch("hg38", Interval("chr17", 43_100_000 + start, 43_100_100 + start))
        assert genome.describe()["breaker"]["state"] == "open"
        sent = ucsc_server.count()

        clock.now += 10
        with pytest.raises(UpstreamUnavailable) as fast:
            await genome.fetch("hg38", BRCA1)
        assert fast.value.status == 503
        assert fast.value.retry_after == pytest.approx(20)
        with pytest.raises(UpstreamUnavailable):
            await genome.chrom_sizes("hg38")
        assert ucsc_server.count() == sent  # failed fast: no request
        assert genome.stats.rejected_by_breaker == 2

        clock.now += 20  # half-open: one trial call; it fails and the circuit opens again
        with pytest.raises(UpstreamError):
            await genome.fetch("hg38", BRCA1)
        assert ucsc_server.count() == sent + 1
        assert genome.describe()["breaker"]["state"] == "open"

        clock.now += 30
        ucsc_server.clear_faults()
        assert await genome.fetch("hg38", BRCA1) == expected(BRCA1)
        assert genome.describe()["breaker"]["state"] == "closed"
        assert (await genome.chrom_sizes("hg38"))["chr17"] == 83_257_441


@pytest.mark.anyio
async def test_breaker_built_from_options_and_cache_still_serves_while_open(
    ucsc_server: UcscServer,
) -> None:
    async with ucsc(ucsc_server, breaker_failures=1, breaker_reset_s=300, max_attempts=1) as genome:
        await genome.fetch("hg38", BRCA1)
        ucsc_server.inject(Fault("reset"), times=None)
        with pytest.raises(UpstreamError):
            await genome.fetch("hg38", Interval("chr17", 43_000_000, 43_000_100))
        with pytest.raises(UpstreamUnavailable) as fast:
            await genome.fetch("hg38", Interval("chr17", 43_000_000, 43_000_100))
        assert 299 < (fast.value.retry_after or 0) <= 300
        inner = Interval("chr17", 43_119_600, 43_119_650)
        assert await genome.fetch("hg38", inner) == expected(inner)  # cache hit needs no upstream
    assert ucsc_server.count(SEQ) == 2


def test_circuit_breaker_states() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=3, reset_s=10, clock=clock)
    for _ in range(2):
        assert breaker.allow()
        breaker.record_failure()
    assert breaker.allow()
    breaker.record_success()  # a success resets the count: failures must be consecutive
    for _ in range(3):
        assert breaker.allow()
        breaker.record_failure()
    assert breaker.state == "open" and not breaker.allow()
    assert breaker.retry_after() == pytest.approx(10)
    clock.now += 4
    assert breaker.retry_after() == pytest.approx(6)
    clock.now += 6
    assert breaker.state == "half_open"
    assert breaker.allow()  # the one trial call
    assert not breaker.allow()  # nobody else while it runs
    breaker.release()  # the trial was cancelled: another may try
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state == "open" and breaker.times_opened == 2
    clock.now += 10
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state == "closed" and breaker.allow()
    assert breaker.describe()["consecutive_failures"] == 0


# -- plumbing -------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_describe_reports_url_breaker_cache_and_counters(ucsc_server: UcscServer) -> None:
    async with ucsc(ucsc_server) as genome:
        await genome.fetch("hg38", BRCA1)
        await genome.fetch("hg38", BRCA1)
        info = genome.describe()
    assert info["name"] == "ucsc"
    assert info["base_url"] == ucsc_server.url
    assert info["breaker"]["state"] == "closed"
    assert info["cache"]["entries"] == 1 and info["cache"]["bytes"] == 200
    assert info["stats"] == {
        "requests": 1,
        "retries": 0,
        "cache_hits": 1,
        "cache_misses": 1,
        "coalesced": 0,
        "failures": 0,
        "rejected_by_breaker": 0,
        "tile_fallbacks": 0,
        "refused_by_queue": 0,
        "refused_by_budget": 0,
    }


@pytest.mark.anyio
async def test_injected_client_is_used_and_left_open(ucsc_server: UcscServer) -> None:
    async with httpx.AsyncClient() as client:
        genome = ucsc_genome(base_url=ucsc_server.url, client=client)
        assert await genome.fetch("hg38", BRCA1) == expected(BRCA1)
        await genome.aclose()
        assert not client.is_closed
        assert (await client.get(ucsc_server.url + "/list/chromosomes", params={"genome": "hg38"})).is_success


@pytest.mark.anyio
async def test_injected_transport_sees_params_not_string_formatting() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200,
            json={
                "downloadTime": "2025:01:01T00:00:00Z",
                "downloadTimeStamp": 1735689600,
                "genome": "hg38",
                "chrom": "chr1_KI270706v1_random",
                "start": 10,
                "end": 14,
                "dna": "acgN",
            },
        )

    genome = ucsc_genome(base_url="https://ucsc.example/", transport=httpx.MockTransport(answer))
    try:
        assert await genome.fetch("hg38", Interval("chr1_KI270706v1_random", 10, 14)) == "ACGN"
    finally:
        await genome.aclose()
    request = seen[0]
    assert request.url.path == "/getData/sequence"
    assert dict(request.url.params) == {
        "genome": "hg38",
        "chrom": "chr1_KI270706v1_random",
        "start": "10",
        "end": "14",
    }
    assert request.headers["user-agent"].startswith("evo2-variant-service/")


def test_tiles_are_aligned_and_clamped_to_the_chromosome() -> None:
    genome = ucsc_genome(tile_bp=65_536)
    sizes = {"chr17": 83_257_441}
    assert genome._tile(Interval("chr17", 43_115_531, 43_123_723), sizes) == Interval(
        "chr17", 43_057_152, 43_188_224
    )
    assert genome._tile(Interval("chr17", 83_250_000, 83_257_441), sizes) == Interval(
        "chr17", 83_230_720, 83_257_441
    )
    assert ucsc_genome()._tile(Interval("chr17", 5, 9), sizes) == Interval("chr17", 5, 9)  # tiling off
