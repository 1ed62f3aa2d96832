"""Structured logs: one JSON object per line, carrying the request id of the request being served.

``RequestLogMiddleware`` gives every request an id (the client's ``x-request-id`` when it is short and
printable, else a new one), keeps it in a context variable for every log record made while serving the
request, echoes it as the ``x-request-id`` response header and writes one access record per request
(``method``, ``path`` without the query string, ``status``, ``duration_ms``) to the ``service.access``
logger. Request headers are never logged, so neither ``Authorization`` nor ``X-API-Key`` can reach a
log; ``JsonFormatter`` also blanks any configured API key and any bearer token that a message contains.

``configure_logging`` installs the JSON handler on the root logger; the app factory for ``uvicorn``
(``create_app_from_env``) calls it, importing this module changes nothing.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Iterable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

ACCESS_LOGGER = "service.access"
REQUEST_ID_HEADER = "x-request-id"
MAX_REQUEST_ID = 128
MAX_LOGGED_PATH = 256
REDACTED = "[redacted]"
#: Logged status of a request whose client left before it was answered (nginx's convention), and the
#: ``scope["state"]`` key that says so.
CLIENT_CLOSED = 499
CLIENT_GONE = "client_gone"

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
#: Attributes an access record carries (set through ``extra``), in the order they are written.
_REQUEST_FIELDS = ("method", "path", "status", "duration_ms")
_BEARER_RE = re.compile(r"(?i)(bearer\s+)[^\s\"',;]+")


def current_request_id() -> str | None:
    """The id of the request being served in this context (``None`` outside a request)."""
    return _request_id.get()


def choose_request_id(given: str | None) -> str:
    """The client's id when it is usable (1 to 128 printable ASCII characters), else a fresh one."""
    if given and len(given) <= MAX_REQUEST_ID and given.isascii() and given.isprintable():
        return given
    return uuid.uuid4().hex


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", "request_id", ...}`` on one line; secrets blanked."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        # Longest first, so a key that contains another is blanked whole.
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC)
        entry: dict[str, Any] = {
            "time": stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or current_request_id(),
        }
        for name in _REQUEST_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return self.redact(json.dumps(entry, ensure_ascii=False, default=str))

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
            escaped = json.dumps(secret, ensure_ascii=False)[1:-1]
            if escaped != secret:
                text = text.replace(escaped, REDACTED)
        return _BEARER_RE.sub(rf"\g<1>{REDACTED}", text)


def configure_logging(
    level: int | str = "INFO", *, secrets: Iterable[str] = (), stream: IO[str] | None = None
) -> None:
    """JSON lines on ``stream`` (stderr) for every logger, uvicorn's included.

    uvicorn's own access log is switched off: ``service.access`` writes one richer line per request.
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    access = logging.getLogger("uvicorn.access")
    access.handlers.clear()
    access.propagate = False
    access.disabled = True


class RequestLogMiddleware:
    """Request id in, ``x-request-id`` out, one access record per request (pure ASGI)."""

    def __init__(self, app: ASGIApp, logger: logging.Logger | None = None) -> None:
        self.app = app
        self.log = logger or logging.getLogger(ACCESS_LOGGER)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = None
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                given = value.decode("latin-1")
                break
        rid = choose_request_id(given)
        scope.setdefault("state", {})["request_id"] = rid
        token = _request_id.set(rid)
        started = time.perf_counter()
        status = 500
        header = (REQUEST_ID_HEADER.encode(), rid.encode())

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != header[0]]
                message = {**message, "headers": [*headers, header]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except BaseException:
            # Keep the id set: the app's last-resort handler logs the traceback after this frame.
            self._access(scope, rid, 500, started)
            raise
        if scope["state"].get(CLIENT_GONE):
            status = CLIENT_CLOSED  # no answer: the client left (or was timed out) mid-request
        self._access(scope, rid, status, started)
        _request_id.reset(token)

    def _access(self, scope: Scope, rid: str, status: int, started: float) -> None:
        # 5xx answers are warnings (shed load, upstream trouble); an exception is logged as an error
        # by the app's last-resort handler, with its traceback.
        level = logging.WARNING if status >= 500 else logging.INFO  # 499: the client left
        path = scope.get("path", "")
        self.log.log(
            level,
            "%s %s %d",
            scope.get("method", ""),
            path[:MAX_LOGGED_PATH],
            status,
            extra={
                "request_id": rid,
                "method": scope.get("method", ""),
                "path": path[:MAX_LOGGED_PATH],
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 3),
            },
        )
