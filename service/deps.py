"""Request-scoped access to the app's parts (FastAPI dependencies, ``Annotated`` aliases)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from service.calibration import Calibration
from service.delta import DeltaEngine
from service.errors import Unauthorized
from service.genome.base import GenomeSource
from service.runner import ModelRunner
from service.scoring.base import Scorer
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


def get_parts(request: Request) -> Parts:
    parts: Parts = request.app.state.parts
    return parts


PartsDep = Annotated[Parts, Depends(get_parts)]


def presented_key(request: Request) -> str | None:
    """The API key from ``Authorization: Bearer <key>`` or ``X-API-Key``."""
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None
    return request.headers.get("x-api-key") or None


def key_is_valid(settings: Settings, key: str | None) -> bool:
    if key is None:
        return False
    given = key.encode()
    # Compare against every key in constant time (no early exit that leaks which one matched).
    matches = [hmac.compare_digest(given, k.get_secret_value().encode()) for k in settings.api_keys]
    return any(matches)


def require_key(request: Request, parts: PartsDep) -> None:
    if not parts.settings.require_api_key:
        return
    if not key_is_valid(parts.settings, presented_key(request)):
        raise Unauthorized("a valid API key is required (Authorization: Bearer <key> or X-API-Key)")


AuthDep = Depends(require_key)
