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
from service.errors import ServiceError

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


def install_error_handlers(app: FastAPI) -> None:
    """Every error the app answers goes out in the envelope: ours, validation, 404/405, the unexpected."""

    @app.exception_handler(ServiceError)
    async def on_service_error(request: Request, exc: ServiceError) -> JSONResponse:
        if exc.status >= 500 and type(exc) is ServiceError:
            log.error("internal error: %s", exc.message)
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "")), "type": e.get("type")}
            for e in exc.errors()
        ]
        return envelope(422, "validation_error", "the request does not match the schema", {"errors": errors})

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        kinds = {404: "not_found", 405: "method_not_allowed"}
        response = envelope(exc.status_code, kinds.get(exc.status_code, "http_error"), str(exc.detail))
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
