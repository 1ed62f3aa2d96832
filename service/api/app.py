"""The app factory: ``create_app(settings, scorer=, genome=)`` → FastAPI.

Everything is built here (settings included), nothing at import time. Tests and the Modal deployment
inject their own scorer and genome source; ``make serve`` uses ``create_app_from_env``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service import __version__
from service.api.auth import API_KEY_SCHEMES, ApiKeyMiddleware
from service.api.deps import Parts, limit_rate
from service.api.envelope import envelope as _envelope
from service.api.envelope import error_response
from service.api.logs import RequestLogMiddleware, configure_logging, current_request_id
from service.api.metrics import MetricsMiddleware, ServiceMetrics
from service.api.ratelimit import TokenBuckets
from service.api.routes import public, router
from service.compose import build_genome, build_scorer
from service.domain.calibration import load_calibration
from service.domain.delta import DeltaEngine
from service.domain.score_cache import ScoreCache
from service.errors import PayloadTooLarge, ServiceError
from service.genome.base import GenomeSource
from service.scoring.base import Scorer
from service.scoring.runner import ModelRunner
from service.settings import Settings

log = logging.getLogger("service")

DESCRIPTION = """\
How much does a DNA variant disturb the genome, according to the Evo 2 language model?

`/variant-delta` fetches the reference window around a variant (positions are 1-based, VCF), scores the
reference and the alternate window with the model and returns `delta_score = alt − ref` (mean
log-likelihood) with a label from the model's BRCA1 calibration. Labels are research scores, not
clinical calls. Intervals in responses are 0-based half-open; region strings are 1-based inclusive.
"""


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
        # Read the body here, bounded: a stream (chunked, no Content-Length) that passes the limit is
        # answered 413 before the app sees it (raising inside the app's body read would become a 400).
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message], receive), send)
                return
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.max_bytes:
                await error_response(too_large)(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body: Message = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay([body], receive), send)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that first returns ``messages``, then defers to the server's (disconnects)."""
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


def create_app(
    settings: Settings | None = None,
    *,
    scorer: Scorer | None = None,
    genome: GenomeSource | None = None,
) -> FastAPI:
    settings = settings or Settings()
    scorer = scorer or build_scorer(settings)
    genome = genome or build_genome(settings)
    metrics = ServiceMetrics()
    runner = ModelRunner(
        metrics.instrument(scorer),
        max_queue=settings.max_queue,
        timeout_s=settings.model_timeout_s,
        retry_after_s=settings.queue_retry_after_s,
        batch_wait_ms=settings.batch_wait_ms,
        batch_max_tokens=settings.batch_max_tokens,
    )
    ref_cache = ScoreCache(settings.ref_cache_bytes)
    parts = Parts(
        settings=settings,
        scorer=scorer,
        genome=genome,
        runner=runner,
        engine=DeltaEngine(genome, runner, cluster_max_bp=settings.cluster_max_bp, cache=ref_cache),
        calibration=load_calibration(scorer.name, settings.calibration_dir),
        limiter=(
            TokenBuckets(settings.rate_limit_per_minute, settings.rate_limit_burst)
            if settings.rate_limit_per_minute > 0
            else None
        ),
    )
    metrics.watch(scorer=scorer, runner=runner, genome=genome)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        log.info("serving model %s", scorer.name)
        yield
        runner.close()
        await genome.aclose()

    app = FastAPI(
        title="Evo 2 variant-effect service",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.parts = parts
    app.state.metrics = metrics

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
        response = _envelope(exc.status_code, kinds.get(exc.status_code, "http_error"), str(exc.detail))
        response.headers.update(exc.headers or {})  # e.g. the Allow header of a 405 (RFC 9110)
        return response

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        message = "internal error; the request id identifies it in the logs"
        response = _envelope(500, "internal_error", message)
        rid = current_request_id()
        if rid:
            response.headers["x-request-id"] = rid
        return response

    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    # The key is checked before the body is read; CORS wraps it so refusals carry CORS headers.
    app.add_middleware(ApiKeyMiddleware, settings=settings, routes=app.router.routes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["authorization", "content-type", "x-api-key", "x-request-id"],
            expose_headers=["x-request-id", "retry-after"],
        )

    # Outermost last: the request id and the access log see every answer, 413 and CORS ones included.
    app.add_middleware(MetricsMiddleware, metrics=metrics, routes=app.router.routes)
    app.add_middleware(RequestLogMiddleware)

    @app.get("/metrics", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        """Prometheus text format; behind the API key when one is required; not rate limited."""
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)

    app.include_router(public)
    # The rate limit runs after the key middleware: a bucket is keyed by a valid key, or by the client IP.
    app.include_router(router, dependencies=[*API_KEY_SCHEMES, Depends(limit_rate)])
    if not settings.require_api_key:
        _declare_auth_optional(app)
    return app


def _declare_auth_optional(app: FastAPI) -> None:
    """Without ``require_api_key`` a key is accepted but not needed: say so in openapi.json."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            for operations in schema.get("paths", {}).values():
                for operation in operations.values():
                    if "security" in operation and {} not in operation["security"]:
                        operation["security"].append({})
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app_from_env() -> FastAPI:
    """For ``uvicorn --factory``: settings from the environment (``EVO2_SERVICE_*``); JSON-line logs."""
    settings = Settings()
    configure_logging("INFO", secrets=[key.get_secret_value() for key in settings.api_keys])
    return create_app(settings)
