"""Windows scored by an identical ``/saturation`` asked twice (the k-mer model, bundled hg38 BRCA1).

The first request scores every window (one reference and three alternates per position); the second
should score none: reference windows come from the reference cache, alternates from the pair cache.

    python bench/repeat_saturation.py                     # this checkout
    python bench/repeat_saturation.py --code /tmp/before  # another checkout (git archive REV)

Prints one JSON line: the windows each request made the scorer score.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REGION = "chr17:43119565-43119628"  # 64 positions ending at the BRCA1 example variant


async def _windows(app: Any, scorer: Any, region: str) -> list[int]:
    import httpx

    transport = httpx.ASGITransport(app)
    counts = []
    async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=None) as client:
        for _ in range(2):
            before = scorer.stats.snapshot()
            response = await client.post("/saturation", json={"region": region, "genome": "hg38"})
            response.raise_for_status()
            counts.append(int(scorer.stats.snapshot()["sequences"] - before["sequences"]))
    return counts


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--code", type=Path, default=ROOT, help="checkout whose service/ to run")
    parser.add_argument("--region", default=REGION)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(args.code.resolve()))
    from service.api.app import create_app
    from service.scoring.kmer import KmerScorer
    from service.settings import Settings

    scorer = KmerScorer.load()
    app = create_app(Settings(genome_sources=["bundled"]), scorer=scorer)
    first, second = asyncio.run(_windows(app, scorer, args.region))
    result: dict[str, object] = {
        "code": str(args.code),
        "region": args.region,
        "first": first,
        "second": second,
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
