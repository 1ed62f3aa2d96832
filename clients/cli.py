"""``evo2-variant``: the command line of the Evo 2 variant service. Commands mirror the endpoints.

    evo2-variant health                                    # GET /health
    evo2-variant info [--json]                             # GET /info
    evo2-variant variant-delta chr17:43119628:T:G          # POST /variant-delta (alias: score)
    evo2-variant variant-delta -i variants.vcf -o scores.vcf.gz   # a file; rerun to resume
    evo2-variant score-sequences ACGTTGCAAGGCTTAACG        # POST /score
    evo2-variant saturation chr17:43119600-43119699 --png heatmap.png   # POST /saturation
    evo2-variant resolve rs80357906 NM_007294.4:c.5266dupC              # POST /resolve

The service is ``--url``, else ``EVO2_SERVICE_URL``, else http://127.0.0.1:8000; the key is
``--api-key``, else ``EVO2_SERVICE_API_KEY``. Both go before or after the command. Exit status: 0
done, 1 an error (the server's message on standard error, or a variant given on the command line
that could not be scored), 2 bad usage, 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from clients._base import MAX_RETRIES
from clients.batch import score_file
from clients.errors import ServiceAPIError
from clients.models import AlleleResults, InfoResponse, VariantDeltaResponse, VariantError, VariantResult
from clients.sync import Client

PROG = "evo2-variant"
DEFAULT_BATCH_SIZE = 100

_EXAMPLES = {
    "health": """examples:
  evo2-variant health
  evo2-variant --url https://you--evo2-variant-service.modal.run health""",
    "info": "examples:\n  evo2-variant info\n  evo2-variant info --json | jq .limits",
    "variant-delta": """examples:
  evo2-variant variant-delta chr17:43119628:T:G "17:43119628 T>A" --genome GRCh38
  evo2-variant variant-delta chr17:43119628:T:G --window 4096 --delta-method suffix --json
  evo2-variant variant-delta --input variants.vcf --output scores.tsv     # rerun to resume
  evo2-variant variant-delta -i variants.vcf.gz -o scores.vcf.gz          # bgzipped + tabix index

input: VCF (.vcf, .vcf.gz), a TSV with a 'variant' column or 'chrom pos ref alt' columns (optional
'id' and 'genome'), or one variant per line; positions 1-based. output by extension: .tsv, .jsonl
(JSON Lines), .vcf or .vcf.gz (the input's records with EVO2_* INFO fields; VCF input only).""",
    "score-sequences": """examples:
  evo2-variant score-sequences ACGTTGCAAGGCTTAACG
  evo2-variant score-sequences ACGTTGCAAGGCTTAACG GGGCCCAAATTT --reverse-complement --json""",
    "resolve": """examples:
  evo2-variant resolve rs80357906 NM_007294.4:c.5266dupC "BRCA1:c.181T>G" --genome hg38
  evo2-variant resolve NM_007294.4:c.68_69del --json""",
    "saturation": """examples:
  evo2-variant saturation chr17:43119600-43119699
  evo2-variant saturation chr17:43119600-43119699 --png brca1.png --window 4096""",
}


def _connection_options(*, inherited: bool) -> argparse.ArgumentParser:
    """``--url`` and friends; on a command (``inherited``) they default to what came before it."""
    unset = argparse.SUPPRESS if inherited else None
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("service")
    group.add_argument(
        "--url", default=unset, help="service base URL (default: $EVO2_SERVICE_URL or http://127.0.0.1:8000)"
    )
    group.add_argument("--api-key", default=unset, help="API key (default: $EVO2_SERVICE_API_KEY)")
    group.add_argument(
        "--timeout", type=float, default=unset, help="seconds to wait for an answer (default 600)"
    )
    group.add_argument(
        "--retries",
        type=int,
        default=argparse.SUPPRESS if inherited else MAX_RETRIES,
        help=f"retries after a failure (default {MAX_RETRIES})",
    )
    return parent


