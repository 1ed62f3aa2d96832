"""Who gets in, how often, with how much, and what they can learn: keys, rate limits, body limits,
chromosome names, CORS and error bodies, through the real app."""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi import FastAPI

from service.api.app import create_app
from service.api.logs import JsonFormatter
from service.api.ratelimit import TokenBuckets
from service.errors import RateLimited
from service.genome.bundled import BundledGenome
from service.genome.layered import LayeredGenome
from service.settings import Settings
from tests.support.ucsc_server import SEQUENCE, UcscServer

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]
KEYS = ["sk-alpha-3f9c2a71d0e84b5e", "sk-beta-81be44c09a7d2f63", "sk-gamma-c0ffee1234567890"]
WRONG = ["sk-alpha-3f9c2a71d0e84b5", "not-a-key-7d1e", "sk-beta-81be44c09a7d2f63x"]
EXAMPLE = {"variant": "chr17:43119628:T:G"}


def build(scorer: Any, **overrides: Any) -> FastAPI:
    settings = Settings(genome_sources=["bundled"], **overrides)
    return create_app(settings, scorer=scorer, genome=LayeredGenome([BundledGenome()]))


def client_for(app: FastAPI, ip: str = "127.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app, client=(ip, 50000), raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


@pytest.fixture
async def keyed(kmer_scorer: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(build(kmer_scorer, require_api_key=True, api_keys=KEYS)) as client:
        yield client


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


# --- API keys ----------------------------------------------------------------------------------------


async def test_every_configured_key_opens_the_api_through_either_header(keyed: httpx.AsyncClient) -> None:
    for key in KEYS:
        assert (await keyed.get("/info", headers=bearer(key))).status_code == 200
        assert (await keyed.get("/info", headers={"X-API-Key": key})).status_code == 200
        assert (await keyed.get("/info", headers={"authorization": f"bearer {key}"})).status_code == 200
        response = await keyed.post("/variant-delta", json=EXAMPLE, headers=bearer(key))
        assert response.status_code == 200, response.text
        assert (await keyed.get("/metrics", headers=bearer(key))).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        *({"Authorization": f"Bearer {w}"} for w in WRONG),
        {"X-API-Key": WRONG[0]},
        {"Authorization": KEYS[0]},  # no scheme
        {"Authorization": f"Basic {KEYS[0]}"},
        {"Authorization": "Bearer "},
        {"X-API-Key": ""},
    ],
)
async def test_no_valid_key_no_entry(keyed: httpx.AsyncClient, headers: dict[str, str]) -> None:
    for method, path, body in [
        ("GET", "/info", None),
        ("GET", "/metrics", None),
        ("POST", "/variant-delta", EXAMPLE),
        ("POST", "/score", {"sequences": ["ACGT"]}),
        (
            "POST",
            "/analyze_single_variant?variant_position=43119628&alternative=G&genome=hg38&chromosome=chr17",
            None,
        ),
    ]:
        response = await keyed.request(method, path, json=body, headers=headers)
        assert response.status_code == 401, (path, response.text)
        assert response.json()["error"]["type"] == "unauthorized"
    assert (await keyed.get("/health", headers=headers)).status_code == 200  # liveness stays open


