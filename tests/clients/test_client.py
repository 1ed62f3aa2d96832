"""The Python clients: against the real app (in process and over a socket), and against faults."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from clients import (
    APIConnectionError,
    APITimeoutError,
    AsyncClient,
    AuthenticationError,
    BadRequestError,
    Client,
    InvalidResponseError,
    RateLimitError,
    ServerError,
    ServiceAPIError,
    UnavailableError,
    UpstreamError,
    VariantError,
    VariantFields,
    VariantResult,
    _base,
    models,
)
from tests.support.live_server import LiveServer, RecordingApp, bundled_app

VARIANT = "chr17:43119628:T:G"  # hg38; the reference base is T (bundled BRCA1 slice)
POS = 43119628


# --- fixtures -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def live() -> Iterator[tuple[LiveServer, RecordingApp]]:
    recorder = RecordingApp(bundled_app(max_variants=3))
    with LiveServer(recorder) as server:
        yield server, recorder


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(_base.URL_ENV, raising=False)
    monkeypatch.delenv(_base.API_KEY_ENV, raising=False)


def asgi_client(app: Any, **kwargs: Any) -> AsyncClient:
    return AsyncClient("http://testserver", transport=httpx.ASGITransport(app), **kwargs)


# --- against the real app -----------------------------------------------------------------------------


@pytest.mark.anyio
async def test_async_client_scores_against_the_app() -> None:
    async with asgi_client(bundled_app()) as client:
        health = await client.health()
        assert health.status == "ok" and health.model == "kmer-8"
        info = await client.info()
        assert info.limits["max_variants"] == 1000 and info.defaults["window"] == 8192

        result = await client.variant_delta(VARIANT)
        assert isinstance(result, VariantResult)
        assert (result.chrom, result.pos, result.ref, result.alt) == ("chr17", POS, "T", "G")
        assert result.genome == "hg38" and result.kind == "snv"
        # pos is 1-based; the 8,192-bp window is 0-based half-open with the variant at index 4096.
        assert (result.window.start, result.window.end) == (POS - 1 - 4096, POS - 1 + 4096)
        assert result.region == f"chr17:{POS - 4096}-{POS + 4096 - 1}"
        assert result.delta_score == pytest.approx(result.alt_score - result.ref_score)

        fields = await client.variant_delta(VariantFields(chrom="17", pos=POS, alt="G"), window=1024)
        assert fields.ref == "T" and fields.window_length == 1024
        assert fields.delta_score != result.delta_score

        scores = await client.score(["ACGTACGTAA", "acgtn"], per_position=True)
        assert [s.length for s in scores.scores] == [10, 5]
        assert scores.scores[0].log_probs is not None and len(scores.scores[0].log_probs) == 9

        legacy = await client.analyze_single_variant("chr17", POS, "G", genome="hg38")
        assert (legacy.position, legacy.reference, legacy.alternative) == (POS, "T", "G")
        assert legacy.delta_score == pytest.approx(result.delta_score)


@pytest.mark.anyio
async def test_saturation_matrix_agrees_with_variant_delta() -> None:
    async with asgi_client(bundled_app()) as client:
        matrix = await client.saturation("chr17:43119626-43119630", window=1024)
        same = await client.saturation(chrom="17", start=43119626, end=43119630, window=1024)
        single = await client.variant_delta(f"chr17:{POS}:T:A", window=1024)
    assert matrix.positions == list(range(43119626, 43119631)) and matrix.alleles == ["A", "C", "G", "T"]
    assert matrix.ref[POS - 43119626] == "T" and matrix.delta(POS, "T") is None
    assert matrix.delta(POS, "a") == pytest.approx(single.delta_score)
    assert same.deltas == matrix.deltas and same.region == "chr17:43119626-43119630"


@pytest.mark.anyio
async def test_async_client_keeps_batch_order_and_item_errors() -> None:
    async with asgi_client(bundled_app()) as client:
        batch = await client.variant_delta(
            [VARIANT, "chr17:43119628:A:G", {"chrom": "chr17", "pos": POS, "alt": "C"}, "not a variant"],
            genome="hg38",
        )
    kinds = [type(r) for r in batch.results]
    assert kinds == [VariantResult, VariantError, VariantResult, VariantError]
    assert [r.input for r in batch.results] == [
        VARIANT,
        "chr17:43119628:A:G",
        "chr17:43119628:.:C",
        "not a variant",
    ]
    mismatch = batch.results[1]
    assert isinstance(mismatch, VariantError) and mismatch.error.type == "ref_mismatch"
    assert mismatch.error.detail["observed"] == "T"


@pytest.mark.anyio
async def test_async_client_raises_the_servers_error() -> None:
    async with asgi_client(bundled_app()) as client:
        with pytest.raises(BadRequestError) as caught:
            await client.variant_delta("chr17:43119628:A:G")
        assert caught.value.status == 400 and caught.value.type == "ref_mismatch"
        assert "the genome has T" in caught.value.message
        assert caught.value.request_id
        with pytest.raises(BadRequestError) as caught:
            await client.variant_delta(VARIANT, window=8191)
        assert caught.value.type == "limit_exceeded" and caught.value.detail["window"] == 8191
        with pytest.raises(BadRequestError) as caught:
            await client.variant_delta(VARIANT, genome="hg37")
        assert caught.value.status == 400 and caught.value.type == "unknown_genome"
        with pytest.raises(BadRequestError) as caught:
            await client.variant_delta(VARIANT, window="wide")  # type: ignore[arg-type]
        assert caught.value.status == 422 and caught.value.type == "validation_error"


@pytest.mark.anyio
async def test_async_client_splits_long_lists_into_server_sized_requests() -> None:
    recorder = RecordingApp(bundled_app(max_variants=3))
    variants = [f"chr17:{POS}:T:{alt}" for alt in "ACG"] + [f"chr17:{POS + i}:N:A" for i in range(1, 5)]
    async with asgi_client(recorder) as client:
        chunked = await client.variant_delta(variants)
        again = await client.variant_delta(variants[:4])
    assert [r.input for r in chunked.results] == variants
    assert recorder.count("/info") == 1  # max_variants is asked once
    assert recorder.variants_sent() == [3, 3, 1, 3, 1]
    async with asgi_client(bundled_app()) as whole:
        single = await whole.variant_delta(variants)
    assert chunked.model_dump() == single.model_dump()
    assert again.results == chunked.results[:4]


def test_sync_client_over_a_real_socket(live: tuple[LiveServer, RecordingApp]) -> None:
    server, recorder = live
    with Client(server.url) as client:
        assert client.health().status == "ok"
        result = client.variant_delta(VARIANT, delta_method="suffix", reverse_complement=True)
        assert (result.delta_method, result.reverse_complement) == ("suffix", True)
        variants = [VARIANT, "chr99:1:A:G", "chr17:43119628:T:A", "chr17:43119628:T:C", "17:43119628 T>G"]
        batch = client.variant_delta(variants)
        assert [r.input for r in batch.results] == variants
        assert [r.ok for r in batch.results] == [True, False, True, True, True]
        bad = batch.results[1]
        assert isinstance(bad, VariantError) and bad.error.type == "unknown_chromosome"
        assert batch.results[4].ok and batch.results[4].variant == VARIANT
        assert client.score("ACGT").scores[0].length == 4
        assert client.analyze_single_variant("chr17", POS, "G", reference="T").reference == "T"
        with pytest.raises(BadRequestError) as caught:
            client.analyze_single_variant("chr17", POS, "G", reference="A")
        assert caught.value.type == "ref_mismatch"
        assert caught.value.request_id
    assert recorder.variants_sent()[-2:] == [3, 2]


def test_api_key_from_argument_or_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    app = bundled_app(require_api_key=True, api_keys=["s3cret"])
    with LiveServer(app) as server:
        with Client(server.url) as anonymous:
            assert anonymous.health().status == "ok"  # /health is open
            with pytest.raises(AuthenticationError) as caught:
                anonymous.info()
            assert caught.value.status == 401 and caught.value.type == "unauthorized"
        with Client(server.url, api_key="s3cret") as client:
            assert client.info().auth["api_key_required"] is True
        monkeypatch.setenv(_base.URL_ENV, server.url)
        monkeypatch.setenv(_base.API_KEY_ENV, "s3cret")
        with Client() as from_env:
            assert from_env.base_url == server.url
            assert from_env.variant_delta(VARIANT).ref == "T"
        with Client(api_key="wrong") as wrong, pytest.raises(AuthenticationError):
            wrong.info()


def test_base_url_and_key_resolution() -> None:
    env = {_base.URL_ENV: "https://env.example/", _base.API_KEY_ENV: "env-key"}
    assert _base.resolve_base_url("https://arg.example/api/", env) == "https://arg.example/api"
    assert _base.resolve_base_url(None, env) == "https://env.example"
    assert _base.resolve_base_url(None, {}) == "http://127.0.0.1:8000"
    assert _base.resolve_api_key("arg-key", env) == "arg-key"
    assert _base.resolve_api_key(None, env) == "env-key"
    assert _base.resolve_api_key(None, {}) is None


def test_client_models_match_the_servers_schemas() -> None:
    schemas = bundled_app().openapi()["components"]["schemas"]
    pairs = {
        "HealthResponse": models.HealthResponse,
        "InfoResponse": models.InfoResponse,
        "ScoreResponse": models.ScoreResponse,
        "SequenceScore": models.SequenceScore,
        "VariantDeltaResponse": models.VariantDeltaResponse,
        "VariantResult": models.VariantResult,
        "VariantError": models.VariantError,
        "VariantFields": models.VariantFields,
        "Interval": models.Interval,
        "ErrorBody": models.ErrorBody,
        "ErrorEnvelope": models.ErrorEnvelope,
        "LegacyAnalysisResponse": models.AnalysisResponse,
        "SaturationResponse": models.SaturationResponse,
        "EmbedResponse": models.EmbedResponse,
        "EmbeddedItem": models.EmbeddedItem,
    }
    for name, model in pairs.items():
        schema = schemas[name]
        assert set(model.model_fields) == set(schema["properties"]), name
        required = {f for f, info in model.model_fields.items() if info.is_required()}
        assert required <= set(schema.get("required", [])), name


# --- faults (MockTransport) ---------------------------------------------------------------------------

Handler = Callable[[httpx.Request], httpx.Response]


def error_response(status: int, type_: str = "boom", headers: dict[str, str] | None = None) -> httpx.Response:
    body = {"error": {"type": type_, "message": f"{type_} happened", "detail": {"n": 1}}}
    return httpx.Response(status, json=body, headers={"x-request-id": "rid-1", **(headers or {})})


HEALTH = {"status": "ok", "model": "kmer-8", "detail": {}}


def scripted(*responses: httpx.Response | Exception) -> tuple[Handler, list[httpx.Request]]:
    """A handler answering ``responses`` in turn (the last one repeats), and the requests it saw."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = responses[min(len(seen), len(responses)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return handler, seen


