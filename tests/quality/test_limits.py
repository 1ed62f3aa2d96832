"""Limits before work, bounded error bodies, strict JSON and the model-token cost, through the real app.

One heavy or malformed request must cost the service little and tell its sender exactly what was
refused: the body is parsed once and its shape checked before any item is validated, every error is
one envelope of a documented type and of bounded size, and a request's price in model tokens is
checked (and charged to its client) before the model sees it.
"""

from __future__ import annotations

import gzip
import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

pytestmark = pytest.mark.anyio

EXAMPLE = "chr17:43119628:T:G"  # hg38, inside the bundled BRCA1 slice
#: The same variant as the original frontend sends it (query parameters).
LEGACY_CALL = {"variant_position": 43119628, "alternative": "G", "genome": "hg38", "chromosome": "chr17"}
#: Every error type a client can meet (service/errors.py and the envelope's own).
DOCUMENTED = {
    "invalid_request", "invalid_json", "cors_refused", "unsupported_media_type", "invalid_variant",
    "invalid_sequence", "unknown_genome", "unknown_chromosome", "out_of_bounds", "genome_mismatch",
    "ref_mismatch", "unknown_transcript", "unknown_rsid", "region_unavailable", "ambiguous_window",
    "unknown_layer", "unsupported_by_model", "limit_exceeded", "payload_too_large",
    "unauthorized",
    "request_timeout", "rate_limited", "upstream_error", "upstream_unavailable", "upstream_timeout",
    "overloaded", "model_unavailable", "internal_error", "not_found", "method_not_allowed",
    "validation_error",
}  # fmt: skip


def sample(metrics: httpx.Response, name: str) -> float:
    for line in metrics.text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


