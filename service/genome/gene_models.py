"""Gene models and dbSNP records from local files: the bundled BRCA1 records, and files for offline
and bulk work.

* **genePred** (``read_genepred``): a UCSC table dump as downloaded (``ncbiRefSeq.txt.gz``,
  ``ncbiRefSeqSelect.txt.gz``, ``refGene.txt.gz`` from ``hgdownload.soe.ucsc.edu/goldenPath/<db>/
  database/``: 16 columns, ``bin`` first), genePredExt without ``bin`` (15), plain genePred (10),
  refFlat (11, gene name first), or a tab-separated file whose header names the columns (the bundled
  file: ``assembly`` first, ``source`` last). Plain or gzip. The format is a fixed list of columns,
  so a 60-line reader beats a dependency: GFF3 readers (gffutils builds an SQLite database; Biopython's
  BCBio.GFF needs a feature hierarchy per transcript) would bring more code than this and still need
  the same CDS and exon bookkeeping for NCBI's GFF3. A row's ``source`` column saying ``MANE Select`` or
  ``RefSeq Select`` marks the gene's chosen transcript; every row of an ``ncbiRefSeqSelect`` dump is one.
* **rsIDs** (``read_rsid_vcf``): a VCF whose ID column holds rsIDs (dbSNP's VCF) or whose INFO has
  ``RS=`` (ClinVar's VCF); one record per rsID and line, its ALTs the alleles. Held in memory: meant
  for a panel's variants or a ClinVar VCF, not all of dbSNP.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from service.coords import check_genome
from service.genome.transcripts import (
    MANE_SELECT,
    REFSEQ_SELECT,
    GeneModelError,
    SnpRecord,
    Transcript,
    from_genepred,
)

GENEPRED = ("name", "chrom", "strand", "txStart", "txEnd", "cdsStart", "cdsEnd", "exonCount",
            "exonStarts", "exonEnds")  # fmt: skip
GENEPRED_EXT = (*GENEPRED, "score", "name2", "cdsStartStat", "cdsEndStat", "exonFrames")
#: Columns of a headerless file by count.
LAYOUTS: dict[int, tuple[str, ...]] = {
    10: GENEPRED,
    11: ("name2", *GENEPRED),  # refFlat
    15: GENEPRED_EXT,
    16: ("bin", *GENEPRED_EXT),
}
BUNDLED_DIR = Path(__file__).resolve().parents[1] / "data" / "annotation"
BUNDLED_GENEPRED = BUNDLED_DIR / "brca1_NM_007294_genepred.tsv"


def _lines(path: Path) -> Iterator[str]:
    with path.open("rb") as probe:
        compressed = probe.read(2) == b"\x1f\x8b"
    opener = gzip.open if compressed else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            yield line.rstrip("\r\n")


def _header(line: str) -> tuple[str, ...] | None:
    names = tuple(cell.strip().lstrip("#").strip() for cell in line.split("\t"))
    return names if {"name", "chrom", "strand", "exonStarts"} <= set(names) else None


def _tags(row: Mapping[str, str], select_file: bool) -> tuple[str, ...]:
    note = row.get("source", "") + " " + row.get("tags", "")
    tags = [tag for tag in (MANE_SELECT, REFSEQ_SELECT) if tag in note]
    if select_file and not tags:
        tags.append(REFSEQ_SELECT)
    return tuple(tags)


def read_genepred(
    path: str | Path, *, genome: str | None = None, label: str = "file"
) -> list[tuple[str, Transcript]]:
    """``(genome, transcript)`` of every row; a row's ``assembly`` column, else ``genome``, names its
    build. ``ValueError`` naming the line for a row that is not a valid transcript."""
    path = Path(path)
    default = check_genome(genome) if genome else None
    select_file = "select" in path.name.lower()
    columns: tuple[str, ...] | None = None
    out: list[tuple[str, Transcript]] = []
    for number, line in enumerate(_lines(path), start=1):
        if not line.strip():
            continue
        if columns is None and (header := _header(line)) is not None:
            columns = header
            continue
        if line.startswith("#"):
            continue
        cells = line.split("\t")
        names = columns or LAYOUTS.get(len(cells))
        if names is None or len(cells) < len(names):
            raise ValueError(
                f"{path}:{number}: {len(cells)} columns is not a genePred row (10, 11, 15 or 16)"
            )
        row = dict(zip(names, cells, strict=False))
        build = check_genome(row["assembly"]) if row.get("assembly") else default
        if build is None:
            raise ValueError(f"{path}: rows name no assembly; say which build the file is (hg38 or hg19)")
        try:
            transcript = from_genepred(row, source=f"{label}:{path.name}", tags=_tags(row, select_file))
        except GeneModelError as exc:
            raise ValueError(f"{path}:{number}: {exc}") from None
        out.append((build, transcript))
    return out


def read_rsid_vcf(path: str | Path, *, genome: str, label: str = "file") -> list[tuple[str, SnpRecord]]:
    """``(genome, record)`` of every VCF line with an rsID (ID column or INFO ``RS=``)."""
    path = Path(path)
    build = check_genome(genome)
    out: list[tuple[str, SnpRecord]] = []
    for line in _lines(path):
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        if len(cells) < 5 or not cells[1].isdigit():
            continue
        chrom, pos, ident, ref, alts = cells[:5]
        info = cells[7] if len(cells) > 7 else ""
        rsids = [i for i in ident.split(";") if i.lower().startswith("rs")]
        rsids += [f"rs{field[3:]}" for field in info.split(";") if field.startswith("RS=")]
        chrom = chrom if chrom.startswith("chr") else f"chr{chrom}"
        start = int(pos) - 1
        alleles = tuple(a.upper() for a in alts.split(",") if a not in (".", "*"))
        for rsid in dict.fromkeys(r.lower() for r in rsids):
            record = SnpRecord(
                rsid, chrom, start, start + len(ref), ref.upper(), alleles, f"{label}:{path.name}"
            )
            out.append((build, record))
    return out


class LocalAnnotations:
    """``AnnotationSource`` over records held in memory (from files); asks nobody."""

    remote = False

    def __init__(
        self,
        name: str,
        transcripts: Iterable[tuple[str, Transcript]] = (),
        snps: Iterable[tuple[str, SnpRecord]] = (),
        files: Iterable[str] = (),
    ) -> None:
        self.name = name
        self.files = list(files)
        self._transcripts: dict[tuple[str, str], Transcript] = {}
        self._select: dict[str, tuple[int, str]] = {}
        for genome, transcript in transcripts:
            self._transcripts[(genome, transcript.name)] = transcript
            rank = _select_rank(genome, transcript)
            current = self._select.get(transcript.gene.upper())
            if rank is not None and (current is None or rank < current[0]):
                self._select[transcript.gene.upper()] = (rank, transcript.name)
        self._snps: dict[tuple[str, str], SnpRecord] = {}
        for genome, record in snps:
            key = (genome, record.rsid)
            known = self._snps.get(key)
            if known is not None and (known.chrom, known.start, known.ref) == (
                record.chrom,
                record.start,
                record.ref,
            ):
                record = SnpRecord(*_merged(known, record))
            self._snps[key] = record

    @classmethod
    def bundled(cls) -> LocalAnnotations:
        """The BRCA1 records shipped with the package (``service/data/annotation/``)."""
        vcfs = {g: _bundled_vcf(g) for g in ("hg38", "hg19")}
        rsids = [pair for g, p in vcfs.items() for pair in read_rsid_vcf(p, genome=g, label="bundled")]
        files = [BUNDLED_GENEPRED.name, *(p.name for p in vcfs.values())]
        return cls("bundled", read_genepred(BUNDLED_GENEPRED, label="bundled"), rsids, files)

    def counts(self) -> dict[str, int]:
        return {"transcripts": len(self._transcripts), "rsids": len(self._snps)}

    async def transcript(self, genome: str, accession: str) -> Transcript | None:
        return self._transcripts.get((genome, accession))

    async def select_transcript(self, gene: str) -> str | None:
        chosen = self._select.get(gene.upper())
        return chosen[1] if chosen is not None else None

    async def snp(self, genome: str, rsid: str) -> SnpRecord | None:
        return self._snps.get((genome, rsid.lower()))

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "files": self.files, **self.counts()}

    async def aclose(self) -> None:
        return None


def _select_rank(genome: str, transcript: Transcript) -> int | None:
    """How well ``transcript`` stands for its gene: MANE Select on GRCh38 first (MANE is defined there)."""
    if MANE_SELECT in transcript.tags:
        return 0 if genome == "hg38" else 1
    if REFSEQ_SELECT in transcript.tags:
        return 2 if genome == "hg38" else 3
    return None


def _merged(a: SnpRecord, b: SnpRecord) -> tuple[str, str, int, int, str, tuple[str, ...], str]:
    return (a.rsid, a.chrom, a.start, a.end, a.ref, tuple(dict.fromkeys(a.alts + b.alts)), a.source)


def _bundled_vcf(genome: str) -> Path:
    return BUNDLED_DIR / f"brca1_rsids_{genome}.vcf"
