"""``evo2-variant``: the command line of the Evo 2 variant service.

    evo2-variant health
    evo2-variant info
    evo2-variant score chr17:43119628:T:G "17:43119628 T>A" --genome hg38
    evo2-variant score --input variants.vcf --output scores.tsv      # resumable; rerun to finish

The service is ``--url``, else ``EVO2_SERVICE_URL``, else http://127.0.0.1:8000; the key is
``--api-key``, else ``EVO2_SERVICE_API_KEY``. Exit status: 0 done, 1 an error (the server's message
on standard error, or a variant given on the command line that could not be scored), 2 bad usage,
130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from clients._base import MAX_RETRIES, chunked
from clients.errors import ServiceAPIError
from clients.io import InputRow, ResultWriter, output_format, read_variants, result_record
from clients.models import VariantDeltaResponse, VariantError, VariantResult
from clients.sync import Client

PROG = "evo2-variant"
DEFAULT_BATCH_SIZE = 100


def _connection_options() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("service")
    group.add_argument("--url", help="service base URL (default: $EVO2_SERVICE_URL or http://127.0.0.1:8000)")
    group.add_argument("--api-key", help="API key (default: $EVO2_SERVICE_API_KEY)")
    group.add_argument("--timeout", type=float, help="seconds to wait for an answer (default 600)")
    group.add_argument(
        "--retries",
        type=int,
        default=MAX_RETRIES,
        help=f"retries after a failure (default {MAX_RETRIES})",
    )
    return parent


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Score DNA variants with the Evo 2 service.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    parent = _connection_options()

    health = commands.add_parser("health", parents=[parent], help="is the service up?")
    health.add_argument("--json", action="store_true", help="print the whole answer as JSON")
    health.set_defaults(run=run_health)

    info = commands.add_parser("info", parents=[parent], help="model, calibration, defaults and limits")
    info.set_defaults(run=run_info)

    score = commands.add_parser(
        "score",
        parents=[parent],
        help="delta log-likelihood of variants",
        description="Score variants given as arguments (any notation the service reads, positions "
        "1-based) or read from --input (VCF, or TSV with a 'variant' column, 'chrom/pos/ref/alt' "
        "columns, or one variant per line).",
    )
    score.add_argument("variants", nargs="*", metavar="VARIANT", help="e.g. chr17:43119628:T:G")
    score.add_argument("--genome", help="hg38 (server default) or hg19")
    score.add_argument("--window", type=int, help="window length in bp (even; server default 8192)")
    score.add_argument("--delta-method", choices=["window", "suffix"])
    score.add_argument("--reverse-complement", action="store_true", default=None, help="average both strands")
    score.add_argument(
        "--json", action="store_true", help="JSON instead of a table (JSON Lines with --input)"
    )
    score.add_argument("-i", "--input", type=Path, help="VCF (.vcf, .vcf.gz) or TSV of variants")
    score.add_argument(
        "-o",
        "--output",
        type=Path,
        help="results file: .tsv, or .json/.jsonl (JSON Lines); rows already in it are skipped",
    )
    score.add_argument(
        "--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help="variants per request and checkpoint"
    )
    score.add_argument("--no-progress", action="store_true", help="no progress bar")
    score.set_defaults(run=run_score)

    saturation = commands.add_parser(
        "saturation",
        parents=[parent],
        help="every SNV of a region, drawn as a heatmap",
        description="Score all three alternate alleles at every position of a region (1-based "
        "inclusive, e.g. chr17:43119600-43119699) and draw positions × alleles as a PNG heatmap.",
    )
    saturation.add_argument("region", help="chrom:start-end, 1-based inclusive")
    saturation.add_argument("--genome", help="hg38 (server default) or hg19")
    saturation.add_argument("--window", type=int, help="window length in bp (even; server default 8192)")
    saturation.add_argument("--delta-method", choices=["window", "suffix"])
    saturation.add_argument(
        "--reverse-complement", action="store_true", default=None, help="average both strands"
    )
    saturation.add_argument("--png", type=Path, help="write the heatmap here (needs matplotlib)")
    saturation.add_argument("--json", action="store_true", help="print the whole answer as JSON")
    saturation.set_defaults(run=run_saturation)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "score":
        if bool(args.variants) == bool(args.input):
            parser.error("score: give variants as arguments or --input FILE, not both")
        if args.output and not args.input:
            parser.error("score: --output needs --input")
        if args.batch_size < 1:
            parser.error("score: --batch-size must be at least 1")
    try:
        with Client(args.url, args.api_key, timeout=args.timeout, max_retries=args.retries) as client:
            code: int = args.run(client, args)
            return code
    except ServiceAPIError as exc:
        _print_error(exc)
    except (OSError, ValueError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted (rerun the same command to resume a file)", file=sys.stderr)
        return 130
    return 1


def _print_error(exc: ServiceAPIError) -> None:
    status = f"HTTP {exc.status}" if exc.status is not None else "no response"
    print(f"{PROG}: error: {exc.message}", file=sys.stderr)
    print(f"  ({status}, {exc.type}; request id {exc.request_id})", file=sys.stderr)
    for item in exc.detail.get("errors", []) if isinstance(exc.detail.get("errors"), list) else []:
        if isinstance(item, dict):
            print(f"  {'.'.join(map(str, item.get('loc', [])))}: {item.get('msg')}", file=sys.stderr)


# --- commands ---------------------------------------------------------------------------------------


def run_health(client: Client, args: argparse.Namespace) -> int:
    health = client.health()
    print(health.model_dump_json(indent=2) if args.json else f"{health.status} (model {health.model})")
    return 0


def run_info(client: Client, args: argparse.Namespace) -> int:
    print(client.info().model_dump_json(indent=2))
    return 0


def _options(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "genome": args.genome,
        "window": args.window,
        "delta_method": args.delta_method,
        "reverse_complement": args.reverse_complement,
    }


def run_score(client: Client, args: argparse.Namespace) -> int:
    if args.input is not None:
        return score_file(client, args)
    response = client.variant_delta(list(args.variants), **_options(args))
    print(response.model_dump_json(indent=2) if args.json else format_table(response))
    return 0 if all(isinstance(r, VariantResult) for r in response.results) else 1


def run_saturation(client: Client, args: argparse.Namespace) -> int:
    response = client.saturation(args.region, **_options(args))
    if args.json:
        print(response.model_dump_json(indent=2))
    else:
        cells = [d for row in response.deltas for d in row if d is not None]
        low = min(cells, default=float("nan"))
        print(
            f"{response.region} ({response.genome}): {len(response.positions)} "
            f"positions, {len(cells)} SNVs scored by {response.model}; most negative delta {low:.3e}"
        )
    if args.png is not None:
        from clients.heatmap import render_saturation_png

        path = render_saturation_png(response.model_dump(), args.png)
        print(f"heatmap written to {path}", file=sys.stderr)
    return 0


def format_table(response: VariantDeltaResponse) -> str:
    header = ("variant", "genome", "delta_score", "label", "p_lof", "note")
    rows: list[tuple[str, ...]] = []
    for r in response.results:
        if isinstance(r, VariantError):
            rows.append((r.input, response.genome, "", "", "", f"{r.error.type}: {r.error.message}"))
        else:
            p_lof = "" if r.probability_lof is None else f"{r.probability_lof:.3f}"
            notes = [] if r.variant == r.input else [f"as {r.variant}"]
            if r.context is not None:
                notes.append(f"BRCA1 percentile {r.context.percentile:.1f}")
            label = r.label or f"- ({r.label_reason})"
            rows.append((r.input, r.genome, f"{r.delta_score:+.6f}", label, p_lof, "; ".join(notes)))
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]
    lines = ["  ".join([*(c.ljust(w) for c, w in zip(row, widths, strict=False)), row[-1]]).rstrip()
             for row in [header, *rows]]  # fmt: skip
    lines.append(
        f"model {response.model}, window {response.window} bp; delta = alt - ref mean log-likelihood"
    )
    return "\n".join(lines)


def score_file(client: Client, args: argparse.Namespace) -> int:
    from tqdm import tqdm

    rows = read_variants(args.input)
    writer = ResultWriter(args.output, output_format(args.output, args.json), stream=sys.stdout)
    done = writer.open({row.key: row.text for row in rows})
    try:
        todo = [row for row in rows if row.key not in done]
        counts = {"scored": 0, "errors": 0}
        with tqdm(
            total=len(rows),
            initial=len(rows) - len(todo),
            unit="variant",
            file=sys.stderr,
            disable=True if args.no_progress else None,
        ) as bar:
            for batch in chunked(todo, args.batch_size):
                records = _score_batch(client, batch, _options(args))
                writer.write(records)
                for record in records:
                    counts["errors" if "error" in record else "scored"] += 1
                bar.update(len(batch))
    finally:
        writer.close()
    where = f"{args.output}: " if args.output else ""
    print(
        f"{where}{counts['scored']} scored, {counts['errors']} errors, {len(done)} already done",
        file=sys.stderr,
    )
    return 0


def _score_batch(client: Client, batch: Sequence[InputRow], options: dict[str, Any]) -> list[dict[str, Any]]:
    payloads = [row.payload for row in batch if row.payload is not None]
    outcomes = iter(client.variant_delta(payloads, **options).results if payloads else [])
    return [result_record(row, None if row.payload is None else next(outcomes)) for row in batch]


if __name__ == "__main__":
    sys.exit(main())
