"""The app factory: ``create_app(settings, scorer=, genome=, runner=)`` → FastAPI.

Everything is built here (settings included), nothing at import time. Tests and the Modal deployment
inject their own scorer, genome source or model runner; ``make serve`` uses ``create_app_from_env``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.responses import Response
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from service import __version__
from service.api import embedding
from service.api.auth import API_KEY_SCHEMES, ApiKeyMiddleware
from service.api.body_limit import BodyLimitMiddleware
from service.api.cors import EnvelopeCORSMiddleware
from service.api.envelope import install_error_handlers
from service.api.expect import ExpectModelMiddleware
from service.api.json_guard import JsonGuardMiddleware
from service.api.logs import RequestLogMiddleware, configure_logging
from service.api.metrics import MetricsMiddleware, ServiceMetrics
from service.api.notations import router as notations_router
from service.api.quota import HEADERS as QUOTA_HEADERS
from service.api.quota import Quota, QuotaMiddleware
from service.api.routes import public, router
from service.api.web import install_web
from service.compose import Parts, build_parts, build_runner, build_scorer
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


def create_app(
    settings: Settings | None = None,
    *,
    scorer: Scorer | None = None,
    genome: GenomeSource | None = None,
    runner: ModelRunner | None = None,
) -> FastAPI:
    settings = settings or Settings()
    metrics = ServiceMetrics()
    if runner is None:
        runner = build_runner(settings, metrics.instrument(scorer or build_scorer(settings)))
    parts = build_parts(settings, scorer=runner.scorer, genome=genome, runner=runner)
    metrics.watch(scorer=parts.scorer, runner=parts.runner, genome=parts.genome)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        log.info("serving model %s", parts.scorer.name)
        yield
        parts.runner.close()
        await parts.resolver.aclose()
        await parts.genome.aclose()

    app = FastAPI(
        title="Evo 2 variant-effect service",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        # /docs and /redoc are served from vendored files by install_web (offline, no CDN).
        docs_url=None,
        redoc_url=None,
    )
    app.state.parts = parts
    app.state.metrics = metrics
    app.state.quota = Quota(settings)
    install_error_handlers(app)
    _install_middleware(app, parts, metrics)

    @app.get("/metrics", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        """Prometheus text format; behind the API key when one is required; not rate limited."""
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)

    app.include_router(public)
    install_web(app)
    app.include_router(router, dependencies=list(API_KEY_SCHEMES))
    app.include_router(notations_router, dependencies=list(API_KEY_SCHEMES))
    app.include_router(embedding.router, dependencies=list(API_KEY_SCHEMES))
    if not settings.require_api_key:
        _declare_auth_optional(app)
    return app


def _install_middleware(app: FastAPI, parts: Parts, metrics: ServiceMetrics) -> None:
    """Innermost first: requests for the model announced to the batcher, strict JSON, the body limit,
    the API key, quotas, CORS, metrics, the request log and, with ``trusted_proxies``, the forwarded
    client address (outermost)."""
    settings = parts.settings
    routes = app.router.routes
    max_items = max(settings.max_variants, settings.max_sequences)
    app.add_middleware(ExpectModelMiddleware, runner=parts.runner)
    app.add_middleware(JsonGuardMiddleware, max_items=max_items, routes=routes)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    # The key is checked before the body is read; the quota counts every request, refused ones too.
    app.add_middleware(ApiKeyMiddleware, settings=settings, routes=routes)
    app.add_middleware(QuotaMiddleware, quota=app.state.quota)
    if settings.cors_origins:  # CORS wraps the rest, so refusals (401, 429, …) carry CORS headers
        app.add_middleware(
            EnvelopeCORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["authorization", "content-type", "x-api-key", "x-request-id"],
            expose_headers=["x-request-id", "retry-after", *QUOTA_HEADERS],
        )
    # The request id and the access log see every answer, 413 and CORS ones included.
    app.add_middleware(MetricsMiddleware, metrics=metrics, routes=routes)
    app.add_middleware(RequestLogMiddleware)
    if settings.trusted_proxies:  # only these peers may say who the client is (X-Forwarded-For)
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))


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
