"""The HTTP server: uvicorn with the options in ``Settings``; ``make serve`` runs this module.

* Forwarded headers: uvicorn itself believes none (``proxy_headers=False``; its default believes
  ``X-Forwarded-For`` from loopback, so every invented value would get a fresh rate-limit bucket). The
  app believes them only from ``trusted_proxies`` (``create_app``), whatever server runs it.
* Slow clients (``GuardedH11Protocol``): a connection whose request headers have not all arrived
  ``header_timeout_s`` after it opened (or after the first byte of a later request), or whose body has
  not arrived ``body_timeout_s`` after its headers, is answered 408 ``request_timeout`` and closed; an
  idle keep-alive connection is closed after ``keep_alive_timeout_s``.
* At most ``max_connections`` open connections: one more is answered 503 ``overloaded`` (Retry-After)
  and closed at once.
* A request uvicorn cannot parse (headers too large, bad syntax) gets the envelope's 400
  ``invalid_request``, not uvicorn's plain text.
"""

from __future__ import annotations

import argparse
import asyncio
import http
import json
import math
from dataclasses import dataclass
from typing import Any, ClassVar

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from service.errors import InvalidRequest, Overloaded, RequestTimeout, ServiceError
from service.settings import Settings


@dataclass(frozen=True)
class ConnectionLimits:
    header_timeout_s: float
    body_timeout_s: float
    max_connections: int

    @classmethod
    def from_settings(cls, settings: Settings) -> ConnectionLimits:
        return cls(settings.header_timeout_s, settings.body_timeout_s, settings.max_connections)


def raw_response(error: ServiceError) -> bytes:
    """A complete ``Connection: close`` HTTP/1.1 answer carrying ``error`` in the envelope."""
    body = json.dumps({"error": error.to_dict()}).encode()
    lines = [
        f"HTTP/1.1 {error.status} {http.HTTPStatus(error.status).phrase}",
        "content-type: application/json",
        f"content-length: {len(body)}",
        "connection: close",
    ]
    if error.retry_after is not None:
        lines.append(f"retry-after: {max(1, math.ceil(error.retry_after))}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with deadlines for headers and body and a cap on connections."""

    limits: ClassVar[ConnectionLimits]

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._deadline: asyncio.TimerHandle | None = None
        self._phase: str | None = None
        if len(self.connections) > self.limits.max_connections:
            self._answer_and_close(
                Overloaded(
                    f"the server holds {self.limits.max_connections} connections; retry shortly",
                    detail={"max_connections": self.limits.max_connections},
                    retry_after=1.0,
                )
            )
            return
        self._arm("headers")

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._track()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._track()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        self._answer_and_close(InvalidRequest(f"invalid HTTP request: {msg}", detail={"reason": "http"}))

    def _track(self) -> None:
        """Which deadline applies now: headers (a request begun), body, or none (idle or answered)."""
        if self.transport.is_closing():
            return
        state = self.conn.their_state
        if state is h11.SEND_BODY:
            self._arm("body")
        elif state is h11.IDLE and (self.conn.trailing_data[0] or self.cycle is None):
            self._arm("headers")  # a request begun, or none yet on this connection
        else:
            self._disarm()  # received, or idle between requests (uvicorn's keep-alive timeout applies)

    def _arm(self, phase: str) -> None:
        if self._phase == phase:
            return
        self._disarm()
        timeout = self.limits.header_timeout_s if phase == "headers" else self.limits.body_timeout_s
        self._phase = phase
        self._deadline = self.loop.call_later(timeout, self._expire, phase, timeout)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = None
        self._phase = None

    def _expire(self, phase: str, timeout: float) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and self.cycle.response_started:
            self.transport.close()  # answered already (the app did not wait for the body)
            return
        what = "request headers" if phase == "headers" else "request body"
        self._answer_and_close(
            RequestTimeout(
                f"the {what} did not arrive within {timeout:g} s",
                detail={"waited_for": phase, f"{phase}_timeout_s": timeout},
            )
        )

    def _answer_and_close(self, error: ServiceError) -> None:
        self._disarm()
        self.transport.write(raw_response(error))
        self.transport.close()


def guarded_protocol(limits: ConnectionLimits) -> type[GuardedH11Protocol]:
    """A protocol class bound to ``limits`` (uvicorn instantiates the class it is given)."""
    return type("GuardedH11Protocol", (GuardedH11Protocol,), {"limits": limits})


def server_config(app: Any, settings: Settings, *, host: str, port: int, **options: Any) -> uvicorn.Config:
    """uvicorn's configuration for ``app`` under ``settings`` (``options``: more uvicorn options)."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=guarded_protocol(ConnectionLimits.from_settings(settings)),
        proxy_headers=False,
        timeout_keep_alive=settings.keep_alive_timeout_s,  # type: ignore[arg-type]
        ws="none",
        lifespan="on",
        access_log=False,
        log_config=None,
        **options,
    )


def main(argv: list[str] | None = None) -> None:
    from service.api.app import create_app
    from service.api.logs import configure_logging

    parser = argparse.ArgumentParser(description="Serve the API (settings from EVO2_SERVICE_*).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    settings = Settings()
    configure_logging("INFO", secrets=[key.get_secret_value() for key in settings.api_keys])
    uvicorn.Server(server_config(create_app(settings), settings, host=args.host, port=args.port)).run()


if __name__ == "__main__":
    main()
