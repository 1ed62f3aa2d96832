"""`make serve` on a real socket: forwarded headers, slow clients and the connection cap.

Each server here is the command `make serve` runs (read from `make -n serve`), in its own process,
with its settings in `EVO2_SERVICE_*` variables: what a user starts is what is tested.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
HEADER_TIMEOUT_S = 1.0
BODY_TIMEOUT_S = 1.0
KEEP_ALIVE_S = 1.0
MAX_CONNECTIONS = 8


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_command(port: int) -> list[str]:
    """The command `make serve` runs (the last line of `make -n`: earlier ones would build the venv)."""
    shown = subprocess.run(
        ["make", "-s", "-n", "serve", "HOST=127.0.0.1", f"PORT={port}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return shlex.split(shown.stdout.strip().splitlines()[-1])


@contextmanager
def make_serve(**settings: Any) -> Iterator[tuple[str, int]]:
    port = free_port()
    env = {**os.environ, "EVO2_SERVICE_GENOME_SOURCES": '["bundled"]'}
    env.update({f"EVO2_SERVICE_{name.upper()}": str(value) for name, value in settings.items()})
    process = subprocess.Popen(
        serve_command(port), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "the server exited"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not come up"
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}", port
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, int]]:
    with make_serve(
        header_timeout_s=HEADER_TIMEOUT_S,
        body_timeout_s=BODY_TIMEOUT_S,
        keep_alive_timeout_s=KEEP_ALIVE_S,
        max_connections=MAX_CONNECTIONS,
    ) as running:
        yield running


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.settimeout(10)
    return sock


def read_answer(sock: socket.socket) -> tuple[int, dict[str, str], Any]:
    """Status, headers and JSON body of the next answer on ``sock`` (by its Content-Length)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"closed without an answer after {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    while len(body) < int(headers["content-length"]):
        body += sock.recv(65536)
    return int(lines[0].split()[1]), headers, json.loads(body)


# --- forwarded headers ---------------------------------------------------------------------------------


def test_make_serve_believes_no_forwarded_for_from_loopback() -> None:
    with make_serve(rate_limit_per_minute=1, rate_limit_burst=2) as (url, _):
        statuses = [
            httpx.get(f"{url}/info", headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code
            for i in range(1, 4)
        ]
    assert statuses == [200, 200, 429]  # one client, one bucket, whatever it claims to be


def test_a_configured_proxy_is_believed() -> None:
    with make_serve(rate_limit_per_minute=1, rate_limit_burst=2, trusted_proxies='["127.0.0.1"]') as (url, _):
        distinct = [
            httpx.get(f"{url}/info", headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code
            for i in range(1, 4)
        ]
        same = [
            httpx.get(f"{url}/info", headers={"X-Forwarded-For": "198.51.100.7"}).status_code
            for _ in range(3)
        ]
    assert distinct == [200, 200, 200]  # each forwarded client has its own bucket
    assert same == [200, 200, 429]


# --- slow clients ----------------------------------------------------------------------------------------


def test_a_client_that_trickles_its_headers_is_answered_408_and_dropped(server: tuple[str, int]) -> None:
    _, port = server
    request = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 20
    socks = [connect(port) for _ in range(MAX_CONNECTIONS - 2)]
    started = time.monotonic()
    for byte in request[:12]:  # a byte every 0.15 s: each one arrives long before any idle timeout
        for sock in socks:
            try:
                sock.send(bytes([byte]))
            except OSError:
                break
        time.sleep(0.15)
    answers = [read_answer(sock) for sock in socks]
    waited = time.monotonic() - started
    for sock in socks:
        sock.close()
    for status, headers, body in answers:
        assert status == 408 and headers["content-type"] == "application/json"
        assert body["error"]["type"] == "request_timeout"
        assert body["error"]["detail"]["waited_for"] == "headers"
    assert waited < 10  # cut at the header deadline, not held for as long as the client likes
    assert httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200


def test_a_connection_that_sends_nothing_is_answered_408(server: tuple[str, int]) -> None:
    _, port = server
    with connect(port) as sock:
        status, _, body = read_answer(sock)
    assert status == 408 and body["error"]["type"] == "request_timeout"


def test_a_client_that_trickles_its_body_is_answered_408(server: tuple[str, int]) -> None:
    _, port = server
    with connect(port) as sock:
        sock.sendall(
            b"POST /score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"sequences": ["AC'
        )
        status, _, body = read_answer(sock)
    assert status == 408
    assert body["error"]["type"] == "request_timeout" and body["error"]["detail"]["waited_for"] == "body"


def test_an_idle_keep_alive_connection_is_closed(server: tuple[str, int]) -> None:
    _, port = server
    with connect(port) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_answer(sock)[0] == 200
        sock.settimeout(KEEP_ALIVE_S + 5)
        started = time.monotonic()
        assert sock.recv(65536) == b""  # closed by the server, not by this client's patience
        assert time.monotonic() - started < KEEP_ALIVE_S + 4


def test_connections_beyond_the_cap_are_answered_503(server: tuple[str, int]) -> None:
    _, port = server
    time.sleep(0.2)  # let the server finish closing the previous tests' connections
    socks = [connect(port) for _ in range(MAX_CONNECTIONS + 3)]
    refused = []
    for sock in socks[MAX_CONNECTIONS:]:
        status, headers, body = read_answer(sock)
        refused.append((status, body["error"]["type"], headers["retry-after"]))
    for sock in socks[:MAX_CONNECTIONS]:  # those within the cap are served
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert read_answer(sock)[0] == 200
    for sock in socks:
        sock.close()
    assert refused == [(503, "overloaded", "1")] * 3


@pytest.mark.parametrize(
    "request_bytes",
    [b"NOT HTTP AT ALL\r\n\r\n", b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 40_000],
    ids=["syntax", "headers_too_large"],
)
def test_unparseable_requests_are_answered_in_the_envelope(
    server: tuple[str, int], request_bytes: bytes
) -> None:
    _, port = server
    with connect(port) as sock:
        sock.sendall(request_bytes)
        status, headers, body = read_answer(sock)
    assert status == 400 and headers["content-type"] == "application/json"
    assert body["error"]["type"] == "invalid_request"
