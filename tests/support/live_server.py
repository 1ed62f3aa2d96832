"""A real uvicorn server on loopback and a request-recording ASGI wrapper (client, CLI and TS tests)."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import uvicorn

from service.api.app import create_app
from service.settings import Settings


class RecordingApp:
    """ASGI wrapper that records ``(method, path, number of variants in the body)`` of each request."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.requests: list[tuple[str, str, int | None]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        entry = [scope["method"], scope["path"], None]

        async def recording_receive() -> Any:
            message = await receive()
            if message["type"] == "http.request":
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    entry[2] = _variant_count(b"".join(chunks))
            return message

        self.requests.append(entry)  # type: ignore[arg-type]
        await self.app(scope, recording_receive, send)

    def count(self, path: str) -> int:
        return sum(1 for _, p, _ in self.requests if p == path)

    def variants_sent(self, path: str = "/variant-delta") -> list[int | None]:
        return [n for _, p, n in self.requests if p == path]


def _variant_count(body: bytes) -> int | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if isinstance(data, dict) and isinstance(data.get("variants"), list):
        return len(data["variants"])
    return 1 if isinstance(data, dict) and "variant" in data else None


class LiveServer:
    """A real uvicorn server for ``app`` on 127.0.0.1 (free port), in a thread."""

    def __init__(self, app: Any) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", ws="none", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    @property
    def url(self) -> str:
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"


def bundled_app(**settings: Any) -> Any:
    return create_app(Settings(genome_sources=["bundled"], **settings))
