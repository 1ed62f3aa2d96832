"""The stand-in UCSC server's annotation side: ``/search`` and ``/getData/track`` in UCSC's JSON.

Layouts follow kent ``src/hg/hubApi`` as ``shared/notes/ucsc.md`` describes them (no recorded
response): track answers ``downloadTime, downloadTimeStamp, genome, dataTime, dataTimeStamp,
trackType, track, start, end, chrom, <track>: [items], itemsReturned``; genePred items with numbers
for coordinates and comma-terminated strings for ``exonStarts``/``exonEnds``/``exonFrames``; bigDbSnp
items (``chromStart``, ``chromEnd``, ``ref``, ``alts`` as ``"C,T,"``, …); every item *overlapping* the
asked range, ordered by start. Search answers ``positionMatches`` groups by ``trackName`` whose
``position`` has a 1-based start. A term nothing matches answers an empty ``positionMatches``.

Data (real records; the dbSNP items are **constructed** in bigDbSnp's layout):

* ``ncbiRefSeq``: the bundled NM_007294.4 and .3 rows (both builds), and on hg19 the UCSC ``refGene``
  rows of ACADM NM_000016.4, ABCC8 NM_000352.3, ACADVL NM_000018.3, SGCA NM_000023.2 and CFTR
  NM_000492.3 that counsyl/hgvs tests with (``tests/data/counsyl/refGene_hg19.tsv``);
* ``ncbiRefSeqSelect`` (hg38): NM_007294.4, BRCA1's MANE Select;
* ``dbSnp155``: rs80357906 and rs80357914 as dbSNP writes repeats (the whole repeat as ``ref``:
  GGG → GGGG, CTCT → CT), and rs999999902, a constructed two-allele record at BRCA1 c.181 (A → C, G).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from service.genome.gene_models import BUNDLED_GENEPRED, GENEPRED_EXT

ROOT = Path(__file__).resolve().parents[2]
COUNSYL_REFGENE = ROOT / "tests/data/counsyl/refGene_hg19.tsv"
SEARCH = "/search"
TRACK = "/getData/track"
SEARCH_ARGS = ("search", "genome", "categories")
TRACK_ARGS = ("genome", "track", "chrom", "start", "end", "maxItemsOutput", "hubUrl")
GENEPRED_TRACKS = ("ncbiRefSeq", "ncbiRefSeqSelect", "ncbiRefSeqCurated", "refGene")
DBSNP_TRACKS = ("dbSnp155", "dbSnp155Common")
CONTAINERS = ("refSeqComposite", "dbSnp155Composite")
_INTS = ("bin", "txStart", "txEnd", "cdsStart", "cdsEnd", "exonCount", "score")

#: Constructed bigDbSnp records: (genome, chrom, chromStart, chromEnd, name, ref, alts, class).
DBSNP: tuple[tuple[str, str, int, int, str, str, tuple[str, ...], str], ...] = (
    ("hg38", "chr17", 43057062, 43057065, "rs80357906", "GGG", ("GGGG",), "ins"),
    ("hg38", "chr17", 43124027, 43124031, "rs80357914", "CTCT", ("CT",), "del"),
    ("hg38", "chr17", 43106486, 43106487, "rs999999902", "A", ("C", "G"), "snv"),
    ("hg19", "chr17", 41209079, 41209082, "rs80357906", "GGG", ("GGGG",), "ins"),
    ("hg19", "chr17", 41276044, 41276048, "rs80357914", "CTCT", ("CT",), "del"),
)


def _genepred_item(cells: dict[str, str]) -> dict[str, Any]:
    item: dict[str, Any] = {}
    for name in ("bin", *GENEPRED_EXT):
        value = cells.get(name, "0" if name == "bin" else "")
        item[name] = int(value) if name in _INTS else value
    return item


@functools.cache
def genepred_items() -> dict[tuple[str, str], list[dict[str, Any]]]:
    """(genome, track) → items, ordered by txStart."""
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    lines = BUNDLED_GENEPRED.read_text().splitlines()
    header = lines[0].split("\t")
    for line in lines[1:]:
        cells = dict(zip(header, line.split("\t"), strict=True))
        genome = {"GRCh38": "hg38", "GRCh37": "hg19"}[cells["assembly"]]
        item = _genepred_item(cells)
        out.setdefault((genome, "ncbiRefSeq"), []).append(item)
        if genome == "hg38" and "MANE Select" in cells["source"]:
            out.setdefault((genome, "ncbiRefSeqSelect"), []).append(item)
    for line in COUNSYL_REFGENE.read_text().splitlines():
        cells = dict(zip(("bin", *GENEPRED_EXT), line.split("\t"), strict=True))
        out.setdefault(("hg19", "ncbiRefSeq"), []).append(_genepred_item(cells))
    for items in out.values():
        items.sort(key=lambda item: (item["chrom"], item["txStart"]))
    return out


def dbsnp_items(genome: str) -> list[dict[str, Any]]:
    return [
        {
            "chrom": chrom, "chromStart": start, "chromEnd": end, "name": name, "ref": ref,
            "altCount": len(alts), "alts": "".join(f"{a}," for a in alts), "shiftBases": 0,
            "freqSourceCount": 0, "minorAlleleFreq": "", "majorAllele": "", "minorAllele": "",
            "maxFuncImpact": 0, "class": kind, "ucscNotes": "",
        }
        for g, chrom, start, end, name, ref, alts, kind in DBSNP
        if g == genome
    ]  # fmt: skip


class Refused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _group(track: str, matches: list[dict[str, str]]) -> dict[str, Any]:
    return {"name": track, "trackName": track, "description": track, "vis": "pack", "matches": matches}


def _match(item: dict[str, Any], start: str, end: str, name: str) -> dict[str, str]:
    position = f"{item['chrom']}:{item[start] + 1}-{item[end]}"
    return {"position": position, "hgFindMatches": name, "posName": name, "description": name}


def search(base: dict[str, Any], args: dict[str, str], known: Callable[[str], bool]) -> dict[str, Any]:
    term, genome = args.get("search", "").strip(), args.get("genome", "")
    if not term:
        raise Refused(f"missing URL search=<term> for endpoint '{SEARCH}'")
    if not known(genome):
        raise Refused(f"can not find genome='{genome}' for endpoint '{SEARCH}'")
    items = genepred_items().get((genome, "ncbiRefSeq"), [])
    by_name = [i for i in items if i["name"] == term]
    by_gene = [i for i in items if i["name2"].upper() == term.upper()]
    snps = [i for i in dbsnp_items(genome) if i["name"] == term.lower()]
    groups = []
    if by_name or by_gene:
        hits = by_name or by_gene
        groups.append(_group("ncbiRefSeqCurated", [_match(i, "txStart", "txEnd", i["name"]) for i in hits]))
    if by_gene:
        groups.append(_group("knownGene", [_match(i, "txStart", "txEnd", term) for i in by_gene[:1]]))
    if snps:
        groups.append(_group("dbSnp155", [_match(i, "chromStart", "chromEnd", i["name"]) for i in snps]))
    return {**base, "genome": genome, "positionMatches": groups}


def track(base: dict[str, Any], args: dict[str, str], known: Callable[[str], bool]) -> dict[str, Any]:
    genome, name, chrom = args.get("genome", ""), args.get("track", ""), args.get("chrom", "")
    if not known(genome):
        raise Refused(f"can not find genome='{genome}' for endpoint '{TRACK}'")
    if name in CONTAINERS:
        raise Refused(f"container track '{name}' can not be queried for endpoint '{TRACK}'")
    if name not in GENEPRED_TRACKS + DBSNP_TRACKS:
        raise Refused(f"can not find track={name} name for endpoint '{TRACK}")
    try:
        start, end = int(args["start"]), int(args["end"])
    except (KeyError, ValueError):
        raise Refused(f"illegal start,end coordinates for endpoint '{TRACK}'") from None
    if name in DBSNP_TRACKS:
        items = [
            i
            for i in dbsnp_items(genome)
            if i["chrom"] == chrom and i["chromStart"] < end and i["chromEnd"] > start
        ]
        return {
            **base, "genome": genome, "trackType": "bigDbSnp", "track": name, "chrom": chrom,
            "chromSize": 0, "bigDataUrl": f"/gbdb/{genome}/snp/{name}.bb", "start": start, "end": end,
            name: items,
        }  # fmt: skip
    found = genepred_items().get((genome, name), [])
    items = [i for i in found if i["chrom"] == chrom and i["txStart"] < end and i["txEnd"] > start]
    return {
        **base, "genome": genome, "dataTime": "2024-01-01T00:00:00", "dataTimeStamp": 1704067200,
        "trackType": "genePred", "track": name, "start": start, "end": end, "chrom": chrom, name: items,
        "itemsReturned": len(items),
    }  # fmt: skip
