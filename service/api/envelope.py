"""The JSON error envelope, written in one place: ``{"error": {"type", "message", "detail"}}``, and the
handlers that answer every error with it."""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.api.logs import current_request_id
from service.errors import MAX_DETAIL_STRING, MAX_MESSAGE, ServiceError, clip

log = logging.getLogger("service")


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


#: Types of the answers Starlette itself raises (documented in ``service.errors``).
HTTP_ERROR_TYPES = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}
#: Schema errors listed in a 422 (the count of all of them is in ``detail.error_count``).
MAX_LISTED_ERRORS = 20


def validation_detail(exc: RequestValidationError) -> dict[str, Any]:
    """The first ``MAX_LISTED_ERRORS`` schema errors, without the input, locations clipped."""
    errors = exc.errors()
    listed = [
        {
            "loc": [clip(str(part)) for part in e.get("loc", ())[:8]],
            "msg": clip(str(e.get("msg", "")), MAX_DETAIL_STRING),
            "type": e.get("type"),
        }
        for e in errors[:MAX_LISTED_ERRORS]
    ]
    return {"errors": listed, "error_count": len(errors)}


def install_error_handlers(app: FastAPI) -> None:
    """Every error the app answers goes out in the envelope: ours, validation, 404/405, the unexpected."""

    @app.exception_handler(ServiceError)
    async def on_service_error(request: Request, exc: ServiceError) -> JSONResponse:
        if exc.status >= 500 and type(exc) is ServiceError:
            log.error("internal error: %s", exc.message)
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return envelope(
            422, "validation_error", "the request does not match the schema", validation_detail(exc)
        )

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = HTTP_ERROR_TYPES.get(
            exc.status_code, "invalid_request" if exc.status_code < 500 else "internal_error"
        )
        response = envelope(exc.status_code, kind, clip(str(exc.detail), MAX_MESSAGE))
        response.headers.update(exc.headers or {})  # e.g. the Allow header of a 405 (RFC 9110)
        return response

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        message = "internal error; the request id identifies it in the logs"
        response = envelope(500, "internal_error", message)
        rid = current_request_id()
        if rid:
            response.headers["x-request-id"] = rid
        return response
