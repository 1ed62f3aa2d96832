"""The 3,893 Findlay BRCA1 SNVs (hg19) through the HTTP API: real uvicorn on 127.0.0.1, kmer scorer,
the stand-in UCSC server (tests/support/ucsc_server.py) as the only genome source.

Two ways a user sends them, each against a fresh app (empty caches):

* ``batch``: ``POST /variant-delta`` with ``variants`` lists of ``max_variants`` (1,000) each;
* ``single``: one variant per request, ``--concurrency`` requests in flight (the micro-batcher merges
  them, the reference-score cache and the region cache serve repeats).

For each: variants/s, UCSC requests, windows scored per variant, scorer calls, and the share of wall
time spent outside the scorer (HTTP, JSON, validation, windows, genome). The client, the server and
the stand-in UCSC server share this one process (and its GIL), so the figures are a floor.

    python bench/api_brca1.py
    python bench/api_brca1.py --concurrency 64 --modes single

Prints a table and, last, one JSON line with every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from service.api.app import create_app  # noqa: E402
from service.jobs.benchmark.findlay import GENOME, load_findlay  # noqa: E402
from service.scoring.kmer import KmerScorer  # noqa: E402
from service.settings import Settings  # noqa: E402
from tests.support.ucsc_server import SEQUENCE, UcscServer  # noqa: E402


class LiveServer:
    """uvicorn serving ``app`` on a free loopback port, in a thread."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


async def send_batches(url: str, variants: list[str], size: int) -> list[float]:
    latencies = []
    async with httpx.AsyncClient(base_url=url, timeout=600) as client:
        for i in range(0, len(variants), size):
            started = time.perf_counter()
            response = await client.post(
                "/variant-delta", json={"variants": variants[i : i + size], "genome": GENOME}
            )
            latencies.append(time.perf_counter() - started)
            response.raise_for_status()
            assert all("delta_score" in r for r in response.json()["results"])
    return latencies


async def send_singles(url: str, variants: list[str], concurrency: int) -> list[float]:
    latencies: list[float] = []
    queue = list(reversed(variants))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def worker(client: httpx.AsyncClient) -> None:
        while queue:
            variant = queue.pop()
            started = time.perf_counter()
            response = await client.post("/variant-delta", json={"variant": variant, "genome": GENOME})
            latencies.append(time.perf_counter() - started)
            response.raise_for_status()

    async with httpx.AsyncClient(base_url=url, timeout=600, limits=limits) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    return latencies


def run_mode(mode: str, server: UcscServer, variants: list[str], args: argparse.Namespace) -> dict[str, Any]:
    scorer = KmerScorer.load()
    settings = Settings(
        genome_sources=["ucsc"], ucsc_base_url=server.url, max_queue=max(64, args.concurrency)
    )
    app = create_app(settings, scorer=scorer)
    before_seq, before_all = server.count(SEQUENCE), server.count()
    with LiveServer(app) as live:
        scorer_before = scorer.stats.snapshot()
        wall, cpu = time.perf_counter(), time.process_time()
        if mode == "batch":
            latencies = asyncio.run(send_batches(live.url, variants, settings.max_variants))
        else:
            latencies = asyncio.run(send_singles(live.url, variants, args.concurrency))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        stats = scorer.stats.snapshot()
        runner = app.state.parts.runner.describe()
    model_s = stats["seconds"] - scorer_before["seconds"]
    windows = stats["sequences"] - scorer_before["sequences"]
    n = len(variants)
    ordered = sorted(latencies)
    return {
        "mode": mode,
        "requests": len(latencies),
        "variants": n,
        "wall_s": round(wall, 3),
        "process_cpu_s": round(cpu, 3),
        "variants_per_s": round(n / wall, 1),
        "ucsc_sequence_requests": server.count(SEQUENCE) - before_seq,
        "ucsc_other_requests": server.count() - before_all - (server.count(SEQUENCE) - before_seq),
        "windows_per_variant": round(windows / n, 4),
        "scorer_calls": int(runner["batches"]),
        "merged_scorer_calls": int(runner["merged_batches"]),
        "scorer_s": round(model_s, 3),
        "outside_scorer_share": round(1 - model_s / wall, 4),
        "outside_scorer_ms_per_variant": round(1000 * (wall - model_s) / n, 3),
        "latency_p50_ms": round(1000 * statistics.median(ordered), 2),
        "latency_p95_ms": round(1000 * ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 2),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--modes", default="batch,single")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight (single mode)")
    args = parser.parse_args(argv)
    variants = [snv.notation for snv in load_findlay()]
    report: dict[str, Any] = {"cpu_count": os.cpu_count(), "load_average_start": os.getloadavg()}
    with UcscServer() as server:
        for mode in args.modes.split(","):
            report[mode] = run_mode(mode.strip(), server, variants, args)
    report["load_average_end"] = os.getloadavg()
    keys = [k for k in report[args.modes.split(",")[0].strip()] if k != "mode"]
    modes = [m.strip() for m in args.modes.split(",")]
    print(f"{len(variants):,} BRCA1 SNVs through uvicorn on 127.0.0.1 (kmer, stand-in UCSC)")
    print(f"{'':32}" + "".join(f"{m:>14}" for m in modes))
    for key in keys:
        print(f"{key:32}" + "".join(f"{report[m][key]!s:>14}" for m in modes))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
