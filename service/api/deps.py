"""Request-scoped access to the app's parts: one narrow FastAPI dependency (``Annotated`` alias) each."""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import Depends, Request

from service.api.auth import key_is_valid, presented_key
from service.api.ratelimit import TokenBuckets
from service.compose import Parts
from service.domain.calibration import Calibration
from service.domain.delta import DeltaEngine
from service.domain.sequences import SequenceLimits
from service.genome.base import GenomeSource
from service.scoring.base import Scorer
from service.scoring.runner import ModelRunner
from service.settings import Settings


def _parts(request: Request) -> Parts:
    parts: Parts = request.app.state.parts
    return parts


def get_settings(request: Request) -> Settings:
    return _parts(request).settings


def get_engine(request: Request) -> DeltaEngine:
    return _parts(request).engine


def get_runner(request: Request) -> ModelRunner:
    return _parts(request).runner


def get_scorer(request: Request) -> Scorer:
    return _parts(request).scorer


def get_genome(request: Request) -> GenomeSource:
    return _parts(request).genome


def get_calibration(request: Request) -> Calibration:
    return _parts(request).calibration


def get_sequence_limits(request: Request) -> SequenceLimits:
    return _parts(request).sequence_limits


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[DeltaEngine, Depends(get_engine)]
RunnerDep = Annotated[ModelRunner, Depends(get_runner)]
ScorerDep = Annotated[Scorer, Depends(get_scorer)]
GenomeDep = Annotated[GenomeSource, Depends(get_genome)]
CalibrationDep = Annotated[Calibration, Depends(get_calibration)]
SequenceLimitsDep = Annotated[SequenceLimits, Depends(get_sequence_limits)]


# --- rate limiting (after the API key middleware) --------------------------------------------------


def client_identity(request: Request, settings: Settings) -> str:
    """Whose bucket a request draws from: its API key when valid (hashed), else the client's IP.

    An invalid or unknown key counts as no key, so inventing keys does not buy fresh buckets. The IP is
    the connection's peer: behind a proxy, let uvicorn trust it (``--forwarded-allow-ips``).
    """
    key = presented_key(request.headers)
    if key is not None and key_is_valid(settings, key):
        return "key:" + hashlib.sha256(key.encode()).hexdigest()[:32]
    return "ip:" + (request.client.host if request.client else "unknown")


async def limit_rate(request: Request, settings: SettingsDep) -> None:
    """429 ``RateLimited`` with Retry-After once the client's bucket is empty (no-op when off).

    ``async`` so FastAPI runs it on the event loop, not in its thread pool (it never blocks).
    """
    limiter: TokenBuckets | None = request.app.state.limiter
    if limiter is not None:
        limiter.check(client_identity(request, settings))