def mock_client(handler: Handler, **kwargs: Any) -> tuple[Client, list[float]]:
    delays: list[float] = []
    client = Client("http://svc.test", transport=httpx.MockTransport(handler), sleep=delays.append, **kwargs)
    return client, delays


@pytest.mark.parametrize("status", [502, 503, 504])
def test_retries_transient_statuses_with_backoff(status: int) -> None:
    handler, seen = scripted(error_response(status), error_response(status), httpx.Response(200, json=HEALTH))
    client, delays = mock_client(handler)
    assert client.health().status == "ok"
    assert len(seen) == 3
    # exponential: 0.5 s then 1 s, each shortened by at most 25 % jitter
    assert 0.375 <= delays[0] <= 0.5 and 0.75 <= delays[1] <= 1.0
    assert len({r.headers["x-request-id"] for r in seen}) == 1  # one logical call, one id


def test_gives_up_after_max_retries_with_the_right_error() -> None:
    handler, seen = scripted(error_response(503, "overloaded", {"Retry-After": "2"}))
    client, delays = mock_client(handler, max_retries=2)
    with pytest.raises(UnavailableError) as caught:
        client.info()
    assert len(seen) == 3 and delays == [2.0, 2.0]
    err = caught.value
    assert (err.status, err.type, err.message, err.detail) == (
        503,
        "overloaded",
        "overloaded happened",
        {"n": 1},
    )
    assert err.request_id == "rid-1" and err.retry_after == 2.0


