"""Request-scoped access to the app's parts (FastAPI dependencies, ``Annotated`` aliases)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from service.api.auth import key_is_valid, presented_key
from service.api.ratelimit import TokenBuckets
from service.domain.calibration import Calibration
from service.domain.delta import DeltaEngine
from service.genome.base import GenomeSource
from service.scoring.base import Scorer
from service.scoring.runner import ModelRunner
from service.settings import Settings


@dataclass
class Parts:
    """Everything a route needs, built once in ``create_app``."""

    settings: Settings
    scorer: Scorer
    genome: GenomeSource
    runner: ModelRunner
    engine: DeltaEngine
    calibration: Calibration
    #: Per-client token buckets; ``None`` when ``rate_limit_per_minute`` is 0 (off).
    limiter: TokenBuckets | None = None


def get_parts(request: Request) -> Parts:
    parts: Parts = request.app.state.parts
    return parts


PartsDep = Annotated[Parts, Depends(get_parts)]


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


async def limit_rate(request: Request, parts: PartsDep) -> None:
    """429 ``RateLimited`` with Retry-After once the client's bucket is empty (no-op when off).

    ``async`` so FastAPI runs it on the event loop, not in its thread pool (it never blocks).
    """
    if parts.limiter is not None:
        parts.limiter.check(client_identity(request, parts.settings))


RateLimitDep = Depends(limit_rate)
