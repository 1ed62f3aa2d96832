"""Reading a variant file: VCF (plain, gzip or bgzip), a TSV with a header, or one variant per line.

* VCF: ``#CHROM POS ID REF ALT ...``; one row per ALT allele (``G,C`` gives two rows, one line).
* TSV with a header naming either a ``variant`` column (any notation the service reads) or
  ``chrom``, ``pos``, ``ref``, ``alt`` columns (``ref`` may be empty or ``.``), plus optional ``id``
  and ``genome`` columns. :data:`HEADER_ALIASES` lists the names each column may have (any case, a
  leading ``#`` allowed). Cells are split on tabs (on white space when the header has no tab).
* Anything else: one variant per line, the first tab-separated cell in any notation.

Positions are 1-based. Blank lines and ``#`` comments are skipped. Compression is recognised by its
magic bytes, whatever the name. A line that cannot be a variant becomes a row with ``error`` set,
so every row of the file is answered in the output.
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from clients.files.rows import InputRow

HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "variant": ("variant", "variants", "variant_id", "notation", "hgvs", "hgvsg"),
    "chrom": ("chrom", "chr", "chromosome", "contig"),
    "pos": ("pos", "position", "start", "start_position", "variant_position"),
    "ref": ("ref", "reference", "ref_allele", "reference_allele"),
    "alt": ("alt", "alternative", "alternate", "alt_allele", "alternate_allele"),
    "id": ("id", "name", "rsid"),
    "genome": ("genome", "assembly", "build"),
}
_ALIAS = {alias: key for key, aliases in HEADER_ALIASES.items() for alias in aliases}
#: The longest position accepted (10 digits: beyond every chromosome).
_MAX_POS_DIGITS = 10


@dataclass(frozen=True)
class VcfRecord:
    """A data line of a VCF: its 1-based line number, tab-separated fields and the rows of its ALTs."""

    line: int
    fields: tuple[str, ...]
    rows: tuple[int, ...]


@dataclass(frozen=True)
class VcfSource:
    """What an annotated VCF output needs of its input: the header lines and the records."""

    header: tuple[str, ...]
    records: tuple[VcfRecord, ...]
    #: Rows of lines that cannot be VCF records: too short, or POS not a number (answered in TSV and
    #: JSON Lines, absent from an annotated VCF).
    malformed: tuple[int, ...] = ()


@dataclass(frozen=True)
class InputFile:
    rows: tuple[InputRow, ...]
    #: Set when the input is a VCF.
    vcf: VcfSource | None = None
    path: Path | None = field(default=None, compare=False)


def read_lines(path: Path) -> list[str]:
    """The lines of a text file, plain or gzip/bgzip-compressed, without line ends."""
    with path.open("rb") as probe:
        compressed = probe.read(2) == b"\x1f\x8b"
    if compressed:
        with gzip.open(path, "rb") as handle:
            raw = handle.read()
    else:
        raw = path.read_bytes()
    text = raw.decode("utf-8", errors="replace")
    return [line.rstrip("\r") for line in text.split("\n")]


def is_vcf(name: str, lines: Sequence[str]) -> bool:
    first = next((line for line in lines if line.strip()), "")
    suffixes = (".vcf", ".vcf.gz", ".vcf.bgz")
    columns = first.split()[:5]
    return (
        name.lower().endswith(suffixes)
        or first.startswith("##fileformat=VCF")
        or [c.upper() for c in columns] == ["#CHROM", "POS", "ID", "REF", "ALT"]
    )


def read_variants(path: str | Path) -> InputFile:
    """Every row of the file at ``path``, in file order (see the module docstring)."""
    path = Path(path)
    lines = read_lines(path)
    parsed = parse_vcf(lines) if is_vcf(path.name, lines) else parse_tsv(lines)
    return InputFile(parsed.rows, parsed.vcf, path)


def _fields_row(index: int, line: int, id_: str, cells: Sequence[str], genome: str | None) -> InputRow:
    """A row from chrom, pos, ref and alt cells; unreadable when the position is not a 1-based integer."""
    chrom, pos, ref, alt = (cell.strip() for cell in cells)
    text = f"{chrom}:{pos}:{ref or '.'}:{alt}"
    problem = None
    if not chrom or not alt:
        problem = f"line {line}: the chromosome and the alternate allele are required"
    elif not pos.isdigit() or len(pos) > _MAX_POS_DIGITS or int(pos) < 1:
        problem = f"line {line}: position {pos!r} is not a 1-based integer"
    if problem is not None:
        return InputRow(index, line, id_, text, None, genome, problem)
    payload: dict[str, object] = {"chrom": chrom, "pos": int(pos), "alt": alt}
    if ref and ref != ".":
        payload["ref"] = ref
    return InputRow(index, line, id_, text, payload, genome)


def parse_vcf(lines: Sequence[str]) -> InputFile:
    """Rows of a VCF: header lines kept for the output, one row per ALT allele."""
    header: list[str] = []
    records: list[VcfRecord] = []
    malformed: list[int] = []
    rows: list[InputRow] = []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        if text.startswith("#"):
            if not records and not malformed:
                header.append(text)
            continue
        fields = text.split("\t")
        if len(fields) < 5:
            fields = text.split()
        if len(fields) < 5:
            problem = (
                f"line {number}: a VCF record needs CHROM, POS, ID, REF and ALT; found {len(fields)} fields"
            )
            malformed.append(len(rows))
            rows.append(InputRow(len(rows), number, "", text[:200], None, None, problem))
            continue
        chrom, pos, id_, ref, alts = (f.strip() for f in fields[:5])
        id_ = "" if id_ == "." else id_
        first = len(rows)
        for alt in alts.split(","):
            rows.append(_fields_row(len(rows), number, id_, (chrom, pos, ref, alt), None))
        if pos.isdigit():
            records.append(VcfRecord(number, tuple(fields), tuple(range(first, len(rows)))))
        else:  # not a position: no VCF record can carry it
            malformed.extend(range(first, len(rows)))
    return InputFile(tuple(rows), VcfSource(tuple(header), tuple(records), tuple(malformed)))


def header_columns(line: str) -> dict[str, int] | None:
    """Column index of each field a TSV header line names, or ``None`` when the line is data.

    A line naming any known column is a header; it must then name ``variant`` or ``chrom``, ``pos``
    and ``alt`` (``ValueError`` otherwise)."""
    cells = line.split("\t") if "\t" in line else line.split()
    found: dict[str, int] = {}
    for i, cell in enumerate(cells):
        key = _ALIAS.get(cell.strip().lstrip("#").strip().lower())
        if key is not None:
            found.setdefault(key, i)
    if not found:
        return None
    if "variant" not in found and not {"chrom", "pos", "alt"} <= found.keys():
        raise ValueError(
            "the TSV header needs a 'variant' column or 'chrom', 'pos', 'ref' and 'alt' columns "
            f"(positions 1-based); found: {', '.join(c.strip() for c in cells)}"
        )
    return found


def parse_tsv(lines: Sequence[str]) -> InputFile:
    """Rows of a TSV with a header, or of a file with one variant per line (see the module docstring)."""
    columns: dict[str, int] | None = None
    split_on_tabs = True
    started = False
    rows: list[InputRow] = []
    for number, text in enumerate(lines, start=1):
        if not text.strip() or _is_comment(text):
            continue
        if not started:
            started = True
            columns = header_columns(text)
            if columns is not None:
                split_on_tabs = "\t" in text
                continue
        if text.startswith("#"):
            continue
        rows.append(_tsv_row(len(rows), number, text, columns, split_on_tabs))
    return InputFile(tuple(rows))


def _is_comment(text: str) -> bool:
    """``# note`` and ``##meta`` lines; ``#chrom\tpos...`` may be a header."""
    return text.startswith("##") or (text.startswith("#") and (len(text) == 1 or text[1].isspace()))


def _tsv_row(
    index: int, number: int, text: str, columns: dict[str, int] | None, split_on_tabs: bool
) -> InputRow:
    if columns is None:
        variant = text.split("\t")[0].strip()
        return InputRow(index, number, "", variant, variant)
    cells = text.split("\t") if split_on_tabs else text.split()

    def cell(key: str) -> str:
        i = columns.get(key)
        return cells[i].strip() if i is not None and i < len(cells) else ""

    id_, genome = cell("id"), cell("genome") or None
    if "variant" in columns:
        variant = cell("variant")
        if not variant:
            return InputRow(index, number, id_, text[:200], None, genome, f"line {number}: no variant")
        return InputRow(index, number, id_, variant, variant, genome)
    return _fields_row(index, number, id_, [cell(k) for k in ("chrom", "pos", "ref", "alt")], genome)