def test_honours_retry_after_on_429() -> None:
    handler, seen = scripted(
        error_response(429, "rate_limited", {"Retry-After": "7"}), httpx.Response(200, json=HEALTH)
    )
    client, delays = mock_client(handler)
    client.health()
    assert len(seen) == 2 and delays == [7.0]


def test_does_not_wait_for_a_retry_after_beyond_the_cap() -> None:
    handler, seen = scripted(error_response(429, "rate_limited", {"Retry-After": "3600"}))
    client, delays = mock_client(handler)
    with pytest.raises(RateLimitError) as caught:
        client.health()
    assert len(seen) == 1 and delays == [] and caught.value.retry_after == 3600


def test_retry_after_as_an_http_date() -> None:
    assert _base.parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=lambda: 1445412480.0) == 10.0
    assert _base.parse_retry_after("soon") is None


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (404, ServiceAPIError),
        (413, BadRequestError),
        (415, BadRequestError),
        (422, BadRequestError),
        (500, ServerError),
    ],
)
def test_no_retry_on_other_statuses(status: int, cls: type[ServiceAPIError]) -> None:
    handler, seen = scripted(error_response(status, "nope"), httpx.Response(200, json=HEALTH))
    client, delays = mock_client(handler)
    with pytest.raises(cls) as caught:
        client.health()
    assert type(caught.value) is cls
    assert len(seen) == 1 and delays == []
    assert (caught.value.status, caught.value.type, caught.value.request_id) == (status, "nope", "rid-1")


