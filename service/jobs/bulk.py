"""Bulk scoring of a VCF or TSV file: read, chunk, score (in-process or fanned out), write one TSV.

The same code serves the Modal fan-out (``modal run modal_deploy.py::score_variants``) and a laptop
(``python -m service.jobs.bulk in.vcf out.tsv`` with the k-mer scorer): :func:`run_bulk` takes a ``map_fn``
that scores a list of :class:`Chunk` s, either over GPU containers (Modal's ``.map``) or here
(:func:`local_map_fn`).

* Input: a VCF (``#CHROM POS ID REF ALT ...``; multi-allelic ALT split into one row per allele) or a
  TSV with a header holding either a ``variant`` column in any notation ``parse_variant`` accepts, or
  ``chrom``, ``pos``, ``ref``, ``alt`` columns (``ref`` may be empty or ``.``), plus optional ``id`` and
  ``genome`` columns. Positions are 1-based.
* Every input row gives exactly one output row, in input order: a malformed line, a reference
  mismatch, an unknown chromosome or a failed chunk becomes a row with ``status=error`` and the
  error's type and message. Nothing is dropped.
* Chunks keep nearby variants (same genome and chromosome, closer than a window plus the longest
  allele) together, so each region of the genome is fetched by one container, once.
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import gzip
import io
import math
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from service.coords import MAX_ALLELE_LENGTH, Variant, check_genome, make_variant, parse_variant
from service.domain.calibration import Calibration
from service.domain.delta import DeltaEngine, DeltaOptions, DeltaResult
from service.errors import InvalidRequest, InvalidVariant, LimitExceeded, ServiceError

#: Output columns, in order. ``region`` is 1-based inclusive (``chr17:43115533-43123724``).
COLUMNS: tuple[str, ...] = (
    "line",
    "id",
    "input",
    "genome",
    "variant",
    "chrom",
    "pos",
    "ref",
    "alt",
    "kind",
    "region",
    "window_length",
    "ref_score",
    "alt_score",
    "delta_score",
    "label",
    "probability_lof",
    "confidence",
    "model",
    "status",
    "error_type",
    "error_message",
)

DEFAULT_CHUNK_ROWS = 200
#: Largest genome stretch one cluster may cover (the app's ``cluster_max_bp`` default).
DEFAULT_MAX_SPAN = 1_000_000
MIN_WINDOW = 128
MAX_WINDOW = 65_536


@dataclass(frozen=True)
class BulkRow:
    """One input row (one allele of a VCF line). Picklable: it travels to GPU containers."""

    #: 0-based position in the input (the output order).
    index: int
    #: 1-based line number in the file.
    line: int
    id: str
    #: The variant as written (``chrom:pos:ref:alt`` for VCF and column TSVs).
    input: str
    genome: str
    variant: Variant | None
    #: The parse error (``ServiceError.to_dict()``) when ``variant`` is None.
    error: dict[str, Any] | None = None


@dataclass(frozen=True)
class Chunk:
    """Rows scored together by one container call (one genome; nearby variants kept together)."""

    rows: tuple[BulkRow, ...]
    options: DeltaOptions


@dataclass(frozen=True)
class BulkResult:
    row: BulkRow
    values: dict[str, Any]

    @property
    def ok(self) -> bool:
        return self.values.get("status") == "ok"


#: Scores chunks; yields, in chunk order, each chunk's results or the exception that chunk raised.
MapFn = Callable[[list[Chunk]], Iterable["list[BulkResult] | BaseException"]]


# --------------------------------------------------------------------------------------------- reading


def _error_dict(exc: ServiceError) -> dict[str, Any]:
    return exc.to_dict()


def _bad_row(index: int, line: int, id_: str, text: str, genome: str, exc: ServiceError) -> BulkRow:
    return BulkRow(index, line, id_, text, genome, None, _error_dict(exc))


def read_vcf(lines: Iterable[str], *, genome: str = "hg38", start_line: int = 1) -> list[BulkRow]:
    """Rows of a VCF: header lines skipped, one row per ALT allele, malformed lines as error rows."""
    genome = check_genome(genome)
    rows: list[BulkRow] = []
    for number, raw in enumerate(lines, start=start_line):
        text = raw.rstrip("\r\n")
        if not text.strip() or text.startswith("#"):
            continue
        fields = text.split("\t")
        if len(fields) < 5:
            fields = text.split()
        if len(fields) < 5:
            exc = InvalidVariant(
                f"line {number}: a VCF record needs CHROM, POS, ID, REF and ALT; found {len(fields)} fields",
                detail={"line": number},
            )
            rows.append(_bad_row(len(rows), number, "", text[:200], genome, exc))
            continue
        chrom, pos_text, id_, ref, alts = (f.strip() for f in fields[:5])
        id_ = "" if id_ == "." else id_
        for alt in alts.split(","):
            shown = f"{chrom}:{pos_text}:{ref}:{alt}"
            try:
                if not pos_text.isdigit() or len(pos_text) > 10:
                    raise InvalidVariant(f"line {number}: POS {pos_text!r} is not a 1-based integer")
                variant = make_variant(chrom, int(pos_text), ref, alt, genome=genome)
            except ServiceError as exc:
                rows.append(_bad_row(len(rows), number, id_, shown, genome, exc))
                continue
            rows.append(BulkRow(len(rows), number, id_, shown, genome, variant))
    return rows


_ALIASES = {
    "variant": ("variant", "variants", "variant_id", "hgvs"),
    "chrom": ("chrom", "chr", "chromosome", "#chrom", "contig"),
    "pos": ("pos", "position", "start"),
    "ref": ("ref", "reference"),
    "alt": ("alt", "alternative", "alternate"),
    "id": ("id", "name", "#id"),
    "genome": ("genome", "assembly", "build"),
}


def _columns(header: list[str]) -> dict[str, int]:
    lowered = [h.strip().lower().lstrip("#") for h in header]
    found: dict[str, int] = {}
    for key, names in _ALIASES.items():
        for i, name in enumerate(lowered):
            if name in {n.lstrip("#") for n in names}:
                found[key] = i
                break
    if "variant" not in found and not {"chrom", "pos", "alt"} <= found.keys():
        raise InvalidRequest(
            "the TSV header needs a 'variant' column or 'chrom', 'pos', 'ref' and 'alt' columns; "
            f"found: {', '.join(h.strip() for h in header)}",
            detail={"header": header},
        )
    return found


def read_tsv(lines: Iterable[str], *, genome: str = "hg38", start_line: int = 1) -> list[BulkRow]:
    """Rows of a TSV with a header (see the module docstring); comment lines after it are skipped."""
    genome = check_genome(genome)
    rows: list[BulkRow] = []
    columns: dict[str, int] | None = None
    width = 0
    for number, raw in enumerate(lines, start=start_line):
        text = raw.rstrip("\r\n")
        if not text.strip():
            continue
        if columns is None:
            header = text.split("\t")
            columns = _columns(header)
            width = len(header)
            continue
        if text.startswith("#"):
            continue
        fields = text.split("\t")
        cell = {key: fields[i].strip() if i < len(fields) else "" for key, i in columns.items()}
        id_ = cell.get("id", "")
        if "variant" in columns:
            shown = cell["variant"]
        else:
            shown = ":".join(cell.get(k, "") for k in ("chrom", "pos", "ref", "alt"))
        row_genome = genome
        try:
            if len(fields) != width:
                raise InvalidVariant(
                    f"line {number}: {len(fields)} fields where the header has {width}",
                    detail={"line": number},
                )
            if cell.get("genome"):
                row_genome = check_genome(cell["genome"])
            if "variant" in columns:
                variant = parse_variant(shown, genome=row_genome)
            else:
                pos_text = cell["pos"]
                if not pos_text.isdigit() or len(pos_text) > 10:
                    raise InvalidVariant(f"line {number}: position {pos_text!r} is not a 1-based integer")
                ref = cell.get("ref", "")
                variant = make_variant(
                    cell["chrom"],
                    int(pos_text),
                    None if ref in ("", ".") else ref,
                    cell["alt"],
                    genome=row_genome,
                )
        except ServiceError as exc:
            rows.append(_bad_row(len(rows), number, id_, shown, row_genome, exc))
            continue
        rows.append(BulkRow(len(rows), number, id_, shown, row_genome, variant))
    if columns is None:
        raise InvalidRequest("the TSV is empty (no header line)")
    return rows


def _open_text(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8")
    return path.open(encoding="utf-8")


def read_variants(path: str | Path, *, genome: str = "hg38") -> list[BulkRow]:
    """Read a VCF (``.vcf``, ``.vcf.gz`` or a ``##fileformat=VCF`` first line) or a TSV."""
    path = Path(path)
    with _open_text(path) as handle:
        lines = handle.readlines()
    first = next((line for line in lines if line.strip()), "")
    is_vcf = path.name.lower().endswith((".vcf", ".vcf.gz")) or first.startswith("##fileformat=VCF")
    return read_vcf(lines, genome=genome) if is_vcf else read_tsv(lines, genome=genome)


# -------------------------------------------------------------------------------------------- chunking


def check_window(window: int) -> int:
    if window % 2 or not MIN_WINDOW <= window <= MAX_WINDOW:
        raise LimitExceeded(
            f"window must be an even number of bp from {MIN_WINDOW} to {MAX_WINDOW}, got {window}",
            detail={"window": window},
        )
    return window


def clusters(
    rows: Sequence[BulkRow], *, window: int, max_span: int = DEFAULT_MAX_SPAN
) -> list[list[BulkRow]]:
    """Scorable rows grouped by genome and chromosome into runs of nearby positions, sorted.

    Two variants further apart than ``window + 2 * MAX_ALLELE_LENGTH`` read disjoint bases, so
    separate clusters never fetch the same region.
    """
    gap = window + 2 * MAX_ALLELE_LENGTH
    scorable = sorted(
        (r for r in rows if r.variant is not None),
        key=lambda r: (r.genome, r.variant.chrom, r.variant.pos, r.index) if r.variant else (),
    )
    out: list[list[BulkRow]] = []
    for row in scorable:
        assert row.variant is not None
        if out:
            last = out[-1][-1]
            first = out[-1][0]
            assert last.variant is not None and first.variant is not None
            if (
                last.genome == row.genome
                and last.variant.chrom == row.variant.chrom
                and row.variant.pos - last.variant.pos <= gap
                and row.variant.pos - first.variant.pos <= max_span
            ):
                out[-1].append(row)
                continue
        out.append([row])
    return out


def _split(cluster: list[BulkRow], size: int) -> list[list[BulkRow]]:
    """Pieces of at most ``size`` rows, cut only where the position changes (so alleles at one
    position share their reference window); a position with more alleles than ``size`` stays whole."""
    pieces: list[list[BulkRow]] = [[]]
    for row in cluster:
        piece = pieces[-1]
        if len(piece) >= size and _pos(piece[-1]) != _pos(row):
            pieces.append([])
        pieces[-1].append(row)
    return pieces


def _pos(row: BulkRow) -> int:
    assert row.variant is not None
    return row.variant.pos


def make_chunks(
    rows: Sequence[BulkRow],
    options: DeltaOptions,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    max_span: int = DEFAULT_MAX_SPAN,
) -> list[Chunk]:
    """Pack clusters into chunks of at most ``chunk_rows`` rows (one genome per chunk).

    A cluster goes whole into one chunk when it fits; a cluster longer than ``chunk_rows`` is cut
    into consecutive pieces (each piece then fetches its own stretch, overlapping its neighbour by
    at most one window). Rows that failed to parse are not chunked.
    """
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be at least 1")
    chunks: list[Chunk] = []
    current: list[BulkRow] = []

    def flush() -> None:
        if current:
            chunks.append(Chunk(tuple(current), dataclasses.replace(options, genome=current[0].genome)))
            current.clear()

    for cluster in clusters(rows, window=options.window, max_span=max_span):
        for piece in _split(cluster, chunk_rows) if len(cluster) > chunk_rows else [cluster]:
            if current and (current[0].genome != piece[0].genome or len(current) + len(piece) > chunk_rows):
                flush()
            current.extend(piece)
    flush()
    return chunks


# ------------------------------------------------------------------------------------------- scoring


def ok_result(
    row: BulkRow,
    outcome: DeltaResult,
    model: str,
    calibration: Calibration | None,
    options: DeltaOptions,
) -> BulkResult:
    w = outcome.windows
    variant = w.variant
    label = (
        calibration.label(
            outcome.delta,
            window=options.window,
            delta_method=options.delta_method,
            reverse_complement=options.reverse_complement,
        )
        if calibration is not None
        else None
    )
    values = {
        **_base(row),
        "variant": str(variant),
        "chrom": variant.chrom,
        "pos": variant.pos,
        "ref": variant.ref,
        "alt": variant.alt,
        "kind": variant.kind,
        "region": w.ref_interval.region(),
        "window_length": len(w.ref_seq),
        "ref_score": outcome.ref_score,
        "alt_score": outcome.alt_score,
        "delta_score": outcome.delta,
        "label": label.label if label else "",
        "probability_lof": label.probability_lof if label else None,
        "confidence": label.confidence if label else None,
        "model": model,
        "status": "ok",
    }
    return BulkResult(row, values)


def error_result(row: BulkRow, error: dict[str, Any], model: str = "") -> BulkResult:
    values = {
        **_base(row),
        "model": model,
        "status": "error",
        "error_type": str(error.get("type", "internal_error")),
        "error_message": str(error.get("message", "")),
    }
    if row.variant is not None:
        values.update(
            variant=str(row.variant),
            chrom=row.variant.chrom,
            pos=row.variant.pos,
            ref=row.variant.ref or "",
            alt=row.variant.alt,
        )
    return BulkResult(row, values)


def _base(row: BulkRow) -> dict[str, Any]:
    return {"line": row.line, "id": row.id, "input": row.input, "genome": row.genome}


async def score_chunk(
    engine: DeltaEngine,
    rows: Sequence[BulkRow],
    options: DeltaOptions,
    *,
    calibration: Calibration | None = None,
) -> list[BulkResult]:
    """Score one chunk with ``engine`` (one fetch per cluster); one result per row, in row order."""
    model = engine.runner.scorer.name
    scorable = [r for r in rows if r.variant is not None]
    outcomes = await engine.score([r.variant for r in scorable if r.variant is not None], options)
    by_index: dict[int, BulkResult] = {}
    for row, outcome in zip(scorable, outcomes, strict=True):
        if isinstance(outcome, ServiceError):
            by_index[row.index] = error_result(row, _error_dict(outcome), model)
        else:
            by_index[row.index] = ok_result(row, outcome, model, calibration, options)
    return [by_index.get(r.index) or error_result(r, r.error or {}, model) for r in rows]


def local_map_fn(
    engine: DeltaEngine,
    *,
    calibration: Calibration | None = None,
    loop: asyncio.AbstractEventLoop | None = None,
) -> MapFn:
    """A ``map_fn`` scoring chunks one after another in this process, on one event loop (``loop``, or
    a private one closed at the end). Must not be called from a running event loop."""

    def map_chunks(chunks: list[Chunk]) -> Iterator[list[BulkResult] | BaseException]:
        own = loop is None
        event_loop = asyncio.new_event_loop() if loop is None else loop
        try:
            for chunk in chunks:
                try:
                    yield event_loop.run_until_complete(
                        score_chunk(engine, chunk.rows, chunk.options, calibration=calibration)
                    )
                except Exception as exc:
                    yield exc
        finally:
            if own:
                event_loop.close()

    return map_chunks


def run_bulk(
    rows: Sequence[BulkRow],
    options: DeltaOptions,
    map_fn: MapFn,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    max_span: int = DEFAULT_MAX_SPAN,
    progress: bool = True,
) -> list[BulkResult]:
    """Chunk ``rows``, score the chunks through ``map_fn`` and return one result per row, in order.

    Rows that failed to parse are answered here; a chunk whose call raised answers each of its rows
    with an ``internal_error`` row naming the exception.
    """
    check_window(options.window)
    chunks = make_chunks(rows, options, chunk_rows=chunk_rows, max_span=max_span)
    results: dict[int, BulkResult] = {r.index: error_result(r, r.error) for r in rows if r.error is not None}
    bar = _progress(sum(len(c.rows) for c in chunks), enabled=progress)
    try:
        outputs = map_fn(chunks)
        for chunk, output in zip(chunks, outputs, strict=False):
            if isinstance(output, BaseException):
                message = f"the chunk holding this variant failed: {type(output).__name__}: {output}"[:500]
                for row in chunk.rows:
                    results[row.index] = error_result(row, {"type": "internal_error", "message": message})
            else:
                for result in output:
                    results[result.row.index] = result
            bar.update(len(chunk.rows))
    finally:
        bar.close()
    missing = [r for r in rows if r.index not in results]
    for row in missing:
        results[row.index] = error_result(
            row, {"type": "internal_error", "message": "no result was returned"}
        )
    return [results[r.index] for r in rows]


def _progress(total: int, *, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, unit="variant", desc="scoring", disable=not enabled, file=sys.stderr)


# ------------------------------------------------------------------------------------------- writing


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)
    return str(value).replace("\t", " ").replace("\n", " ")


