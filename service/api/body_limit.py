"""413 for request bodies above the limit, before the app reads them (pure ASGI)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.asgi import replay
from service.api.envelope import error_response
from service.api.logs import CLIENT_GONE
from service.errors import PayloadTooLarge


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
                # The client went away (or was timed out) before its body was complete: nobody to answer.
                scope.setdefault("state", {})[CLIENT_GONE] = True
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
        await self.app(scope, replay([body], receive), send)
