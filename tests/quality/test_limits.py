"""Limits before work, bounded error bodies and strict JSON, through the real app.

One heavy or malformed request must cost the service little and tell its sender exactly what was
refused: the body is parsed once and its shape checked before any item is validated, and every error
is one envelope of a documented type and of bounded size.
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
#: Every error type a client can meet (service/errors.py and the envelope's own).
DOCUMENTED = {
    "invalid_request", "invalid_json", "cors_refused", "unsupported_media_type", "invalid_variant",
    "invalid_sequence", "unknown_genome", "unknown_chromosome", "out_of_bounds", "genome_mismatch",
    "ref_mismatch", "region_unavailable", "limit_exceeded", "payload_too_large", "unauthorized",
    "request_timeout", "rate_limited", "upstream_error", "upstream_unavailable", "upstream_timeout",
    "overloaded", "model_unavailable", "internal_error", "not_found", "method_not_allowed",
    "validation_error",
}  # fmt: skip


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