def write_tsv(results: Iterable[BulkResult], path: str | Path | IO[str]) -> int:
    """Write the results as a TSV with the :data:`COLUMNS` header; returns the number of rows."""
    if isinstance(path, (str, Path)):
        with Path(path).open("w", encoding="utf-8", newline="") as handle:
            return write_tsv(results, handle)
    writer = csv.writer(path, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_NONE, escapechar="\\")
    writer.writerow(COLUMNS)
    count = 0
    for result in results:
        writer.writerow([_cell(result.values.get(column)) for column in COLUMNS])
        count += 1
    return count


def summary(results: Sequence[BulkResult]) -> dict[str, int]:
    errors: dict[str, int] = {}
    for result in results:
        if not result.ok:
            key = str(result.values.get("error_type"))
            errors[key] = errors.get(key, 0) + 1
    return {
        "rows": len(results),
        "ok": sum(r.ok for r in results),
        **{f"error:{k}": v for k, v in errors.items()},
    }


# ------------------------------------------------------------------------------------------ CPU CLI


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m service.jobs.bulk IN OUT [--genome hg38] [--window 8192]``: score on this machine with the
    model and genome sources the ``EVO2_SERVICE_*`` settings name (default: the k-mer baseline)."""
    import argparse

    from service.compose import build_genome, build_scorer
    from service.domain.calibration import load_calibration
    from service.scoring.runner import ModelRunner
    from service.settings import Settings

    parser = argparse.ArgumentParser(prog="python -m service.jobs.bulk", description=main.__doc__)
    parser.add_argument("input", help="VCF or TSV (optionally .gz)")
    parser.add_argument("output", help="output TSV")
    parser.add_argument("--genome", default="hg38")
    parser.add_argument("--window", type=int, default=8192)
    parser.add_argument("--chunk-rows", type=int, default=DEFAULT_CHUNK_ROWS)
    args = parser.parse_args(argv)

    settings = Settings()
    scorer = build_scorer(settings)
    genome = build_genome(settings)
    runner = ModelRunner(scorer, max_queue=settings.max_queue, timeout_s=settings.model_timeout_s)
    engine = DeltaEngine(genome, runner, cluster_max_bp=settings.cluster_max_bp)
    options = DeltaOptions(genome=check_genome(args.genome), window=args.window)
    rows = read_variants(args.input, genome=options.genome)
    calibration = load_calibration(scorer.name, settings.calibration_dir)
    loop = asyncio.new_event_loop()
    try:
        map_fn = local_map_fn(engine, calibration=calibration, loop=loop)
        results = run_bulk(
            rows, options, map_fn, chunk_rows=args.chunk_rows, max_span=settings.cluster_max_bp
        )
    finally:
        loop.run_until_complete(genome.aclose())
        loop.close()
    write_tsv(results, args.output)
    print(summary(results), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
