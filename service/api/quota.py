"""Per-client quotas: a request bucket checked on every request that reaches the app, and a model-token
bucket charged by the scoring routes once a request is priced.

``QuotaMiddleware`` (pure ASGI, after the API key middleware, before the body is read) names the
client (its valid API key, hashed, else the connection's address: ``client_identity``), takes one
token from its request bucket, so an invalid body, an unknown path or a schema error counts like any
other request, and adds the headers to every answer:

* ``X-RateLimit-Limit-Requests``, ``X-RateLimit-Remaining-Requests``, ``X-RateLimit-Reset-Requests``
  (bucket size, whole requests left, seconds until the bucket is full) when the request limit is on;
* the same three with ``-Tokens`` for the model-token bucket when it is on;
* ``X-Model-Tokens``: what the request was charged (scoring routes).

``/health``, ``/metrics`` and the web page's files (``/``, ``/docs``, ``/redoc``, ``/static/*``) are not
counted. Routes call ``charge(request, cost)``: the per-request cost limit (400 ``limit_exceeded``),
then the client's model-token bucket (429 ``rate_limited`` with Retry-After).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.auth import key_is_valid, presented_key
from service.api.envelope import error_response
from service.api.ratelimit import TokenBuckets
from service.domain.cost import Cost, CostLimit
from service.errors import RateLimited
from service.settings import Settings

#: Paths no quota applies to: liveness, the scraper, and the web page's and the docs' own files (served
#: from the package, no work: a browser showing the page asks for 14 of them before its first API call).
EXEMPT_PATHS = frozenset({"/health", "/metrics", "/", "/docs", "/redoc"})
#: Path prefixes no quota applies to: the static files (``web.STATIC_PREFIX``).
EXEMPT_PREFIXES = ("/static/",)
#: Keys of ``scope["state"]``.
CLIENT = "quota_client"
CHARGED = "quota_model_tokens"
#: Response headers, for CORS ``expose_headers``.
HEADERS = (
    *(
        f"x-ratelimit-{what}-{unit}"
        for unit in ("requests", "tokens")
        for what in ("limit", "remaining", "reset")
    ),
    "x-model-tokens",
)


def client_identity(headers: Mapping[str, str], peer: Any, settings: Settings) -> str:
    """Whose buckets a request draws from: its API key when valid (hashed), else the client's address.

    An invalid or unknown key counts as no key, so inventing keys does not buy fresh buckets. The
    address is the connection's peer, or what a trusted proxy (``trusted_proxies``) forwarded.
    """
    key = presented_key(headers)
    if key is not None and key_is_valid(settings, key):
        return "key:" + hashlib.sha256(key.encode()).hexdigest()[:32]
    return "ip:" + (peer[0] if peer else "unknown")


def build_buckets(settings: Settings) -> tuple[TokenBuckets | None, TokenBuckets | None]:
    """The request bucket and the model-token bucket the settings ask for (``None``: off)."""
    requests = (
        TokenBuckets(settings.rate_limit_per_minute, settings.rate_limit_burst)
        if settings.rate_limit_per_minute > 0
        else None
    )
    tokens = (
        TokenBuckets(settings.model_tokens_per_minute, settings.model_token_bucket, unit="model tokens")
        if settings.model_tokens_per_minute > 0
        else None
    )
    return requests, tokens


class Quota:
    """The app's buckets and cost limit (``app.state.quota``)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.requests, self.tokens = build_buckets(settings)
        self.cost_limit = CostLimit(settings.max_request_tokens)

    def headers(self, client: str, charged: int | None) -> dict[str, str]:
        out: dict[str, str] = {}
        for unit, buckets in (("Requests", self.requests), ("Tokens", self.tokens)):
            if buckets is not None:
                state = buckets.state(client)
                out[f"X-RateLimit-Limit-{unit}"] = str(state.limit)
                out[f"X-RateLimit-Remaining-{unit}"] = str(state.remaining)
                out[f"X-RateLimit-Reset-{unit}"] = str(math.ceil(state.reset_s))
        if charged is not None:
            out["X-Model-Tokens"] = str(charged)
        return out


def charge(request: Request, cost: Cost) -> Cost:
    """Check ``cost`` against the per-request limit, then take it from the client's model-token bucket."""
    quota: Quota = request.app.state.quota
    quota.cost_limit.check(cost)
    if quota.tokens is not None and cost.tokens > 0:
        detail = {"cost_tokens": cost.tokens, "reckoning": cost.reckoning}
        quota.tokens.check(request.scope["state"][CLIENT], cost.tokens, detail=detail)
    request.scope["state"][CHARGED] = cost.tokens
    return cost


class QuotaMiddleware:
    def __init__(self, app: ASGIApp, *, quota: Quota) -> None:
        self.app = app
        self.quota = quota

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] in EXEMPT_PATHS
            or scope["path"].startswith(EXEMPT_PREFIXES)
        ):
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        client = client_identity(Headers(scope=scope), scope.get("client"), self.quota.settings)
        state[CLIENT] = client

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.quota.headers(client, state.get(CHARGED)).items():
                    headers[name] = value
            await send(message)

        if self.quota.requests is not None:
            try:
                self.quota.requests.check(client)
            except RateLimited as exc:
                await error_response(exc)(scope, receive, send_with_headers)
                return
        await self.app(scope, receive, send_with_headers)
