"""Shared fixtures. Tests build apps through create_app with injected parts."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from service.api.app import create_app
from service.genome.bundled import BundledGenome
from service.genome.layered import LayeredGenome
from service.scoring.kmer import KmerScorer
from service.settings import Settings
from tests.support.ucsc_server import ucsc_server  # noqa: F401  (fixture)


def pytest_configure(config: pytest.Config) -> None:
    """No test looks a transcript or an rsID up at the real UCSC: apps built from the environment
    (subprocess servers included) resolve with the bundled records and files only; tests of the UCSC
    annotation source name it and the stand-in server explicitly."""
    os.environ.setdefault("EVO2_SERVICE_ANNOTATION_SOURCES", '["bundled", "file"]')


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def kmer_scorer() -> KmerScorer:
    return KmerScorer.load()


@pytest.fixture
def make_app(kmer_scorer: KmerScorer) -> Callable[..., FastAPI]:
    """``make_app(**settings)``: the real app with the k-mer scorer and the bundled BRCA1 slices."""

    def build(scorer: Any = None, genome: Any = None, **overrides: Any) -> FastAPI:
        settings = Settings(genome_sources=["bundled"], **overrides)
        return create_app(
            settings,
            scorer=scorer or kmer_scorer,
            genome=genome or LayeredGenome([BundledGenome()]),
        )

    return build


@pytest.fixture
async def client(make_app: Callable[..., FastAPI]) -> AsyncIterator[httpx.AsyncClient]:
    app = make_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as c:
        yield c