@pytest.mark.parametrize(
    ("status", "cls"),
    [(429, RateLimitError), (502, UpstreamError), (503, UnavailableError), (504, UpstreamError)],
)
def test_error_class_per_retried_status(status: int, cls: type[ServiceAPIError]) -> None:
    handler, seen = scripted(error_response(status))
    client, _ = mock_client(handler, max_retries=0)
    with pytest.raises(cls):
        client.health()
    assert len(seen) == 1
    assert issubclass(UpstreamError, ServerError) and issubclass(UnavailableError, ServerError)


def test_retries_connection_errors_then_raises() -> None:
    handler, seen = scripted(httpx.ConnectError("refused"))
    client, delays = mock_client(handler)
    with pytest.raises(APIConnectionError) as caught:
        client.health()
    assert len(seen) == 4 and len(delays) == 3
    assert caught.value.status is None and caught.value.request_id == seen[0].headers["x-request-id"]
    handler, seen = scripted(httpx.RemoteProtocolError("dropped"), httpx.Response(200, json=HEALTH))
    client, _ = mock_client(handler)
    assert client.health().status == "ok" and len(seen) == 2


def test_read_timeout_is_not_retried() -> None:
    handler, seen = scripted(httpx.ReadTimeout("slow"))
    client, delays = mock_client(handler)
    with pytest.raises(APITimeoutError):
        client.health()
    assert len(seen) == 1 and delays == []


