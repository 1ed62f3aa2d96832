"""Gene models and dbSNP records, and the protocol of the sources that hold them.

A ``Transcript`` is one row of UCSC's genePred tables (``ncbiRefSeq``, ``ncbiRefSeqSelect``,
``refGene``; https://genome.ucsc.edu/FAQ/FAQformat.html#format9): coordinates **0-based half-open**,
exons in genomic order whatever the strand. ``from_genepred`` reads one from its named columns (a
row of a UCSC table dump, or an item of UCSC's ``/getData/track`` JSON, whose ``exonStarts`` /
``exonEnds`` are comma-separated strings with a trailing comma) and checks it.

A ``SnpRecord`` is one dbSNP variant (UCSC's bigDbSnp items: ``chromStart``/``chromEnd`` 0-based,
``ref`` and ``alts`` on the plus strand; an insertion has ``start == end``).

An ``AnnotationSource`` answers ``None`` for what it does not hold, so sources can be asked in turn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

from service.errors import ServiceError, UpstreamError

Strand = Literal["+", "-"]
#: Tags a record's source may give a transcript (the gene's chosen one).
MANE_SELECT = "MANE Select"
REFSEQ_SELECT = "RefSeq Select"


class GeneModelError(ValueError):
    """A genePred row that is not a valid transcript (a file or an upstream answer is bad)."""


@dataclass(frozen=True)
class Transcript:
    """One transcript on one build: 0-based half-open coordinates, exons in genomic order."""

    name: str
    gene: str
    chrom: str
    strand: Strand
    tx_start: int
    tx_end: int
    cds_start: int
    cds_end: int
    exons: tuple[tuple[int, int], ...]
    #: Where the record came from, for people: ``bundled:brca1_NM_007294_genepred.tsv``,
    #: ``ucsc:hg38.ncbiRefSeq``, ``file:/data/ncbiRefSeq.txt.gz``.
    source: str
    #: ``MANE Select`` / ``RefSeq Select`` when the source says so.
    tags: tuple[str, ...] = ()

    @property
    def coding(self) -> bool:
        return self.cds_start < self.cds_end

    @property
    def length(self) -> int:
        """Bases of the transcript (its exons)."""
        return sum(end - start for start, end in self.exons)


def _ints(value: Any, what: str) -> list[int]:
    if isinstance(value, list | tuple):
        items = list(value)
    else:
        items = [part for part in str(value).split(",") if part.strip() != ""]
    try:
        return [int(item) for item in items]
    except (TypeError, ValueError):
        raise GeneModelError(f"{what} is not a list of integers") from None


def _int(row: Mapping[str, Any], key: str) -> int:
    value = row.get(key)
    if isinstance(value, bool):
        raise GeneModelError(f"{key} is not an integer")
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise GeneModelError(f"{key} is missing or not an integer") from None


def from_genepred(row: Mapping[str, Any], *, source: str, tags: Sequence[str] = ()) -> Transcript:
    """The transcript of one genePred row given by column name; ``GeneModelError`` when invalid."""
    name, chrom, strand_text = (str(row.get(k, "")).strip() for k in ("name", "chrom", "strand"))
    strand: Strand = "+" if strand_text == "+" else "-"
    if not name or not chrom or strand_text not in ("+", "-"):
        raise GeneModelError(f"genePred row {name or '?'}: name, chrom and strand (+/-) are required")
    tx_start, tx_end = _int(row, "txStart"), _int(row, "txEnd")
    cds_start, cds_end = _int(row, "cdsStart"), _int(row, "cdsEnd")
    starts, ends = _ints(row.get("exonStarts", ""), "exonStarts"), _ints(row.get("exonEnds", ""), "exonEnds")
    count = row.get("exonCount")
    if (
        len(starts) != len(ends)
        or not starts
        or (count is not None and _int(row, "exonCount") != len(starts))
    ):
        raise GeneModelError(f"{name}: exonCount, exonStarts and exonEnds do not agree")
    exons = tuple(zip(starts, ends, strict=True))
    previous = tx_start
    for start, end in exons:
        if not previous <= start < end:
            raise GeneModelError(f"{name}: exons overlap, are out of order or empty")
        previous = end
    if exons[0][0] != tx_start or exons[-1][1] != tx_end:
        raise GeneModelError(f"{name}: the exons do not span txStart..txEnd")
    if cds_start < cds_end and not (tx_start <= cds_start and cds_end <= tx_end):
        raise GeneModelError(f"{name}: the CDS lies outside the transcript")
    gene = str(row.get("name2") or "").strip()
    return Transcript(
        name,
        gene,
        chrom,
        strand,
        tx_start,
        tx_end,
        cds_start,
        cds_end,
        exons,
        source,
        tuple(tags),
    )


@dataclass(frozen=True)
class SnpRecord:
    """One dbSNP variant: 0-based half-open ``[start, end)`` of ``ref`` on the plus strand."""

    rsid: str
    chrom: str
    start: int
    end: int
    ref: str
    alts: tuple[str, ...]
    source: str


@runtime_checkable
class AnnotationSource(Protocol):
    """Gene models and dbSNP records for builds (``None``: this source does not hold it)."""

    name: str

    async def transcript(self, genome: str, accession: str) -> Transcript | None:
        """The transcript ``accession`` (with its version) on ``genome``."""
        ...

    async def select_transcript(self, gene: str) -> str | None:
        """The accession of ``gene`` 's MANE Select transcript (chosen on GRCh38, where MANE is
        defined; the same accession is then placed on the build asked)."""
        ...

    async def snp(self, genome: str, rsid: str) -> SnpRecord | None:
        """dbSNP's record of ``rsid`` on ``genome``."""
        ...

    def describe(self) -> dict[str, Any]: ...

    async def aclose(self) -> None: ...


def upstream_record_error(what: str, exc: GeneModelError) -> ServiceError:
    """A record an upstream answered that is not a valid gene model (a 502, not the user's fault)."""
    return UpstreamError(f"{what}: {exc}", detail={"reason": str(exc)})
