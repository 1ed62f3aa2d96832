"""API keys: checked by an ASGI middleware before any route runs or any body is read.

With ``require_api_key``, every path except the open ones (``/health``, the web page and its static
files, the API documentation) needs ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``. Keys are
compared in constant time against every configured key; a refused request gets the 401 envelope, and
no body is parsed for it.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence

from fastapi import Security
from fastapi.security import APIKeyHeader, HTTPBearer
from starlette.datastructures import Headers
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from service.api.asgi import served
from service.api.envelope import error_response
from service.errors import Unauthorized
from service.settings import Settings

#: The two ways to present a key, declared in openapi.json for generated clients. Documentation only
#: (``auto_error=False``): ``ApiKeyMiddleware`` does the checking, before any body is read.
API_KEY_SCHEMES = (
    Security(HTTPBearer(auto_error=False, description="Authorization: Bearer <key> (when required)")),
    Security(APIKeyHeader(name="X-API-Key", auto_error=False, description="X-API-Key: <key> (if required)")),
)

#: Paths answered without a key: liveness, the web page and the API's own description.
OPEN_PATHS = frozenset({"/health", "/", "/openapi.json", "/docs", "/redoc"})
#: Path prefixes answered without a key: the page's and the docs' static files (``web.STATIC_PREFIX``).
OPEN_PREFIXES = ("/static/",)


def presented_key(headers: Mapping[str, str]) -> str | None:
    """The API key from ``Authorization: Bearer <key>`` or ``X-API-Key``."""
    auth = headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None
    return headers.get("x-api-key") or None


def key_is_valid(settings: Settings, key: str | None) -> bool:
    if key is None:
        return False
    given = key.encode()
    # Compare against every key in constant time (no early exit that leaks which one matched).
    matches = [hmac.compare_digest(given, k.get_secret_value().encode()) for k in settings.api_keys]
    return any(matches)


class ApiKeyMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.settings = settings
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or not self.settings.require_api_key
            or scope["path"] in OPEN_PATHS
            or scope["path"].startswith(OPEN_PREFIXES)
            or scope["method"] == "OPTIONS"  # CORS preflights carry no credentials
            or key_is_valid(self.settings, presented_key(Headers(scope=scope)))
            or not served(scope, self.routes)
        ):
            await self.app(scope, receive, send)
            return
        refused = Unauthorized("a valid API key is required (Authorization: Bearer <key> or X-API-Key)")
        response = error_response(refused)
        response.headers["WWW-Authenticate"] = "Bearer"
        await response(scope, receive, send)