def test_a_proxy_error_page_still_maps_to_its_class() -> None:
    page = httpx.Response(502, text="<html>Bad Gateway</html>", headers={"content-type": "text/html"})
    handler, _ = scripted(page)
    client, _ = mock_client(handler, max_retries=0)
    with pytest.raises(UpstreamError) as caught:
        client.health()
    assert caught.value.type == "http_error" and "Bad Gateway" in caught.value.message
    assert caught.value.request_id  # the id the client sent


def test_an_unexpected_success_body_is_an_error() -> None:
    handler, _ = scripted(httpx.Response(200, json={"hello": "world"}))
    client, _ = mock_client(handler)
    with pytest.raises(InvalidResponseError):
        client.health()


def test_follows_redirects_and_sends_the_key() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == "Bearer k1"
        if request.url.path == "/health":  # Modal: a request running past 150 s ends in a 303
            return httpx.Response(303, headers={"location": "http://svc.test/result/abc"})
        return httpx.Response(200, json=HEALTH)

    client, _ = mock_client(handler, api_key="k1")
    assert client.health().status == "ok"


@pytest.mark.anyio
async def test_async_client_retries_with_its_sleep() -> None:
    handler, seen = scripted(
        httpx.ConnectError("refused"),
        error_response(429, headers={"Retry-After": "3"}),
        httpx.Response(200, json=HEALTH),
    )
    delays: list[float] = []

    async def sleep(seconds: float) -> None:
        delays.append(seconds)

    async with AsyncClient("http://svc.test", transport=httpx.MockTransport(handler), sleep=sleep) as client:
        assert (await client.health()).status == "ok"
        assert len(seen) == 3 and delays[1] == 3.0 and 0.375 <= delays[0] <= 0.5
        handler2, seen2 = scripted(error_response(422, "validation_error"))
    async with AsyncClient("http://svc.test", transport=httpx.MockTransport(handler2), sleep=sleep) as client:
        with pytest.raises(BadRequestError):
            await client.info()
        assert len(seen2) == 1


# --- /embed -------------------------------------------------------------------------------------------


def tiny_app() -> Any:
    from service.api.app import create_app
    from service.settings import Settings
    from tests.support.evo2_cpu import tiny_scorer

    return create_app(Settings(genome_sources=["bundled"]), scorer=tiny_scorer())


@pytest.mark.anyio
async def test_async_client_embeds_as_numpy_arrays() -> None:
    import numpy as np

    async with asgi_client(tiny_app()) as client:
        pooled = await client.embed(["ACGTACGTTTGA", "GGGACCA"], layers=["blocks.0", "blocks.3.mlp.l3"])
        assert isinstance(pooled, models.Embeddings)
        assert pooled.names == ["0", "1"] and pooled.lengths == [12, 7]
        assert pooled[0]["blocks.0"].shape == (64,) and pooled["1"]["blocks.3.mlp.l3"].dtype == np.float32
        rows = await client.embed("ACGTACGTTTGA", per_position=True)
        [layer] = rows.layers
        assert rows[0][layer].shape == (12, 64)
        np.testing.assert_allclose(
            rows[0][layer].mean(axis=0), (await client.embed("ACGTACGTTTGA"))[0][layer], atol=1e-5
        )
        windows = await client.embed(variant=VARIANT, window=256)
        assert windows.names == ["ref", "alt"] and windows.variant == VARIANT
        assert windows.window is not None and windows.window.start == POS - 1 - 128


def test_sync_client_embeds_over_a_socket_and_gets_typed_errors() -> None:
    with LiveServer(tiny_app()) as server, Client(server.url) as client:
        result = client.embed(variant=VARIANT, window=256, layers="blocks.1")
        assert result.layers == ["blocks.1"] and result["alt"]["blocks.1"].shape == (64,)
        with pytest.raises(BadRequestError) as info:
            client.embed("ACGT", layers="blocks.99")
        assert info.value.type == "unknown_layer"