def _command(
    commands: Any, name: str, parent: argparse.ArgumentParser, help: str, aliases: Sequence[str] = ()
) -> argparse.ArgumentParser:
    return commands.add_parser(  # type: ignore[no-any-return]
        name,
        aliases=list(aliases),
        parents=[parent],
        help=help,
        description=help[0].upper() + help[1:] + ".",
        epilog=_EXAMPLES[name],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _delta_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--genome", help="hg38 or hg19 (GRCh38, GRCh37 too; default: the server's)")
    parser.add_argument("--window", type=int, help="window length in bp (even; default: the server's, 8192)")
    parser.add_argument("--delta-method", choices=["window", "suffix"])
    parser.add_argument(
        "--reverse-complement", action="store_true", default=None, help="average both strands"
    )


def _variant_delta_command(commands: Any, parent: argparse.ArgumentParser) -> None:
    """``variant-delta`` (alias ``score``): variants as arguments or a file."""
    delta = _command(
        commands,
        "variant-delta",
        parent,
        "delta log-likelihood of variants (POST /variant-delta), given as arguments or a file",
        aliases=["score"],
    )
    delta.add_argument("variants", nargs="*", metavar="VARIANT", help="any notation, e.g. chr17:43119628:T:G")
    _delta_options(delta)
    delta.add_argument(
        "--json", action="store_true", help="JSON instead of a table (JSON Lines with --input)"
    )
    delta.add_argument("-i", "--input", type=Path, help="VCF (.vcf, .vcf.gz) or TSV of variants")
    delta.add_argument(
        "-o",
        "--output",
        type=Path,
        help="results: .tsv, .jsonl, .vcf or .vcf.gz; rows already in it are kept",
    )
    delta.add_argument(
        "--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help="variants per request and checkpoint"
    )
    delta.add_argument("--no-progress", action="store_true", help="no progress bar")
    delta.set_defaults(run=run_variant_delta)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Score DNA variants with the Evo 2 service.",
        parents=[_connection_options(inherited=False)],
        epilog="run 'evo2-variant COMMAND --help' for a command's options and examples",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    parent = _connection_options(inherited=True)

    health = _command(commands, "health", parent, "is the service up? (GET /health)")
    health.add_argument("--json", action="store_true", help="print the whole answer as JSON")
    health.set_defaults(run=run_health)

    info = _command(commands, "info", parent, "model, calibration, defaults and limits (GET /info)")
    info.add_argument("--json", action="store_true", help="print the whole document as JSON")
    info.set_defaults(run=run_info)

    _variant_delta_command(commands, parent)

    resolve = _command(
        commands, "resolve", parent, "notations to genomic variants, not scored (POST /resolve)"
    )
    resolve.add_argument("variants", nargs="+", metavar="NOTATION", help="rsID, HGVS, gene:c., or genomic")
    resolve.add_argument("--genome", help="hg38 or hg19 (GRCh38, GRCh37 too; default: the server's)")
    resolve.add_argument("--json", action="store_true", help="print the whole answer as JSON")
    resolve.set_defaults(run=run_resolve)

    sequences = _command(commands, "score-sequences", parent, "log-likelihood of DNA sequences (POST /score)")
    sequences.add_argument("sequences", nargs="+", metavar="SEQUENCE", help="A, C, G, T, N; at least 2 bases")
    sequences.add_argument("--reverse-complement", action="store_true", help="average both strands")
    sequences.add_argument("--per-position", action="store_true", help="per-position log-probs (with --json)")
    sequences.add_argument("--json", action="store_true", help="print the whole answer as JSON")
    sequences.set_defaults(run=run_score_sequences)

    saturation = _command(
        commands, "saturation", parent, "every SNV of a region, drawn as a heatmap (POST /saturation)"
    )
    saturation.add_argument("region", help="chrom:start-end, 1-based inclusive")
    _delta_options(saturation)
    saturation.add_argument("--png", type=Path, help="write the heatmap here (needs matplotlib)")
    saturation.add_argument("--json", action="store_true", help="print the whole answer as JSON")
    saturation.set_defaults(run=run_saturation)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command in ("variant-delta", "score"):
        if bool(args.variants) == bool(args.input):
            parser.error(f"{args.command}: give variants as arguments or --input FILE, not both")
        if args.output and not args.input:
            parser.error(f"{args.command}: --output needs --input")
        if args.batch_size < 1:
            parser.error(f"{args.command}: --batch-size must be at least 1")
    try:
        with Client(args.url, args.api_key, timeout=args.timeout, max_retries=args.retries) as client:
            code: int = args.run(client, args)
            return code
    except ServiceAPIError as exc:
        _print_error(exc)
    except (OSError, ValueError, ImportError) as exc:
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
    info = client.info()
    print(info.model_dump_json(indent=2) if args.json else format_info(info, client.base_url))
    return 0


def format_info(info: InfoResponse, url: str) -> str:
    """A few lines for people: model, calibration, defaults, limits, genome sources, key."""
    model, calibration, d, limits = info.model, info.calibration, info.defaults, info.limits
    labels = "labels on" if calibration.get("usable") else "no labels (uncalibrated)"
    auroc = calibration.get("auroc")
    measured = f", BRCA1 AUROC {auroc:.3f}" if isinstance(auroc, float) else ""
    sources = [s.get("name", "?") for s in info.genome.get("sources", [])]
    return "\n".join(
        [
            f"{info.service} {info.version} at {url}",
            f"model       {model.get('name')} ({model.get('kind') or model.get('backend', '')}); "
            f"{labels}{measured}",
            f"defaults    genome {d.get('genome')}, window {d.get('window')} bp, "
            f"delta_method {d.get('delta_method')}, "
            f"reverse_complement {str(d.get('reverse_complement')).lower()}",
            f"limits      {limits.get('max_variants')} variants per request, windows "
            f"{limits.get('min_window')}-{limits.get('max_window')} bp, saturation up to "
            f"{limits.get('max_saturation_bp')} bp",
            f"genome      {', '.join(sources) or '?'} (asked in this order)",
            f"API key     {'required' if info.auth.get('api_key_required') else 'not required'}",
            "(--json for the full document)",
        ]
    )


def _options(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "genome": args.genome,
        "window": args.window,
        "delta_method": args.delta_method,
        "reverse_complement": args.reverse_complement,
    }


def run_variant_delta(client: Client, args: argparse.Namespace) -> int:
    if args.input is not None:
        return score_file(client, args, _options(args))
    response = client.variant_deltas(list(args.variants), **_options(args))
    print(response.model_dump_json(indent=2) if args.json else format_table(response))
    return 0 if all(isinstance(r, VariantResult | AlleleResults) and r.ok for r in response.results) else 1


def run_resolve(client: Client, args: argparse.Namespace) -> int:
    response = client.resolve(list(args.variants), genome=args.genome)
    if args.json:
        print(response.model_dump_json(indent=2))
    else:
        for item in response.results:
            if isinstance(item, VariantError):
                print(f"{item.input}\terror\t{item.error.type}: {item.error.message}")
                continue
            for r in item.resolutions:
                used = f"{r.transcript} ({r.gene}, {r.selection})" if r.transcript else r.rsid or ""
                allele = f" allele {r.allele}/{r.alleles}" if r.alleles and r.alleles > 1 else ""
                print(f"{item.input}\t{r.variant}\t{response.genome}\t{used}{allele}\t{r.hgvs_g or ''}")
    return 0 if all(not isinstance(r, VariantError) for r in response.results) else 1


def run_score_sequences(client: Client, args: argparse.Namespace) -> int:
    response = client.score(args.sequences, args.per_position, args.reverse_complement)
    if args.json:
        print(response.model_dump_json(indent=2))
        return 0
    print("length  mean_log_likelihood  sum_log_likelihood")
    for s in response.scores:
        print(f"{s.length:>6}  {s.mean_log_likelihood:>19.6f}  {s.sum_log_likelihood:>18.4f}")
    print(f"model {response.model}; mean over the L - 1 predicted bases")
    return 0


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
    header = ("variant", "genome", "delta_score", "label", "probability_lof", "note")
    rows: list[tuple[str, ...]] = []
    flat: list[Any] = []
    for entry in response.results:
        flat.extend(entry.alleles if isinstance(entry, AlleleResults) else [entry])
    for r in flat:
        if isinstance(r, VariantError):
            rows.append((r.input, response.genome, "", "", "", f"{r.error.type}: {r.error.message}"))
        else:
            p_lof = "" if r.probability_lof is None else f"{r.probability_lof:.3f}"
            notes = [] if r.variant == r.input else [f"as {r.variant}"]
            if r.resolution is not None and r.resolution.transcript:
                notes.append(f"on {r.resolution.transcript} ({r.resolution.gene}, {r.resolution.selection})")
            if r.context is not None:
                notes.append(f"BRCA1 percentile {r.context.percentile:.1f}")
            notes += [w.message for w in r.warnings]
            label = r.label or f"- ({r.label_reason})"
            rows.append((r.input, r.genome, f"{r.delta_score:+.6f}", label, p_lof, "; ".join(notes)))
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]
    lines = ["  ".join([*(c.ljust(w) for c, w in zip(row, widths, strict=False)), row[-1]]).rstrip()
             for row in [header, *rows]]  # fmt: skip
    lines.append(
        f"model {response.model}, window {response.window_length} bp; delta = alt - ref mean log-likelihood"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
