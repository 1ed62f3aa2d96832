"""The JSON error envelope, written in one place: ``{"error": {"type", "message", "detail"}}``."""

from __future__ import annotations

import math
from typing import Any

from fastapi.responses import JSONResponse

from service.errors import ServiceError


def error_response(exc: ServiceError, request_id: str | None = None) -> JSONResponse:
    headers = {}
    if exc.retry_after is not None:
        # Rounded up: a client that waits exactly Retry-After must not be refused again.
        headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
    if request_id:
        headers["x-request-id"] = request_id
    return JSONResponse({"error": exc.to_dict()}, status_code=exc.status, headers=headers)


def envelope(status: int, type_: str, message: str, detail: dict[str, Any] | None = None) -> JSONResponse:
    """The envelope for errors that are not ``ServiceError`` s (validation, 404, 405, 500)."""
    return JSONResponse({"error": {"type": type_, "message": message, "detail": detail or {}}}, status)
