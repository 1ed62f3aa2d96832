"""Peak and residual memory of large requests with the tiny Evo 2 model at W = 8,192 (2 CPU cores).

Two requests through the real app in process (bundled hg19 BRCA1 slice, no network):

* ``variants``: one ``POST /variant-delta`` with the first 1,000 Findlay BRCA1 SNVs;
* ``saturation``: one ``POST /saturation`` of 512 positions of BRCA1.

Each runs in a fresh Python process and reports its peak RSS (``ru_maxrss``), its RSS once the model is
loaded and warm, its RSS after the request, and after an explicit ``malloc_trim(0)``. ``--code DIR``
runs the same request against another checkout (e.g. the code before #14, ``git archive``d), and
``--set key=value`` passes settings (``prefix_continuation=false``).

    python bench/memory.py --scenario variants                    # this code, continuation on
    python bench/memory.py --scenario saturation --set prefix_continuation=false
    git archive d46d344 | tar -x -C /tmp/before        # main just before #14 was merged
    python bench/memory.py --scenario variants --code /tmp/before

Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SATURATION = "chr17:41275624-41276135"  # hg19, 512 positions ending at the Findlay table's first SNV


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=["variants", "saturation"], required=True)
    parser.add_argument("--code", type=Path, default=ROOT, help="checkout whose service/ and tests/ to run")
    parser.add_argument("--set", action="append", default=[], help="setting=value (JSON values)")
    parser.add_argument("--variants", type=int, default=1000)
    return parser.parse_args(argv)


def _settings(pairs: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


async def _request(app: Any, path: str, body: dict[str, Any]) -> int:
    import httpx

    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=None) as client:
        response = await client.post(path, json=body)
    return response.status_code


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    sys.path.insert(0, str(args.code.resolve()))
    from service.api.app import create_app
    from service.genome.bundled import BundledGenome
    from service.genome.layered import LayeredGenome
    from service.jobs.benchmark.findlay import load_findlay
    from service.settings import Settings
    from tests.support.evo2_cpu import tiny_scorer

    scorer = tiny_scorer()
    overrides = _settings(args.set)
    settings = Settings(genome_sources=["bundled"], **overrides)
    app = create_app(settings, scorer=scorer, genome=LayeredGenome([BundledGenome()]))
    warm = asyncio.run(_request(app, "/variant-delta", {"variant": "chr17:41276135:T:G", "genome": "hg19"}))
    loaded = rss_mib()
    if args.scenario == "variants":
        notations = [snv.notation for snv in load_findlay()[: args.variants]]
        path, body = "/variant-delta", {"variants": notations, "genome": "hg19"}
    else:
        path, body = "/saturation", {"region": SATURATION, "genome": "hg19"}
    before = scorer.stats.snapshot()
    started = time.perf_counter()
    status = asyncio.run(_request(app, path, body))
    seconds = time.perf_counter() - started
    after = scorer.stats.snapshot()
    rss_after = rss_mib()
    libc = ctypes.CDLL("libc.so.6")
    libc.malloc_trim(0)
    result = {
        "scenario": args.scenario,
        "code": str(args.code),
        "settings": overrides,
        "status": [warm, status],
        "seconds": round(seconds, 1),
        "tokens": int(after["tokens"] - before["tokens"]),
        "windows": int(after["sequences"] - before["sequences"]),
        "rss_loaded_mib": round(loaded),
        "peak_rss_mib": round(peak_mib()),
        "rss_after_mib": round(rss_after),
        "rss_after_trim_mib": round(rss_mib()),
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
