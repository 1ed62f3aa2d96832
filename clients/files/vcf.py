"""Annotated VCF output: the input's records with the scores in INFO fields.

Each record keeps its columns; INFO gains the ``EVO2_*`` fields of :data:`INFO_FIELDS` (one value per
ALT allele, ``.`` where an allele was not scored), declared in ``##INFO`` lines, and the header gains
one ``##evo2_variant_service=<...>`` line naming the model, its revision and the options. A ``.vcf.gz``
output is bgzip-compressed and tabix-indexed by pysam (htslib, as bcftools), which is needed only
for that: ``pip install 'evo2-variant-service[vcf]'``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from clients.files.formats import Parsed
from clients.files.read import VcfSource
from clients.files.rows import Record

#: ID, Number, Type, Description of the INFO fields written (Number=A: one value per ALT allele).
INFO_FIELDS: tuple[tuple[str, str, str, str], ...] = (
    ("EVO2_STATUS", "A", "String", "ok when the allele was scored, error when not (see EVO2_ERROR)"),
    ("EVO2_DELTA", "A", "Float", "Evo 2 variant service: delta log-likelihood alt - ref (mean per base; "
     "negative: less likely under the model)"),
    ("EVO2_REF_SCORE", "A", "Float", "Score of the reference window (mean log-likelihood per base)"),
    ("EVO2_ALT_SCORE", "A", "Float", "Score of the alternate window (mean log-likelihood per base)"),
    ("EVO2_LABEL", "A", "String", "likely_pathogenic or likely_benign from the model's BRCA1 calibration, "
     ". where it gives none (the TSV's label_reason says why); a research score, not a clinical call"),
    ("EVO2_P_LOF", "A", "Float", "Calibrated probability of loss of function (BRCA1-trained)"),
    ("EVO2_WINDOW", "A", "Integer", "Window length in bp"),
    ("EVO2_ERROR", "A", "String", "Error type of an allele that was not scored"),
    ("EVO2_MODEL", "1", "String", "Model that scored the alleles"),
)  # fmt: skip
_KEYS = frozenset(field[0] for field in INFO_FIELDS)
#: Record key → INFO field, for the Number=A fields taken from each allele's record.
_PER_ALLELE = {
    "EVO2_STATUS": "status",
    "EVO2_DELTA": "delta_score",
    "EVO2_REF_SCORE": "ref_score",
    "EVO2_ALT_SCORE": "alt_score",
    "EVO2_LABEL": "label",
    "EVO2_P_LOF": "probability_lof",
    "EVO2_WINDOW": "window_length",
    "EVO2_ERROR": "error_type",
}
RUN_LINE = "##evo2_variant_service="
_STANDARD = ("#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO")
_UNSAFE = re.compile(r"[\s;=,]")
_MODEL_RE = re.compile(r'Model="([^"]*)"')


@dataclass(frozen=True)
class RunInfo:
    """What produced an output, for the VCF header (``None``: the service's default, not known here)."""

    model: str | None
    revision: str | None = None
    genome: str | None = None
    window: int | None = None
    delta_method: str | None = None
    reverse_complement: bool | None = None
    version: str | None = None

    def header_line(self) -> str:
        values = {
            "Model": self.model,
            "Revision": self.revision,
            "Genome": self.genome,
            "Window": self.window,
            "DeltaMethod": self.delta_method,
            "ReverseComplement": self.reverse_complement,
            "Version": self.version,
        }
        given = [f"{k}={_quoted(v)}" for k, v in values.items() if v is not None]
        return RUN_LINE + "<" + ",".join(["ID=scores", *given]) + ">"


def _quoted(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return '"' + text.replace('"', "'").replace("\\", "/") + '"'


def _value(value: Any) -> str:
    if value is None:
        return "."
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else "."
    return _UNSAFE.sub("_", str(value)) or "."


class VcfFormat:
    """One output line per input record (a malformed input line has none: TSV and JSON Lines keep it)."""

    def __init__(self, source: VcfSource, run: RunInfo) -> None:
        self.source = source
        self.run = run

    def header(self) -> list[str]:
        lines = [h for h in self.source.header if not _ours(h) and not h.startswith("#CHROM")]
        if not lines or not lines[0].startswith("##fileformat=VCF"):
            lines.insert(0, "##fileformat=VCFv4.2")
        declared = {m.group(1) for h in lines if (m := re.match(r"##contig=<ID=([^,>]+)", h))}
        for chrom in dict.fromkeys(r.fields[0] for r in self.source.records):
            if chrom not in declared:
                lines.append(f"##contig=<ID={chrom}>")
        for key, number, kind, description in INFO_FIELDS:
            lines.append(f'##INFO=<ID={key},Number={number},Type={kind},Description="{description}">')
        lines.append(self.run.header_line())
        lines.append(self._column_line())
        return [line + "\n" for line in lines]

    def _column_line(self) -> str:
        given = next((h for h in self.source.header if h.startswith("#CHROM")), "")
        columns = given.split("\t") if given else []
        return "\t".join(list(_STANDARD) + columns[len(_STANDARD) :])

    def header_length(self, lines: Sequence[str]) -> int:
        count = 0
        while count < len(lines) and lines[count].startswith("#"):
            count += 1
        run = next((h for h in lines[:count] if h.startswith(RUN_LINE)), None)
        if run is None or not lines[count - 1].startswith("#CHROM"):
            raise ValueError("it exists and is not a VCF this tool wrote")
        model = _MODEL_RE.search(run)
        if model and self.run.model and model.group(1) != self.run.model:
            raise ValueError(f"it holds scores of model {model.group(1)}, and this run uses {self.run.model}")
        return count

    def units(self) -> list[tuple[int, ...]]:
        return [record.rows for record in self.source.records]

    def render(self, unit: int, records: Sequence[Record]) -> str:
        fields = list(self.source.records[unit].fields)
        fields += ["."] * (8 - len(fields))
        kept = [kv for kv in fields[7].split(";") if kv and kv != "." and kv.split("=")[0] not in _KEYS]
        ours = [
            f"{key}={','.join(_value(r.get(name)) for r in records)}" for key, name in _PER_ALLELE.items()
        ]
        models = list(dict.fromkeys(r["model"] for r in records if r.get("model")))
        if models:
            ours.append(f"EVO2_MODEL={_value(models[0])}")
        fields[7] = ";".join(kept + ours)
        return "\t".join(fields) + "\n"

    def parse(self, unit: int, line: str) -> Parsed | None:
        fields = line.split("\t")
        record = self.source.records[unit].fields
        if len(fields) < 8 or [fields[i] for i in (0, 1, 3, 4)] != [record[i] for i in (0, 1, 3, 4)]:
            return None
        info = dict(kv.split("=", 1) for kv in fields[7].split(";") if "=" in kv)
        if "EVO2_STATUS" not in info:
            return None
        errors = tuple(None if e == "." else e for e in info.get("EVO2_ERROR", "").split(","))
        model = info.get("EVO2_MODEL")
        return Parsed(errors, frozenset({model} if model else ()))


def _ours(line: str) -> bool:
    return line.startswith(RUN_LINE) or any(line.startswith(f"##INFO=<ID={key},") for key in _KEYS)


def sorted_for_tabix(source: VcfSource) -> str | None:
    """Why the records cannot be tabix-indexed as they are (``None``: they can)."""
    seen: set[str] = set()
    last: tuple[str, int] | None = None
    for record in source.records:
        chrom, pos = record.fields[0], record.fields[1]
        position = int(pos) if pos.isdigit() else 0
        if last is not None and chrom == last[0]:
            if position < last[1]:
                return f"line {record.line} ({chrom}:{pos}) comes after {chrom}:{last[1]}"
        elif chrom in seen:
            return f"line {record.line}: {chrom} appears again after other chromosomes"
        seen.add(chrom)
        last = (chrom, position)
    return None


def require_pysam() -> Any:
    """pysam, or an ``ImportError`` that says how to get it."""
    try:
        import pysam
    except ImportError as exc:
        raise ImportError(
            "writing .vcf.gz (bgzip + tabix index) needs pysam: pip install 'evo2-variant-service[vcf]' "
            "(or write .vcf, .tsv or .jsonl)"
        ) from exc
    return pysam


def bgzip_and_index(text_path: str, target: str) -> None:
    """Compress the VCF at ``text_path`` to ``target`` (BGZF) and write ``target.tbi`` beside it."""
    pysam = require_pysam()
    pysam.tabix_compress(text_path, target, force=True)
    pysam.tabix_index(target, preset="vcf", force=True)
