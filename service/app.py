"""The app factory: ``create_app(settings, scorer=, genome=)`` → FastAPI.

Everything is built here (settings included), nothing at import time. Tests and the Modal deployment
inject their own scorer and genome source; ``make serve`` uses ``create_app_from_env``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service import __version__
from service.calibration import load_calibration
from service.delta import DeltaEngine
from service.deps import Parts, require_key
from service.errors import PayloadTooLarge, ServiceError
from service.genome.base import GenomeSource
from service.parts import build_genome, build_scorer
from service.routes import public, router
from service.runner import ModelRunner
from service.scoring.base import Scorer
from service.settings import Settings

log = logging.getLogger("service")

DESCRIPTION = """\
How much does a DNA variant disturb the genome, according to the Evo 2 language model?

`/variant-delta` fetches the reference window around a variant (positions are 1-based, VCF), scores the
reference and the alternate window with the model and returns `delta_score = alt − ref` (mean
log-likelihood) with a label from the model's BRCA1 calibration. Labels are research scores, not
clinical calls. Intervals in responses are 0-based half-open; region strings are 1-based inclusive.
"""


def error_response(exc: ServiceError, request_id: str | None = None) -> JSONResponse:
    headers = {}
    if exc.retry_after is not None:
        headers["Retry-After"] = str(max(1, round(exc.retry_after)))
    if request_id:
        headers["x-request-id"] = request_id
    return JSONResponse({"error": exc.to_dict()}, status_code=exc.status, headers=headers)


def _envelope(status: int, type_: str, message: str, detail: dict[str, Any] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"type": type_, "message": message, "detail": detail or {}}}, status)


class BodyLimitMiddleware:
    """413 for bodies above ``max_bytes``, whether Content-Length says so or the stream shows it."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = PayloadTooLarge(
            f"request body exceeds {self.max_bytes} bytes", detail={"max_body_bytes": self.max_bytes}
        )
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await error_response(too_large)(scope, receive, send)
                return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise too_large
            return message

        await self.app(scope, limited_receive, send)


def create_app(
    settings: Settings | None = None,
    *,
    scorer: Scorer | None = None,
    genome: GenomeSource | None = None,
) -> FastAPI:
    settings = settings or Settings()
    scorer = scorer or build_scorer(settings)
    genome = genome or build_genome(settings)
    runner = ModelRunner(
        scorer,
        max_queue=settings.max_queue,
        timeout_s=settings.model_timeout_s,
        retry_after_s=settings.queue_retry_after_s,
    )
    parts = Parts(
        settings=settings,
        scorer=scorer,
        genome=genome,
        runner=runner,
        engine=DeltaEngine(genome, runner, cluster_max_bp=settings.cluster_max_bp),
        calibration=load_calibration(scorer.name, settings.calibration_dir),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        log.info("serving model %s", scorer.name)
        yield
        await genome.aclose()

    app = FastAPI(
        title="Evo 2 variant-effect service",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.parts = parts

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
        return _envelope(422, "validation_error", "the request does not match the schema", {"errors": errors})

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        kinds = {404: "not_found", 405: "method_not_allowed"}
        return _envelope(exc.status_code, kinds.get(exc.status_code, "http_error"), str(exc.detail))

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return _envelope(500, "internal_error", "internal error; the request id identifies it in the logs")

    @app.middleware("http")
    async def request_id(request: Request, call_next: Any) -> Any:
        rid = request.headers.get("x-request-id") or uuid.uuid4().hex
        if len(rid) > 128 or not rid.isprintable():
            rid = uuid.uuid4().hex
        request.state.request_id = rid
        response = await call_next(request)
        response.headers["x-request-id"] = rid
        return response

    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["authorization", "content-type", "x-api-key", "x-request-id"],
            expose_headers=["x-request-id", "retry-after"],
        )

    app.include_router(public)
    app.include_router(router, dependencies=[Depends(require_key)])
    return app


def create_app_from_env() -> FastAPI:
    """For ``uvicorn --factory``: settings from the environment (``EVO2_SERVICE_*``)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    return create_app(Settings())
