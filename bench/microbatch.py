"""Concurrent single-variant requests with and without the micro-batcher, tiny Evo 2 model on the CPU.

``--variants`` requests, one SNV each at distinct BRCA1 positions (hg19, bundled genome: no network, no
shared reference windows), all sent at once through the real app in process (httpx ASGI transport).

* ``off``: ``batch_max_tokens=0``: every request is its own scorer call (ref + alt: one forward pass
  of batch 2), one after another; this is the runner before the micro-batcher.
* ``on``: ``batch_wait_ms`` / ``batch_max_tokens`` as configured: requests in flight are merged into
  scorer calls of up to ``batch_max_tokens`` bases, cut by the scorer into forward passes of up to
  ``--max-batch-tokens`` (Evo2Scorer).

Same scorer object for both; the sides alternate over ``--rounds``. Forward passes dominate with the
tiny model, so the figures show what merging buys when the model is the bottleneck. On a CPU a
larger batch is barely cheaper per window than batch 1; on a GPU it is (bench/gpu_evo2_7b.py).

    python bench/microbatch.py                  # 32 requests, W = 8,192, 2 rounds (~3 min on 2 cores)
    python bench/microbatch.py --window 2048 --variants 64

Prints a table and, last, one JSON line with every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from service.api.app import create_app  # noqa: E402
from service.genome.bundled import BundledGenome  # noqa: E402
from service.genome.layered import LayeredGenome  # noqa: E402
from service.jobs.benchmark.findlay import GENOME, load_findlay  # noqa: E402
from service.scoring.evo2 import Evo2Scorer  # noqa: E402
from service.settings import Settings  # noqa: E402


def distinct_position_snvs(count: int) -> list[str]:
    seen: set[int] = set()
    out = []
    for snv in load_findlay():
        if snv.pos not in seen:
            seen.add(snv.pos)
            out.append(snv.notation)
        if len(out) == count:
            break
    return out


async def fire(app: Any, variants: list[str], window: int) -> list[float]:
    async def one(client: httpx.AsyncClient, variant: str) -> float:
        started = time.perf_counter()
        response = await client.post(
            "/variant-delta", json={"variant": variant, "genome": GENOME, "window": window}
        )
        response.raise_for_status()
        return time.perf_counter() - started

    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=3600) as client:
        return list(await asyncio.gather(*(one(client, v) for v in variants)))


def run_side(mode: str, scorer: Evo2Scorer, variants: list[str], args: argparse.Namespace) -> dict[str, Any]:
    merging = {"batch_max_tokens": 0} if mode == "off" else {"batch_wait_ms": args.wait_ms}
    settings = Settings(genome_sources=["bundled"], max_queue=max(64, len(variants)), **merging)
    app = create_app(settings, scorer=scorer, genome=LayeredGenome([BundledGenome()]))
    before = scorer.stats.snapshot()
    wall = time.perf_counter()
    latencies = asyncio.run(fire(app, variants, args.window))
    wall = time.perf_counter() - wall
    after = scorer.stats.snapshot()
    runner = app.state.parts.runner.describe()
    windows = int(after["sequences"] - before["sequences"])
    model_s = after["seconds"] - before["seconds"]
    return {
        "wall_s": round(wall, 3),
        "variants_per_s": round(len(variants) / wall, 3),
        "forward_passes": int(after["forward_passes"] - before["forward_passes"]),
        "scorer_calls": int(runner["batches"]),
        "windows": windows,
        "model_s": round(model_s, 3),
        "model_s_per_window": round(model_s / windows, 4),
        "latency_mean_s": round(statistics.mean(latencies), 3),
        "latency_max_s": round(max(latencies), 3),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", type=int, default=32)
    parser.add_argument("--window", type=int, default=8192)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--wait-ms", type=float, default=5.0)
    parser.add_argument("--max-batch-tokens", type=int, default=65536, help="Evo2Scorer forward-pass size")
    args = parser.parse_args(argv)

    from tests.support.evo2_cpu import tiny_scorer

    scorer = tiny_scorer(max_batch_tokens=args.max_batch_tokens)
    scorer.log_probs(["ACGT" * (args.window // 4)])  # warm-up
    variants = distinct_position_snvs(args.variants)
    report: dict[str, Any] = {
        "cpu_count": os.cpu_count(),
        "load_average_start": os.getloadavg(),
        "variants": len(variants),
        "window": args.window,
        "max_batch_tokens": args.max_batch_tokens,
        "rounds": {"off": [], "on": []},
    }
    for r in range(args.rounds):
        for mode in ("off", "on") if r % 2 == 0 else ("on", "off"):
            report["rounds"][mode].append(run_side(mode, scorer, variants, args))
    report["load_average_end"] = os.getloadavg()
    best = {mode: min(runs, key=lambda run: run["wall_s"]) for mode, runs in report["rounds"].items()}
    report["best"] = best
    report["throughput_ratio"] = round(best["on"]["variants_per_s"] / best["off"]["variants_per_s"], 3)
    print(
        f"{len(variants)} concurrent single-SNV requests, tiny Evo 2, W = {args.window:,}, "
        f"forward passes ≤ {args.max_batch_tokens:,} tokens (best of {args.rounds} rounds)"
    )
    print(f"{'':24}{'off':>12}{'on':>12}")
    for key in best["off"]:
        print(f"{key:24}{best['off'][key]!s:>12}{best['on'][key]!s:>12}")
    print(f"throughput on / off: {report['throughput_ratio']:.3f}")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
