"""A short load test, in process: 50 concurrent clients, a few hundred requests.

With a fast scorer everything is answered 200. With a deliberately slow scorer and a small queue the
service sheds load with 503 ``overloaded`` + Retry-After and nothing else: every request is answered,
none is lost or left hanging, and the queue drains afterwards. Memory does not grow across rounds of
the same traffic. ``bench/load.py`` runs the bigger version over a real uvicorn and prints figures.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import tracemalloc
from collections import Counter
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from service.api.app import create_app
from service.genome.bundled import BundledGenome
from service.genome.layered import LayeredGenome
from service.settings import Settings
from tests.support.slow_scorer import SlowScorer
from tests.support.ucsc_server import reference_bases

pytestmark = pytest.mark.anyio

CLIENTS = 50
PER_CLIENT = 6


def snv(pos: int) -> str:
    """A real SNV at 1-based ``pos`` of hg38 chr17 (inside the bundled BRCA1 slice)."""
    ref = reference_bases("hg38", "chr17", pos - 1, pos)
    assert ref is not None
    return f"chr17:{pos}:{ref}:{next(b for b in 'ACGT' if b != ref)}"


def traffic(count: int, offset: int = 0) -> list[tuple[str, str, Any]]:
    """``count`` requests: mostly distinct single variants, some batches, /score and /health."""
    requests: list[tuple[str, str, Any]] = []
    for i in range(count):
        pos = 43_045_000 + ((i + offset) * 797) % 80_000
        kind = i % 10
        if kind < 6:
            requests.append(("POST", "/variant-delta", {"variant": snv(pos)}))
        elif kind < 8:
            requests.append(("POST", "/variant-delta", {"variants": [snv(pos), snv(pos + 11), "bad"]}))
        elif kind == 8:
            requests.append(("POST", "/score", {"sequences": ["ACGT" * 250, "GATTACA" * 40]}))
        else:
            requests.append(("GET", "/health", None))
    return requests


async def run_clients(
    app: FastAPI, requests: list[tuple[str, str, Any]], clients: int
) -> list[httpx.Response]:
    """``clients`` concurrent clients share the requests; returns one response per request, in order."""
    answers: list[httpx.Response | None] = [None] * len(requests)
    transport = httpx.ASGITransport(app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=60) as client:

        async def worker(first: int) -> None:
            for index in range(first, len(requests), clients):
                method, path, body = requests[index]
                answers[index] = await client.request(method, path, json=body)

        await asyncio.gather(*(worker(i) for i in range(clients)))
    assert all(a is not None for a in answers), "a request was never answered"
    return [a for a in answers if a is not None]


def build(scorer: Any, **overrides: Any) -> FastAPI:
    settings = Settings(genome_sources=["bundled"], **overrides)
    return create_app(settings, scorer=scorer, genome=LayeredGenome([BundledGenome()]))


async def test_fifty_clients_with_a_fast_scorer_all_succeed(kmer_scorer: Any) -> None:
    app = build(kmer_scorer)
    requests = traffic(CLIENTS * PER_CLIENT)
    responses = await run_clients(app, requests, CLIENTS)
    assert len(responses) == len(requests)
    assert Counter(r.status_code for r in responses) == {200: len(requests)}
    for (_, path, body), response in zip(requests, responses, strict=True):
        if path == "/variant-delta":
            expected = len(body["variants"]) if "variants" in body else 1
            assert len(response.json()["results"]) == expected  # nothing dropped inside a batch either
    app.state.parts.runner.close()


async def test_an_overloaded_model_sheds_load_with_503_only_and_loses_nothing(kmer_scorer: Any) -> None:
    app = build(SlowScorer(kmer_scorer, delay=0.02), max_queue=4, queue_retry_after_s=2)
    requests = traffic(CLIENTS * PER_CLIENT, offset=7)
    responses = await run_clients(app, requests, CLIENTS)
    assert len(responses) == len(requests)
    statuses = Counter(r.status_code for r in responses)
    assert set(statuses) <= {200, 503}, statuses
    assert statuses[200] > 0 and statuses[503] > 0, statuses  # overload was reached, and survived
    for response in responses:
        if response.status_code == 503:
            assert response.json()["error"]["type"] == "overloaded"
            assert response.headers["retry-after"] == "2"
    health = [r for (_, path, _), r in zip(requests, responses, strict=True) if path == "/health"]
    assert {r.status_code for r in health} == {200}  # liveness answered while the model was saturated
    # The queue drained: the next request is served and nothing is left waiting.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as client:
        after = await client.post("/variant-delta", json={"variant": snv(43_119_628)})
        depth = (await client.get("/health")).json()["detail"]["queue_depth"]
    assert after.status_code == 200 and depth == 0
    app.state.parts.runner.close()


async def test_memory_does_not_grow_across_rounds_of_the_same_traffic(
    kmer_scorer: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="service.access")  # pytest keeps every record it captures
    app = build(kmer_scorer)
    requests = traffic(120)
    tracemalloc.start()
    try:
        sizes = []
        for _ in range(6):
            responses = await run_clients(app, requests, CLIENTS)
            assert {r.status_code for r in responses} == {200}
            del responses
            gc.collect()
            sizes.append(tracemalloc.get_traced_memory()[0])
    finally:
        tracemalloc.stop()
        app.state.parts.runner.close()
    # Caches fill in the first round; later rounds of the same requests must not add to them. Minima of
    # two rounds each, to see through what happens to be in flight at a measurement (about 1 MiB).
    growth = min(sizes[4:]) - min(sizes[1:3])
    assert growth < 3 * 2**20, [f"{s / 2**20:.2f} MiB" for s in sizes]
