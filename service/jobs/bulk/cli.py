"""``python -m service.jobs.bulk IN OUT``: bulk scoring on this machine (``__main__`` calls ``main``)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from service.compose import build_parts
from service.errors import ServiceError
from service.jobs.bulk.read import read_variants
from service.jobs.bulk.score import local_map_fn, run_bulk
from service.jobs.bulk.write import summary, write_tsv
from service.settings import Settings


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m service.jobs.bulk IN OUT [--genome hg38] [--window 8192]``: score on this machine with
    the model and genome sources the ``EVO2_SERVICE_*`` settings name (default: the k-mer baseline)."""
    settings = Settings()
    parser = argparse.ArgumentParser(prog="python -m service.jobs.bulk", description=main.__doc__)
    parser.add_argument("input", help="VCF or TSV (optionally .gz)")
    parser.add_argument("output", help="output TSV")
    parser.add_argument("--genome", default=settings.default_genome)
    parser.add_argument("--window", type=int, default=settings.default_window)
    parser.add_argument("--chunk-rows", type=int, default=settings.bulk_chunk_rows)
    args = parser.parse_args(argv)

    parts = build_parts(settings)
    try:
        options = parts.engine.options(genome=args.genome, window=args.window)
        rows = read_variants(args.input, genome=options.genome)
    except (ServiceError, OSError) as exc:
        print(f"error: {getattr(exc, 'message', exc)}", file=sys.stderr)
        return 2
    loop = asyncio.new_event_loop()
    try:
        map_fn = local_map_fn(parts.engine, loop=loop)
        results = run_bulk(
            rows, options, map_fn, chunk_rows=args.chunk_rows, max_span=settings.cluster_max_bp
        )
    finally:
        loop.run_until_complete(parts.genome.aclose())
        loop.close()
    write_tsv(results, args.output)
    print(summary(results), file=sys.stderr)
    return 0
