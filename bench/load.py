"""Bounded load benchmark over a real uvicorn on 127.0.0.1 (not a test: it prints figures).

For each scenario a server process runs the real app (k-mer scorer, bundled BRCA1 reference); many
concurrent HTTP clients in this process send a mix of requests (single variants at distinct positions,
small batches, /score, /health) and every answer is accounted for. Printed per scenario: requests sent
and answered (lost = sent - answered), wall time, throughput, latency percentiles, answers by status and
error type, peak RSS of the server, and a few of the server's own /metrics.

Scenarios: ``fast`` (the k-mer scorer as it is) and ``slow`` (each model call takes ``--slow-ms`` more,
with a small ``--max-queue``: the service must shed load with 503 overloaded, nothing else).

Two more put one heavy client beside normal traffic (``bench/heavy.py``):

* ``heavy``: normal traffic for ``--seconds``, once alone and once (on a fresh server) beside one client
  that sends a 2 MB body of a million list items, an 82-byte /saturation that would cost 268 M model
  tokens and a 1,000-variant batch at W = 65,536 on both strands; printed: p99 of the normal traffic
  with and without, /health latency (probed every 50 ms), what each heavy request got, server peak RSS;
* ``spread``: the server's genome sources are the bundled slices and a stand-in UCSC (in its own
  process, with a bot delay of ``--ucsc-rate`` requests/s); one client sends 1,000 hg19 variants 1 Mb
  apart while another asks for one variant elsewhere every second; printed: requests UCSC received,
  how many it refused (429), the other client's latencies and answers, the batch's answers.

    .venv/bin/python bench/load.py                       # fast and slow, 200 clients, 3000 requests
    .venv/bin/python bench/load.py --scenario slow --clients 100 --requests 1000 --slow-ms 50
    .venv/bin/python bench/load.py --scenario heavy --clients 20
    .venv/bin/python bench/load.py --scenario spread
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

FASTA = ROOT / "service/data/genome/hg38_chr17_43040000-43130000.fa"
FASTA_START = 43_040_000  # 1-based position of the slice's first base (header chr17:43040000-43130000)


# --- the server (child process) ------------------------------------------------------------------------


def serve(port: int, slow_ms: float, max_queue: int, extra: dict[str, Any]) -> None:
    import uvicorn

    from service.api.app import create_app
    from service.api.logs import configure_logging
    from service.scoring.kmer import KmerScorer
    from service.settings import Settings
    from tests.support.slow_scorer import SlowScorer

    scorer: Any = KmerScorer.load()
    if slow_ms > 0:
        scorer = SlowScorer(scorer, slow_ms / 1000)
    options = {"genome_sources": ["bundled"], "max_queue": max_queue, "queue_retry_after_s": 1, **extra}
    app = create_app(Settings(**options), scorer=scorer)
    configure_logging("ERROR")  # JSON lines; shed load (503, a warning) is counted by the client instead
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# --- the clients (this process) ------------------------------------------------------------------------


def reference() -> str:
    lines = FASTA.read_text().splitlines()
    return "".join(line.strip() for line in lines[1:]).upper()


def traffic(count: int, bases: str) -> list[tuple[str, str, Any]]:
    def snv(pos: int) -> str:
        ref = bases[pos - FASTA_START]
        return f"chr17:{pos}:{ref}:{next(b for b in 'ACGT' if b != ref)}"

    requests: list[tuple[str, str, Any]] = []
    for i in range(count):
        pos = 43_045_000 + (i * 797) % 80_000
        kind = i % 10
        if kind < 6:
            requests.append(("POST", "/variant-delta", {"variant": snv(pos)}))
        elif kind < 8:
            requests.append(
                ("POST", "/variant-delta", {"variants": [snv(pos), snv(pos + 11), snv(pos + 23)]})
            )
        elif kind == 8:
            requests.append(("POST", "/score", {"sequences": ["ACGT" * 250, "GATTACA" * 40]}))
        else:
            requests.append(("GET", "/health", None))
    return requests


class Connection:
    """A minimal HTTP/1.1 keep-alive client: far cheaper per request than a full client library, so the
    figures are the server's, not the load generator's (both share this machine's cores)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: Any) -> tuple[int, bytes]:
        """``body``: JSON-encoded, or sent as it is when ``bytes``."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        payload = b"" if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Length: {len(payload)}\r\n"
        if body is not None:
            head += "Content-Type: application/json\r\n"
        try:
            self.writer.write(head.encode() + b"\r\n" + payload)
            await self.writer.drain()
            status = int((await self.reader.readline()).split()[1])
            length, close = 0, False
            while (line := await self.reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
                elif name.lower() == "connection" and value.strip().lower() == "close":
                    close = True
            data = await self.reader.readexactly(length)
        except (OSError, asyncio.IncompleteReadError, IndexError, ValueError):
            await self.close()
            raise
        if close:
            await self.close()
        return status, data

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
            self.writer = self.reader = None


async def drive(port: int, requests: list[tuple[str, str, Any]], clients: int) -> dict[str, Any]:
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    answered = 0

    async def worker(first: int) -> None:
        nonlocal answered
        connection = Connection("127.0.0.1", port)
        for index in range(first, len(requests), clients):
            method, path, body = requests[index]
            started = time.perf_counter()
            try:
                status, data = await connection.request(method, path, body)
            except (OSError, asyncio.IncompleteReadError, IndexError, ValueError) as exc:
                outcomes[f"transport:{type(exc).__name__}"] += 1
                continue
            latencies.append(time.perf_counter() - started)
            answered += 1
            kind = json.loads(data).get("error", {}).get("type", "?") if status >= 400 else "ok"
            outcomes[f"{status} {kind}"] += 1
        await connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(clients)))
    wall = time.perf_counter() - started
    _, metrics = await Connection("127.0.0.1", port).request("GET", "/metrics", None)
    return {
        "latencies": latencies,
        "outcomes": outcomes,
        "answered": answered,
        "wall": wall,
        "metrics": metrics.decode(),
    }


def metric(text: str, name: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_server(port: int, slow_ms: float, max_queue: int, extra: dict[str, Any]) -> subprocess.Popen[bytes]:
    command = [sys.executable, __file__, "--serve", str(port), "--slow-ms", str(slow_ms)]
    command += ["--max-queue", str(max_queue), "--settings", json.dumps(extra)]
    server = subprocess.Popen(command, cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    wait_until_up(f"http://127.0.0.1:{port}", server)
    return server


def wait_until_up(base_url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}")
        try:
            if httpx.get(base_url + "/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("the server did not come up within 60 s")


def run_scenario(name: str, args: argparse.Namespace, bases: str) -> None:
    slow_ms = args.slow_ms if name == "slow" else 0.0
    max_queue = args.max_queue if name == "slow" else args.fast_queue
    port = free_port()
    server = start_server(port, slow_ms, max_queue, {})
    try:
        requests = traffic(args.requests, bases)
        server_cpu_before = cpu_seconds(server.pid)
        client_cpu_before = time.process_time()
        result = asyncio.run(drive(port, requests, args.clients))
        client_cpu = time.process_time() - client_cpu_before
        rss = peak_rss_mib(server.pid)
        server_cpu = cpu_seconds(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    lat = np.array(result["latencies"]) * 1000
    sent, answered = len(requests), result["answered"]
    text = result["metrics"]
    batches = metric(text, "evo2_model_batch_sequences_count")
    print(f"\n== scenario {name}: {args.clients} clients, {sent} requests", end="")
    print(
        f" (model +{slow_ms:g} ms per call, max_queue {max_queue})"
        if slow_ms
        else f" (max_queue {max_queue})"
    )
    print(f"answered {answered} / {sent}; lost {sent - answered}")
    print(f"wall {result['wall']:.2f} s; throughput {answered / result['wall']:.0f} req/s")
    if lat.size:
        p50, p90, p99 = np.percentile(lat, [50, 90, 99])
        print(f"latency ms: p50 {p50:.1f}  p90 {p90:.1f}  p99 {p99:.1f}  max {lat.max():.1f}")
    for outcome, count in sorted(result["outcomes"].items()):
        print(f"  {outcome:<32} {count}")
    client_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"server peak RSS {rss:.0f} MiB; client peak RSS {client_rss:.0f} MiB")
    print(f"CPU during the run: server {server_cpu - server_cpu_before:.1f} s, clients {client_cpu:.1f} s")
    windows = metric(text, "evo2_scorer_sequences_total")
    mean_batch = metric(text, "evo2_model_batch_sequences_sum") / max(batches, 1)
    model_s = metric(text, "evo2_model_seconds_total")
    print(
        f"server /metrics: {windows:.0f} windows scored in {batches:.0f} model calls "
        f"(mean batch {mean_batch:.1f}), model {model_s:.2f} s"
    )
    summary = {"scenario": name, "sent": sent, "answered": answered, "outcomes": dict(result["outcomes"])}
    print("json:", json.dumps(summary, sort_keys=True))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=["fast", "slow", "both", "heavy", "spread"], default="both")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument(
        "--slow-ms", type=float, default=20.0, help="Added to every model call (slow scenario)."
    )
    parser.add_argument("--max-queue", type=int, default=16, help="Model queue bound (slow scenario).")
    parser.add_argument(
        "--fast-queue",
        type=int,
        default=256,
        help="Model queue bound (fast scenario; the default 64 sheds load).",
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="Normal traffic per phase (heavy).")
    parser.add_argument("--ucsc-rate", type=float, default=1.0, help="The stand-in's bot delay (spread).")
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--settings", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve is not None:
        serve(args.serve, args.slow_ms, args.max_queue, json.loads(args.settings))
        return
    bases = reference()
    if args.scenario in ("heavy", "spread"):
        from bench.heavy import run_heavy, run_spread

        (run_heavy if args.scenario == "heavy" else run_spread)(args, bases)
        return
    for name in ("fast", "slow") if args.scenario == "both" else (args.scenario,):
        run_scenario(name, args, bases)


if __name__ == "__main__":
    main()