def client_for(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://test", timeout=120)


def post_raw(client: httpx.AsyncClient, path: str, body: bytes, **headers: str) -> Any:
    return client.post(path, content=body, headers={"content-type": "application/json", **headers})


def envelope(response: httpx.Response, status: int, type_: str) -> dict[str, Any]:
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("application/json")
    error: dict[str, Any] = response.json()["error"]
    assert error["type"] == type_, error
    assert set(error) == {"type", "message", "detail"}
    return error


# --- case 1: a 2 MB body of a million items ------------------------------------------------------------


async def test_a_million_item_list_is_refused_by_its_length_with_a_small_answer(make_app: Any) -> None:
    body = b'{"variants":[' + b",".join([b"0"] * 1_000_000) + b"]}"
    assert len(body) < 2 * 2**20  # under the body limit: the list itself must be refused
    async with client_for(make_app()) as client:
        response = await post_raw(client, "/variant-delta", body)
        health = await client.get("/health")
    error = envelope(response, 400, "limit_exceeded")
    assert error["detail"] == {"items": 1_000_000, "max_items": 1000}
    assert len(response.content) < 1000  # not one error per item
    assert health.status_code == 200


async def test_the_configured_list_limit_applies_before_the_items_are_read(make_app: Any) -> None:
    async with client_for(make_app(max_variants=5, max_sequences=5)) as client:
        long = await client.post("/variant-delta", json={"variants": [EXAMPLE] * 6})
        many_bad = await client.post(
            "/variant-delta", json={"variants": [{"nonsense": i} for i in range(50)]}
        )
        sequences = await client.post("/score", json={"sequences": ["ACGT"] * 6})
    assert envelope(long, 400, "limit_exceeded")["detail"]["max_items"] == 5
    assert envelope(many_bad, 400, "limit_exceeded")["detail"]["items"] == 50
    assert envelope(sequences, 400, "limit_exceeded")["detail"]["max_items"] == 5


async def test_schema_errors_are_listed_at_most_twenty_times_with_their_count(make_app: Any) -> None:
    async with client_for(make_app()) as client:
        response = await client.post("/variant-delta", json={"variants": [True] * 900})
    error = envelope(response, 422, "validation_error")
    assert len(error["detail"]["errors"]) == 20
    assert error["detail"]["error_count"] >= 900
    assert len(response.content) < 5000


async def test_echoed_input_is_truncated_in_every_error(make_app: Any) -> None:
    huge = "c" * 1_900_000
    async with client_for(make_app()) as client:
        answers = [
            await client.post("/variant-delta", json={"variant": {"chrom": huge, "pos": 1, "alt": "A"}}),
            await client.post("/variant-delta", json={"variant": f"chr17:43119628:T:{'G' * 2000}"[:1024]}),
            await client.post(
                "/variant-delta", json={"variant": {"chrom": "chr17", "pos": 1, "alt": "G" * 1000}}
            ),
            await client.post("/variant-delta", json={"variant": {"chrom": "c" * 900, "pos": 1, "alt": "A"}}),
            await client.post("/saturation", json={"region": "x" * 1000}),
            await client.post("/variant-delta", json={huge[:100_000]: 1}),
        ]
    for response in answers:
        assert 400 <= response.status_code < 500, response.text[:300]
        assert response.json()["error"]["type"] in DOCUMENTED
        assert len(response.content) < 4000, (response.status_code, len(response.content))


# --- case 6: strict types and one envelope of a documented type --------------------------------------


@pytest.mark.parametrize(
    "variant",
    [
        "chr17:４３１１９６２８:T:G",  # full-width digits
        "chr17:٤٣١١٩٦٢٨:T:G",  # Arabic-Indic digits
        "chr17:g.４３１１９６２８T>G",
        "chr17\u300043119628\u3000T>G",  # ideographic spaces
    ],
)
async def test_positions_are_ascii_digits(make_app: Any, variant: str) -> None:
    async with client_for(make_app()) as client:
        response = await client.post("/variant-delta", json={"variant": variant})
    assert "delta_score" not in response.text
    envelope(response, 400, "invalid_variant")


@pytest.mark.parametrize("pos", [True, 43119628.0, "43119628", [43119628]])
async def test_a_position_is_a_json_integer(make_app: Any, pos: Any) -> None:
    async with client_for(make_app()) as client:
        response = await client.post(
            "/variant-delta", json={"variant": {"chrom": "chr17", "pos": pos, "alt": "G"}}
        )
        region = await client.post("/saturation", json={"chrom": "chr17", "start": True, "end": 43119628})
        window = await client.post("/variant-delta", json={"variant": EXAMPLE, "window": 4096.0})
        flag = await client.post("/score", json={"sequences": ["ACGT"], "per_position": 1})
    for answer in (response, region, window, flag):
        assert "delta_score" not in answer.text and "scores" not in answer.text
        envelope(answer, 422, "validation_error")


BAD_BODIES = {
    "not_utf8": (b'{"variant": "chr17:43119628:T:G\xff"}', "not_utf8"),
    "utf16": ('{"variant": "chr17:43119628:T:G"}'.encode("utf-16"), "not_utf8"),
    "syntax": (b'{"variant": ', "syntax"),
    "duplicate_key": (b'{"variant": "chr17:43119628:T:G", "variant": "chr17:43119628:T:A"}', "duplicate_key"),
    "nested_duplicate": (
        b'{"variant": {"chrom": "chr17", "pos": 43119628, "alt": "G", "alt": "A"}}',
        "duplicate_key",
    ),
    "nan": (b'{"variant": "chr17:43119628:T:G", "window": NaN}', "constant"),
    "deep_5000": (b'{"variant": ' + b"[" * 5000 + b"]" * 5000 + b"}", "depth"),
    "deep_40": (b'{"variant": ' + b"[" * 40 + b"]" * 40 + b"}", "depth"),
    "integer_4300_digits": (
        b'{"variant": {"chrom": "chr17", "pos": ' + b"9" * 4300 + b', "alt": "G"}}',
        "number",
    ),
    "integer_5000_digits": (
        b'{"variant": {"chrom": "chr17", "pos": ' + b"9" * 5000 + b', "alt": "G"}}',
        "number",
    ),
    "integer_over_64_bits": (b'{"variant": "chr17:43119628:T:G", "window": 9223372036854775808}', "number"),
    "surrogate": (b'{"variant": "\\ud800"}', "surrogate"),
}


@pytest.mark.parametrize(("body", "reason"), BAD_BODIES.values(), ids=BAD_BODIES.keys())
async def test_a_body_that_is_not_strict_json_is_invalid_json(
    make_app: Any, body: bytes, reason: str
) -> None:
    async with client_for(make_app()) as client:
        response = await post_raw(client, "/variant-delta", body)
    assert envelope(response, 400, "invalid_json")["detail"]["reason"] == reason
    assert len(response.content) < 1000


async def test_a_compressed_body_is_unsupported_media_type(make_app: Any) -> None:
    data = gzip.compress(json.dumps({"variant": EXAMPLE}).encode())
    async with client_for(make_app()) as client:
        response = await post_raw(client, "/variant-delta", data, **{"content-encoding": "gzip"})
        identity = await post_raw(
            client,
            "/variant-delta",
            json.dumps({"variant": EXAMPLE}).encode(),
            **{"content-encoding": "identity"},
        )
    assert envelope(response, 415, "unsupported_media_type")["detail"]["content_encoding"] == "gzip"
    assert identity.status_code == 200


async def test_a_refused_cors_preflight_is_an_envelope(make_app: Any) -> None:
    allowed = "https://app.example.org"
    async with client_for(make_app(cors_origins=[allowed])) as client:
        refused = await client.options(
            "/variant-delta",
            headers={"Origin": "https://evil.example.com", "Access-Control-Request-Method": "POST"},
        )
        method = await client.options(
            "/variant-delta", headers={"Origin": allowed, "Access-Control-Request-Method": "DELETE"}
        )
        ok = await client.options(
            "/variant-delta", headers={"Origin": allowed, "Access-Control-Request-Method": "POST"}
        )
    assert envelope(refused, 400, "cors_refused")["detail"]["refused"] == ["origin"]
    assert "access-control-allow-origin" not in refused.headers
    assert envelope(method, 400, "cors_refused")["detail"]["refused"] == ["method"]
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == allowed


async def test_invalid_requests_draw_from_the_rate_limit_too(make_app: Any) -> None:
    async with client_for(make_app(rate_limit_per_minute=1, rate_limit_burst=3)) as client:
        answers = [
            await post_raw(client, "/variant-delta", b"{not json"),
            await client.post("/variant-delta", json={"variant": 5}),
            await client.get("/no-such-path"),
            await post_raw(client, "/variant-delta", b"{not json"),
        ]
        health = await client.get("/health")
    assert [a.status_code for a in answers] == [400, 422, 404, 429]
    envelope(answers[-1], 429, "rate_limited")
    assert int(answers[-1].headers["retry-after"]) >= 1
    assert answers[0].headers["x-ratelimit-remaining-requests"] == "2"
    assert health.status_code == 200  # liveness is never limited


async def test_the_web_pages_own_files_do_not_draw_from_the_rate_limit(make_app: Any) -> None:
    """Showing the page at / takes 14 requests (HTML, CSS, JavaScript modules, the icon) before its
    first API call: files from the package, not work. Were they counted, a bucket sized for API calls
    would answer the page's modules 429 and leave a person a page that does nothing."""
    async with client_for(make_app(rate_limit_per_minute=1, rate_limit_burst=1)) as client:
        paths = ("/", "/static/js/main.js", "/static/page.css", "/static/favicon.svg", "/docs", "/redoc")
        files = [await client.get(path) for path in paths]
        info = await client.get("/info")
        again = await client.get("/info")
    assert [f.status_code for f in files] == [200] * len(paths)
    assert (info.status_code, again.status_code) == (200, 429)  # API calls still are counted


# --- case 4: the price of a request in model tokens --------------------------------------------------


async def test_the_default_limit_refuses_the_issues_expensive_requests(make_app: Any) -> None:
    async with client_for(make_app()) as client:
        saturation = await client.post(
            "/saturation",
            json={"region": "chr17:43119000-43119511", "window": 65536, "reverse_complement": True},
        )
        batch = await client.post(
            "/variant-delta",
            json={"variants": [EXAMPLE] * 1000, "window": 65536, "reverse_complement": True},
        )
        info = (await client.get("/info")).json()
    error = envelope(saturation, 400, "limit_exceeded")
    assert error["detail"]["cost_tokens"] == 268_435_456
    assert error["detail"]["max_request_tokens"] == info["limits"]["max_request_tokens"] == 33_554_432
    assert "268,435,456" in error["message"]
    assert envelope(batch, 400, "limit_exceeded")["detail"]["cost_tokens"] == 262_144_000


async def test_the_largest_default_requests_fit_the_default_limit(make_app: Any) -> None:
    """1,000 variants at the default window on both strands, 512 saturation positions on both strands."""
    async with client_for(make_app()) as client:
        batch = await client.post(
            "/variant-delta", json={"variants": [EXAMPLE] * 1000, "reverse_complement": True}
        )
        region = await client.post(
            "/saturation", json={"region": "chr17:43119000-43119511", "reverse_complement": True}
        )
    assert batch.status_code == 200 and batch.headers["x-model-tokens"] == str(1000 * 2 * 8192 * 2)
    assert region.status_code == 200 and region.headers["x-model-tokens"] == str(512 * 4 * 8192 * 2)


async def test_a_request_over_the_configured_cost_is_refused_before_any_model_call(make_app: Any) -> None:
    app = make_app(max_request_tokens=100_000)
    async with client_for(app) as client:
        over = await client.post("/variant-delta", json={"variants": [EXAMPLE] * 7})  # 7 × 2 × 8,192
        calls = sample(await client.get("/metrics"), "evo2_model_batch_sequences_count")
        under = await client.post("/variant-delta", json={"variants": [EXAMPLE] * 6})
        score = await client.post("/score", json={"sequences": ["ACGT" * 10_000] * 3})
        legacy = await client.post("/analyze_single_variant", params=LEGACY_CALL)
    error = envelope(over, 400, "limit_exceeded")
    assert (error["detail"]["cost_tokens"], error["detail"]["max_request_tokens"]) == (114_688, 100_000)
    assert under.status_code == 200 and under.headers["x-model-tokens"] == "98304"
    assert envelope(score, 400, "limit_exceeded")["detail"]["cost_tokens"] == 120_000
    assert legacy.status_code == 200 and legacy.headers["x-model-tokens"] == "16384"
    assert calls == 0  # the refused request never reached the model


async def test_each_client_has_a_model_token_bucket_shown_in_headers_and_info(make_app: Any) -> None:
    cost = 2 * 8192  # one variant at the default window
    # A token a second: the bucket of three variants' price refills one variant's in 16,384 s.
    app = make_app(model_tokens_per_minute=60, max_request_tokens=3 * cost)
    async with client_for(app) as client:
        first = await client.post("/variant-delta", json={"variants": [EXAMPLE] * 2})
        second = await client.post("/variant-delta", json={"variant": EXAMPLE})
        refused = await client.post("/variant-delta", json={"variant": EXAMPLE})
        info = await client.get("/info")
    assert first.status_code == 200
    assert first.headers["x-model-tokens"] == str(2 * cost)
    assert first.headers["x-ratelimit-limit-tokens"] == str(3 * cost)
    assert first.headers["x-ratelimit-remaining-tokens"] == str(cost)
    assert second.headers["x-ratelimit-remaining-tokens"] == "0"
    error = envelope(refused, 429, "rate_limited")
    assert error["detail"]["unit"] == "model tokens" and error["detail"]["cost_tokens"] == cost
    assert cost - 10 <= int(refused.headers["retry-after"]) <= cost + 1
    assert 3 * cost - 10 <= int(refused.headers["x-ratelimit-reset-tokens"]) <= 3 * cost
    limits = info.json()["limits"]
    assert (limits["model_tokens_per_minute"], limits["model_token_bucket"]) == (60, 3 * cost)
    assert info.headers["x-ratelimit-remaining-tokens"] == "0"


def test_every_error_type_is_documented() -> None:
    """Each type a client can meet is in service/errors.py's tree and in README's error table."""
    from pathlib import Path

    import service.errors as errors

    root = Path(__file__).resolve().parents[2]
    readme = root.joinpath("README.md").read_text()
    table = readme[readme.index("| status | types |") : readme.index("Every response carries")]
    classes = {
        cls.type for cls in vars(errors).values() if isinstance(cls, type) and issubclass(cls, Exception)
    }
    raised = {t for t in classes if t != "internal_error"}
    assert raised | {"not_found", "method_not_allowed", "validation_error"} <= DOCUMENTED
    for type_ in DOCUMENTED - {"internal_error"}:
        assert f"`{type_}`" in table, type_
        assert type_ in (errors.__doc__ or ""), type_
