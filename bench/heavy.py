"""The ``heavy`` and ``spread`` scenarios of ``bench/load.py``: one heavy client beside normal traffic.

Not a test: it prints figures. Run it through ``bench/load.py --scenario heavy|spread``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from collections import Counter
from typing import Any

import httpx
import numpy as np

from bench.load import (
    FASTA_START,
    ROOT,
    Connection,
    free_port,
    peak_rss_mib,
    start_server,
    traffic,
    wait_until_up,
)

#: A position whose 65,536-bp window lies inside the bundled hg38 slice (43,040,000-43,130,000).
CENTRE = 43_085_000


def heavy_requests(bases: str) -> list[tuple[str, str, Any]]:
    """A million-item body, the 82-byte /saturation of 268 M model tokens, and a 1,000-variant batch
    at W = 65,536 on both strands (262 M tokens)."""
    ref = bases[CENTRE - FASTA_START]
    variant = f"chr17:{CENTRE}:{ref}:{'A' if ref != 'A' else 'C'}"
    wide = {"window": 65536, "reverse_complement": True}
    return [
        ("1M-item body", "/variant-delta", b'{"variants":[' + b",".join([b"0"] * 1_000_000) + b"]}"),
        (
            "saturation 512 bp, W 65,536, RC",
            "/saturation",
            {"region": f"chr17:{CENTRE}-{CENTRE + 511}", **wide},
        ),
        ("1,000 variants, W 65,536, RC", "/variant-delta", {"variants": [variant] * 1000, **wide}),
    ]


def percentiles(values: list[float]) -> str:
    if not values:
        return "none"
    ms = np.array(values) * 1000
    p50, p99 = np.percentile(ms, [50, 99])
    return f"p50 {p50:.0f} ms, p99 {p99:.0f} ms, max {ms.max():.0f} ms (n = {ms.size})"


Timed = list[tuple[float, float]]  # (when a request started, seconds it took)


async def normal_traffic(port: int, requests: list[tuple[str, str, Any]], clients: int, until: Any) -> Timed:
    """Each request of the normal mix, ``clients`` at a time, until ``until()`` is true."""
    timed: Timed = []

    async def worker(first: int) -> None:
        connection = Connection("127.0.0.1", port)
        index = first
        while not until():
            method, path, body = requests[index % len(requests)]
            index += clients
            started = time.perf_counter()
            try:
                await connection.request(method, path, body)
            except (OSError, asyncio.IncompleteReadError, IndexError, ValueError):
                continue
            timed.append((started, time.perf_counter() - started))
        await connection.close()

    await asyncio.gather(*(worker(i) for i in range(clients)))
    return timed


async def probe_health(port: int, until: Any) -> Timed:
    """Each /health, every 50 ms (a probe with no answer counts until its connection failed)."""
    timed: Timed = []
    connection = Connection("127.0.0.1", port)
    while not until():
        started = time.perf_counter()
        try:
            await connection.request("GET", "/health", None)
        except (OSError, asyncio.IncompleteReadError, IndexError, ValueError):
            connection = Connection("127.0.0.1", port)  # the old one was closed: count it, open another
        timed.append((started, time.perf_counter() - started))
        await asyncio.sleep(0.05)
    await connection.close()
    return timed


async def heavy_client(port: int, bases: str) -> tuple[list[str], tuple[float, float]]:
    """What each heavy request got, and when the heavy client began and ended."""
    lines = []
    began = time.perf_counter()
    for name, path, body in heavy_requests(bases):
        connection = Connection("127.0.0.1", port)
        started = time.perf_counter()
        try:
            status, data = await connection.request("POST", path, body)
            kind = json.loads(data).get("error", {}).get("type", "ok") if status >= 400 else "ok"
            took = time.perf_counter() - started
            lines.append(f"{name}: {status} {kind}, {len(data):,} bytes, {took:.2f} s")
        except (OSError, asyncio.IncompleteReadError, IndexError, ValueError) as exc:
            took = time.perf_counter() - started
            lines.append(f"{name}: no answer ({type(exc).__name__}) after {took:.2f} s")
        await connection.close()
    return lines, (began, time.perf_counter())


async def heavy_phase(port: int, args: argparse.Namespace, bases: str, with_heavy: bool) -> dict[str, Any]:
    requests = traffic(args.requests, bases)
    started = time.monotonic()
    heavy_done = asyncio.Event()
    if not with_heavy:
        heavy_done.set()

    def until() -> bool:
        return time.monotonic() - started >= args.seconds and heavy_done.is_set()

    async def heavy() -> tuple[list[str], tuple[float, float]]:
        await asyncio.sleep(1.0)
        try:
            return await heavy_client(port, bases)
        finally:
            heavy_done.set()

    normal, health, *rest = await asyncio.gather(
        normal_traffic(port, requests, args.clients, until),
        probe_health(port, until),
        *([heavy()] if with_heavy else []),
    )
    lines, window = rest[0] if rest else ([], None)
    return {"normal": normal, "health": health, "heavy": lines, "window": window}


def during(timed: Timed, window: tuple[float, float] | None) -> list[float]:
    """Latencies of the requests in flight at some moment of ``window`` (all of them without one)."""
    if window is None:
        return [seconds for _, seconds in timed]
    begin, end = window
    return [seconds for start, seconds in timed if start <= end and start + seconds >= begin]


def run_heavy(args: argparse.Namespace, bases: str) -> None:
    print(f"\n== scenario heavy: {args.clients} clients of normal traffic for ≥ {args.seconds:g} s per phase")
    for with_heavy in (False, True):
        port = free_port()
        server = start_server(port, 0.0, args.fast_queue, {})
        try:
            result = asyncio.run(heavy_phase(port, args, bases, with_heavy))
            rss = peak_rss_mib(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=60)
        label = "beside the heavy client" if with_heavy else "alone"
        print(f"-- normal traffic {label}: {percentiles(during(result['normal'], None))}")
        print(f"   /health every 50 ms: {percentiles(during(result['health'], None))}")
        if result["window"] is not None:
            begin, end = result["window"]
            print(f"   while the heavy client was being answered ({end - begin:.1f} s):")
            print(f"     normal traffic: {percentiles(during(result['normal'], result['window']))}")
            print(f"     /health: {percentiles(during(result['health'], result['window']))}")
        for line in result["heavy"]:
            print(f"   heavy: {line}")
        print(f"   server peak RSS {rss:.0f} MiB")


def start_standin(port: int, rate: float) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "tests.support.ucsc_server", "--port", str(port), "--synthetic"]
    command += ["--rate", str(rate), "--burst", "5"]
    standin = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/_standin/stats", timeout=1)
            return standin
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit("the stand-in UCSC server did not come up")


def spread_batch() -> list[str]:
    from tests.support.ucsc_server import chromosome_sizes, served_synthetic

    variants: list[str] = []
    for chrom in (f"chr{i}" for i in range(1, 23)):
        for pos in range(500_000, chromosome_sizes()["hg19"][chrom] - 100_000, 1_000_000):
            ref = served_synthetic("hg19", chrom, pos - 1, pos)
            variants.append(f"{chrom}:{pos}:{ref}:{'A' if ref != 'A' else 'C'}")
            if len(variants) == 1000:
                return variants
    raise AssertionError("not enough genome")


def other_variant(i: int) -> dict[str, Any]:
    """A fresh hg38 region each time (chr2, 2 Mb apart): every request of the other client asks UCSC."""
    from tests.support.ucsc_server import served_synthetic

    pos = 10_000_000 + i * 2_000_000
    ref = served_synthetic("hg38", "chr2", pos - 1, pos)
    return {"variant": {"chrom": "chr2", "pos": pos, "ref": ref, "alt": "A" if ref != "A" else "C"}}


async def spread_phase(port: int) -> dict[str, Any]:
    batch_done = asyncio.Event()
    other: list[tuple[float, str]] = []

    async def batch() -> tuple[float, Counter[str]]:
        connection = Connection("127.0.0.1", port)
        started = time.perf_counter()
        status, data = await connection.request(
            "POST", "/variant-delta", {"variants": spread_batch(), "genome": "hg19"}
        )
        wall = time.perf_counter() - started
        batch_done.set()
        await connection.close()
        if status != 200:
            return wall, Counter({f"{status} {json.loads(data)['error']['type']}": 1})
        return wall, Counter(
            r["error"]["type"] if "error" in r else "scored" for r in json.loads(data)["results"]
        )

    async def other_client() -> None:
        await asyncio.sleep(0.5)
        i = 0
        while not batch_done.is_set() or i < 3:
            connection = Connection("127.0.0.1", port)
            started = time.perf_counter()
            status, data = await connection.request("POST", "/variant-delta", other_variant(i))
            kind = "scored" if status == 200 else json.loads(data)["error"]["type"]
            other.append((time.perf_counter() - started, f"{status} {kind}"))
            await connection.close()
            i += 1
            await asyncio.sleep(1.0)

    (wall, outcomes), _ = await asyncio.gather(batch(), other_client())
    return {"wall": wall, "outcomes": outcomes, "other": other}


def run_spread(args: argparse.Namespace, bases: str) -> None:
    standin_port, port = free_port(), free_port()
    standin = start_standin(standin_port, args.ucsc_rate)
    url = f"http://127.0.0.1:{standin_port}"
    server = start_server(
        port, 0.0, args.fast_queue, {"genome_sources": ["bundled", "ucsc"], "ucsc_base_url": url}
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}", server)
        result = asyncio.run(spread_phase(port))
        stats = httpx.get(f"{url}/_standin/stats").json()
        health = httpx.get(f"http://127.0.0.1:{port}/health").json()
    finally:
        server.terminate()
        server.wait(timeout=60)
        standin.terminate()
        standin.wait(timeout=30)
    print(
        f"\n== scenario spread: 1,000 hg19 variants 1 Mb apart; stand-in UCSC bot delay {args.ucsc_rate:g}/s"
    )
    print(f"batch: {result['wall']:.1f} s; answers {dict(result['outcomes'])}")
    print(
        f"UCSC received {stats['sequence_requests']} sequence requests (+{stats['chromosome_requests']} "
        f"chromosome lists), refused {stats['throttled']} (429), at most {stats['max_in_flight']} at once"
    )
    latencies = [seconds for seconds, _ in result["other"]]
    print(f"other client: {percentiles(latencies)}; answers {dict(Counter(a for _, a in result['other']))}")
    [breaker] = [s["breaker"] for s in health["detail"]["genome"]["sources"] if s["name"] == "ucsc"]
    print(
        f"after the batch: /health {health['status']}, breaker {breaker['state']}, "
        f"opened {breaker['times_opened']}×"
    )
