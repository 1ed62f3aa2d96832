"""``python -m service.jobs.bulk IN OUT``: bulk scoring on this machine (``__main__`` calls ``main``)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from clients.files import RunInfo
from service import __version__
from service.compose import build_parts, model_revision
from service.errors import ServiceError
from service.jobs.bulk.score import local_map_fn
from service.jobs.bulk.write import BulkJob
from service.settings import Settings

EXAMPLES = """examples:
  python -m service.jobs.bulk variants.vcf scores.tsv
  python -m service.jobs.bulk variants.vcf.gz scores.vcf.gz --genome GRCh38   # bgzipped + tabix index
  EVO2_SERVICE_FASTA_HG38=/data/hg38.fa python -m service.jobs.bulk big.vcf scores.jsonl

Interrupted? Run the same command again: rows already in the output are kept.
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Score a VCF or TSV on this machine with the model and genome sources the ``EVO2_SERVICE_*``
    settings name (default: the k-mer baseline); one output row per input row, in input order."""
    settings = Settings()
    parser = argparse.ArgumentParser(
        prog="python -m service.jobs.bulk",
        description=main.__doc__,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("input", help="VCF (.vcf, .vcf.gz), TSV, or one variant per line")
    parser.add_argument("output", help="results by extension: .tsv, .jsonl, .vcf or .vcf.gz")
    parser.add_argument(
        "--genome", help=f"hg38 or hg19, GRCh38 or GRCh37 (default {settings.default_genome})"
    )
    parser.add_argument("--window", type=int, default=settings.default_window)
    parser.add_argument("--chunk-rows", type=int, default=settings.bulk_chunk_rows)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)

    parts = build_parts(settings)
    loop = asyncio.new_event_loop()
    try:
        options = parts.engine.options(genome=args.genome or settings.default_genome, window=args.window)
        run = RunInfo(
            model=parts.engine.model,
            revision=model_revision(settings),
            genome=options.genome,
            window=options.window,
            delta_method=options.delta_method,
            reverse_complement=options.reverse_complement,
            version=__version__,
        )
        job = BulkJob.open(
            args.input,
            args.output,
            options,
            run,
            genome_given=args.genome is not None,
            resolver=parts.resolver,
            loop=loop,
        )
        counts = job.run(
            local_map_fn(parts.engine, loop=loop),
            chunk_rows=args.chunk_rows,
            max_span=settings.cluster_max_bp,
            progress=not args.no_progress,
        )
    except (ServiceError, OSError, ValueError, ImportError) as exc:
        print(f"error: {getattr(exc, 'message', exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            f"interrupted: the rows in {args.output} are kept; rerun the same command to go on",
            file=sys.stderr,
        )
        return 130
    finally:
        loop.run_until_complete(parts.resolver.aclose())
        loop.run_until_complete(parts.genome.aclose())
        loop.close()
    print(f"{args.output}: {counts}", file=sys.stderr)
    return 0
