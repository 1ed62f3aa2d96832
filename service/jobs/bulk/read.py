"""Reading a VCF or TSV into ``BulkRow`` s: one row per allele, malformed lines as error rows."""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from service.coords import Variant, check_genome, make_variant, parse_variant
from service.errors import InvalidRequest, InvalidVariant, ServiceError


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


def _bad_row(index: int, line: int, id_: str, text: str, genome: str, exc: ServiceError) -> BulkRow:
    return BulkRow(index, line, id_, text, genome, None, exc.to_dict())


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