@pytest.mark.parametrize("body", [b"not json at all", b'{"variant": 5}', b"\xff\xfe"])
async def test_the_key_is_checked_before_the_body_is_read(keyed: httpx.AsyncClient, body: bytes) -> None:
    """Without a key a malformed body is refused as unauthorized, not parsed and answered 400/422."""
    response = await keyed.post("/variant-delta", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["error"]["type"] == "unauthorized"


async def test_unknown_paths_and_methods_answer_404_and_405_without_a_key(keyed: httpx.AsyncClient) -> None:
    assert (await keyed.get("/no-such-path")).status_code == 404
    assert (await keyed.delete("/variant-delta")).status_code == 405
    assert (await keyed.get("/openapi.json")).status_code == 200  # the public API description


async def test_keys_are_compared_in_constant_time_against_every_key(
    keyed: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    for presented in (KEYS[0], WRONG[1]):
        calls.clear()
        await keyed.get("/info", headers=bearer(presented))
        # Every configured key is compared, even after the first one matched: no early exit to time.
        assert {b for _, b in calls} >= {k.encode() for k in KEYS}
        assert {a for a, _ in calls} == {presented.encode()}


# --- nothing secret in responses or logs ----------------------------------------------------------------


async def test_keys_never_appear_in_any_response_or_log_line(
    kmer_scorer: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # A burst of 6 per key: the second round of each valid key ends in 429s.
    app = build(
        kmer_scorer, require_api_key=True, api_keys=KEYS, rate_limit_per_minute=60, rate_limit_burst=6
    )
    seen: list[str] = []
    async with client_for(app) as client:
        for key in KEYS + WRONG:
            for headers in (bearer(key), {"X-API-Key": key}):
                for method, path, body in [
                    ("GET", "/info", None),
                    ("POST", "/variant-delta", EXAMPLE),
                    ("POST", "/variant-delta", {"variant": "chr17:43119628:A:G"}),
                    ("POST", "/variant-delta", {"variant": 5}),
                    ("GET", "/no-such-path", None),
                    ("DELETE", "/info", None),
                    ("GET", "/metrics", None),
                ]:
                    response = await client.request(method, path, json=body, headers=headers)
                    seen.append(response.text)
                    seen.extend(f"{k}: {v}" for k, v in response.headers.items())
    formatter = JsonFormatter()  # no secrets configured: nothing is redacted, nothing must need to be
    lines = [formatter.format(record) for record in caplog.records]
    seen += lines + [record.getMessage() for record in caplog.records]
    for secret in KEYS + WRONG:
        assert not [text for text in seen if secret in text], secret
    access = [json.loads(line) for line in lines if '"logger": "service.access"' in line]
    assert {a["status"] for a in access} >= {200, 400, 401, 404, 405, 422, 429}


async def test_each_request_is_one_json_line_with_its_request_id(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="service.access")
    mine = await client.post("/variant-delta", json=EXAMPLE, headers={"x-request-id": "trace-42"})
    fresh = await client.get("/health?secret=query")
    assert mine.headers["x-request-id"] == "trace-42"
    assert len(fresh.headers["x-request-id"]) == 32
    formatter = JsonFormatter()
    entries = [json.loads(formatter.format(r)) for r in caplog.records if r.name == "service.access"]
    assert [(e["request_id"], e["method"], e["path"], e["status"]) for e in entries] == [
        ("trace-42", "POST", "/variant-delta", 200),
        (fresh.headers["x-request-id"], "GET", "/health", 200),  # no query string in the log
    ]
    for entry in entries:
        assert {"time", "level", "logger", "message", "duration_ms"} <= set(entry)
        assert entry["duration_ms"] >= 0


def test_the_formatter_blanks_configured_keys_and_bearer_tokens() -> None:
    formatter = JsonFormatter(secrets=[KEYS[0], 'we"ird\\key'])
    record = logging.LogRecord(
        "x",
        logging.WARNING,
        __file__,
        1,
        "got %s and %s; Authorization: Bearer tok123",
        (KEYS[0], 'we"ird\\key'),
        None,
    )
    line = formatter.format(record)
    assert KEYS[0] not in line and 'we\\"ird' not in line and "tok123" not in line
    assert json.loads(line)["message"].count("[redacted]") == 3


# --- rate limits ---------------------------------------------------------------------------------------


async def test_each_key_has_its_own_bucket_and_429_says_when_to_retry(kmer_scorer: Any) -> None:
    app = build(kmer_scorer, require_api_key=True, api_keys=KEYS, rate_limit_per_minute=6, rate_limit_burst=2)
    async with client_for(app) as client:
        first = [(await client.get("/info", headers=bearer(KEYS[0]))).status_code for _ in range(2)]
        refused = await client.post("/variant-delta", json=EXAMPLE, headers={"X-API-Key": KEYS[0]})
        other = [(await client.get("/info", headers=bearer(KEYS[1]))).status_code for _ in range(2)]
        health = [(await client.get("/health")).status_code for _ in range(10)]
        metrics = await client.get("/metrics", headers=bearer(KEYS[0]))
    assert first == [200, 200]
    assert refused.status_code == 429
    assert refused.json()["error"]["type"] == "rate_limited"
    assert 1 <= int(refused.headers["retry-after"]) <= 10  # 6 a minute: a token every 10 s
    assert other == [200, 200]  # another key, another bucket
    assert health == [200] * 10  # /health is not rate limited
    assert metrics.status_code == 200  # nor is /metrics


async def test_without_a_valid_key_the_bucket_is_the_client_ip(kmer_scorer: Any) -> None:
    app = build(kmer_scorer, api_keys=KEYS[:1], rate_limit_per_minute=1, rate_limit_burst=2)
    async with client_for(app, "10.0.0.1") as a, client_for(app, "10.0.0.2") as b:
        # Inventing keys buys no fresh bucket: unknown keys count as the IP.
        from_a = [(await a.get("/info", headers=bearer(w))).status_code for w in WRONG]
        from_b = [(await b.get("/info")).status_code for _ in range(2)]
        with_key = [(await a.get("/info", headers=bearer(KEYS[0]))).status_code for _ in range(2)]
    assert from_a == [200, 200, 429]
    assert from_b == [200, 200]
    assert with_key == [200, 200]


def test_a_bucket_refills_at_the_rate_and_says_how_long_to_wait() -> None:
    now = [1000.0]
    buckets = TokenBuckets(30, 3, clock=lambda: now[0])  # a token every 2 s
    assert [buckets.acquire("k") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.acquire("k") == pytest.approx(2.0)
    now[0] += 1.0
    assert buckets.acquire("k") == pytest.approx(1.0)
    now[0] += 1.0
    assert buckets.acquire("k") == 0.0
    now[0] += 3600  # idle for an hour: full again, but never more than the burst
    assert [buckets.acquire("k") for _ in range(4)][-1] > 0


@pytest.mark.parametrize(
    ("per_minute", "said"),
    [(30, "30 requests"), (0.5, "0.5 requests"), (100_000_000, "100,000,000 model tokens")],
)
def test_the_refusal_says_the_rate_in_plain_digits(per_minute: float, said: str) -> None:
    """People read the message (the web page shows it): 1e+08 is not a rate they were told of."""
    unit = "model tokens" if per_minute > 1000 else "requests"
    buckets = TokenBuckets(per_minute, 1, unit=unit, clock=lambda: 0.0)
    buckets.check("k")
    with pytest.raises(RateLimited) as refused:
        buckets.check("k")
    assert refused.value.message.startswith(f"rate limit of {said} per minute (bursts of 1) exceeded")


def test_bucket_memory_is_bounded_and_idle_buckets_are_evicted() -> None:
    now = [0.0]
    buckets = TokenBuckets(60, 5, clock=lambda: now[0], max_buckets=100)
    for i in range(10_000):
        buckets.acquire(f"ip:{i}")
    assert len(buckets) <= 100
    now[0] += 5.0  # long enough for every bucket to refill: they are all dropped on the next call
    buckets.acquire("ip:new")
    assert len(buckets) == 1


# --- body size -----------------------------------------------------------------------------------------


async def test_bodies_over_the_limit_are_413_with_or_without_content_length(kmer_scorer: Any) -> None:
    async with client_for(build(kmer_scorer, max_body_bytes=1024)) as client:
        declared = await client.post("/score", json={"sequences": ["A" * 2000]})

        async def chunks() -> AsyncIterator[bytes]:
            yield b'{"sequences": ["'
            for _ in range(10):
                yield b"ACGT" * 100
            yield b'"]}'

        streamed = await client.post("/score", content=chunks(), headers={"content-type": "application/json"})
        assert "content-length" not in streamed.request.headers
        small = await client.post("/score", json={"sequences": ["A" * 900]})
    for response in (declared, streamed):
        assert response.status_code == 413, response.text
        assert response.json()["error"] == {
            "type": "payload_too_large",
            "message": "request body exceeds 1024 bytes",
            "detail": {"max_body_bytes": 1024},
        }
    assert small.status_code == 200


async def test_info_publishes_the_limits(kmer_scorer: Any) -> None:
    app = build(
        kmer_scorer,
        require_api_key=True,
        api_keys=KEYS,
        max_body_bytes=4096,
        rate_limit_per_minute=120,
        max_variants=7,
        max_queue=3,
    )
    async with client_for(app) as client:
        info = (await client.get("/info", headers=bearer(KEYS[2]))).json()
    limits = info["limits"]
    assert (limits["max_body_bytes"], limits["rate_limit_per_minute"]) == (4096, 120)
    assert (limits["max_variants"], limits["max_queue"]) == (7, 3)
    assert info["auth"]["api_key_required"] is True
    assert not [k for k in KEYS if k in json.dumps(info)]


# --- chromosome names never reach UCSC unchecked --------------------------------------------------------

HOSTILE_CHROMS = [
    "chr17;genome=hg19",
    "chr17&start=0&end=100000000",
    "../chr17",
    "chr17/../../etc/passwd",
    "chr17%3Bgenome%3Dhg19",
    "chr17?x=1",
    "chr17#frag",
    "chr17\x00",
    "chr1 7",
    "c" * 65,
    "chrFake_123",  # well formed, but not a chromosome of hg38
]


@pytest.fixture
def ucsc() -> Iterator[UcscServer]:
    with UcscServer() as server:
        yield server


async def test_chromosome_names_are_checked_before_any_upstream_call(
    ucsc: UcscServer, kmer_scorer: Any
) -> None:
    settings = Settings(genome_sources=["ucsc"], ucsc_base_url=ucsc.url, ucsc_max_attempts=1)
    app = create_app(settings, scorer=kmer_scorer)
    try:
        async with client_for(app) as client:
            for chrom in HOSTILE_CHROMS:
                answers = [
                    await client.post("/variant-delta", json={"variant": f"{chrom}:43119628:T:G"}),
                    await client.post(
                        "/variant-delta", json={"variant": {"chrom": chrom, "pos": 43119628, "alt": "G"}}
                    ),
                    await client.post(
                        "/analyze_single_variant",
                        params={
                            "variant_position": 43119628,
                            "alternative": "G",
                            "genome": "hg38",
                            "chromosome": chrom,
                        },
                    ),
                ]
                for response in answers:
                    assert response.status_code == 400, (chrom, response.text)
                    assert response.json()["error"]["type"] in ("invalid_variant", "unknown_chromosome")
    finally:
        await app.state.parts.genome.aclose()
    assert ucsc.count(SEQUENCE) == 0
    # Only the fixed chromosome list was asked for; no hostile text reached UCSC in any parameter.
    for _, params in ucsc.requests:
        assert params == {"genome": "hg38"}


# --- CORS ----------------------------------------------------------------------------------------------


async def test_cors_allows_only_the_listed_origins(kmer_scorer: Any) -> None:
    allowed, other = "https://app.example.org", "https://evil.example.com"
    async with client_for(build(kmer_scorer, cors_origins=[allowed])) as client:
        ok = await client.post("/variant-delta", json=EXAMPLE, headers={"Origin": allowed})
        no = await client.post("/variant-delta", json=EXAMPLE, headers={"Origin": other})
        preflight = {
            origin: await client.options(
                "/variant-delta",
                headers={
                    "Origin": origin,
                    "Access-Control-Request-Method": "POST",
                    "Access-Control-Request-Headers": "content-type, authorization",
                },
            )
            for origin in (allowed, other)
        }
    assert ok.headers["access-control-allow-origin"] == allowed
    assert "access-control-allow-origin" not in no.headers
    assert preflight[allowed].status_code == 200
    assert preflight[allowed].headers["access-control-allow-origin"] == allowed
    assert preflight[other].status_code == 400
    assert "access-control-allow-origin" not in preflight[other].headers


async def test_no_cors_headers_at_all_without_an_allowlist(client: httpx.AsyncClient) -> None:
    response = await client.get("/health", headers={"Origin": "https://app.example.org"})
    assert not [h for h in response.headers if h.startswith("access-control-")]


# --- error bodies --------------------------------------------------------------------------------------


class BrokenScorer:
    """A scorer whose failure message is full of internals (a path, a setting)."""

    name = "broken"
    max_length = 1_000_000

    def __init__(self, inner: Any) -> None:
        self.stats = inner.stats

    def log_probs(self, seqs: Any) -> list[np.ndarray]:
        raise RuntimeError(f"CUDA error in {__file__} loading /srv/secret/weights/evo2_7b.pt")

    def describe(self) -> dict[str, Any]:
        return {}


async def test_error_bodies_hold_no_paths_tracebacks_or_settings(
    kmer_scorer: Any, ucsc: UcscServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.CRITICAL)  # the 500's traceback goes to the log, on purpose
    secrets = Settings(
        genome_sources=["bundled"],
        api_keys=KEYS,
        require_api_key=True,
        evo2_local_path=Path("/srv/secret/weights/evo2_7b.pt"),
        fasta_hg38=Path("/srv/secret/genomes/hg38.fa"),
        ucsc_base_url=ucsc.url,
        max_body_bytes=1024,
        rate_limit_per_minute=60,
        rate_limit_burst=20,
    )
    apps = {
        "kmer": create_app(secrets, scorer=kmer_scorer, genome=LayeredGenome([BundledGenome()])),
        "broken": create_app(
            secrets, scorer=BrokenScorer(kmer_scorer), genome=LayeredGenome([BundledGenome()])
        ),
    }
    h = bearer(KEYS[1])
    answers: list[httpx.Response] = []
    async with client_for(apps["kmer"]) as client:
        for method, path, kwargs in [
            ("POST", "/variant-delta", {"json": {"variant": "chr17:43119628:A:G"}, "headers": h}),
            ("POST", "/variant-delta", {"json": {"variant": "chr99:1:A:G"}, "headers": h}),
            ("POST", "/variant-delta", {"json": {"variant": "chr17:999999999:A:G"}, "headers": h}),
            ("POST", "/variant-delta", {"json": {"variant": "chr1:1000:A:G"}, "headers": h}),
            ("POST", "/variant-delta", {"json": {"variant": "x", "window": 7}, "headers": h}),
            (
                "POST",
                "/variant-delta",
                {"content": b"{not json", "headers": {**h, "content-type": "application/json"}},
            ),
            ("POST", "/variant-delta", {"json": {"variant": ["a"], "extra": 1}, "headers": h}),
            ("POST", "/score", {"json": {"sequences": ["ACGU"]}, "headers": h}),
            ("POST", "/score", {"json": {"sequences": ["A" * 2000]}, "headers": h}),
            ("GET", "/info", {"headers": bearer("wrong")}),
            ("GET", "/nowhere/../../etc/passwd", {"headers": h}),
            ("PUT", "/score", {"headers": h}),
        ]:
            answers.append(await client.request(method, path, **kwargs))
    async with client_for(apps["broken"]) as client:
        crashed = await client.post("/variant-delta", json=EXAMPLE, headers=h)
        answers.append(crashed)
    assert crashed.status_code >= 500 and crashed.headers["x-request-id"]
    assert sorted({r.status_code for r in answers}) == [400, 401, 404, 405, 413, 422, 500]
    forbidden = [
        "Traceback",
        'File "',
        ".py",
        "/srv/secret",
        str(ROOT),
        "CUDA",
        ucsc.url,
        *KEYS,
    ]
    for response in answers:
        body = response.json()
        assert set(body) == {"error"} and set(body["error"]) == {"type", "message", "detail"}, body
        for word in forbidden:
            assert word not in response.text, (response.request.url, word, response.text)


# --- /metrics cannot be blown up by probing ------------------------------------------------------------


async def test_probing_random_paths_and_methods_adds_no_metric_series(kmer_scorer: Any) -> None:
    app, other = build(kmer_scorer), build(kmer_scorer)
    async with client_for(app) as client:
        assert (await client.post("/variant-delta", json=EXAMPLE)).status_code == 200
        for i in range(50):
            await client.get(f"/probe-{i}/../admin?x={i}")
            await client.request(f"X{i}", "/variant-delta")
        await client.post("/score", content=b"A" * 10)  # malformed: 422 on a known route
        metrics = (await client.get("/metrics")).text
    async with client_for(other) as client:
        fresh = (await client.get("/metrics")).text
    series = [line for line in metrics.splitlines() if line.startswith("evo2_http_requests_total{")]
    assert 'endpoint="/variant-delta",method="POST",status="200"} 1.0' in "\n".join(series)
    assert 'endpoint="unmatched",method="GET",status="404"} 50.0' in "\n".join(series)
    assert 'endpoint="/variant-delta",method="other",status="405"} 50.0' in "\n".join(series)
    assert len(series) <= 5 and "probe" not in metrics and "admin" not in metrics
    assert "evo2_model_batch_sequences_count 1.0" in metrics  # one model call (ref + alt windows)
    assert 'evo2_scorer_sequences_total{model="' in metrics
    # Each app has its own registry: the other app has counted nothing.
    assert "evo2_http_requests_total{" not in fresh
