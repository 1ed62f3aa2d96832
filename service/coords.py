"""Coordinates, chromosome names and variant notation. Standard library only.

Conventions (one inside, one at the edge):

* ``Interval(chrom, start, end)`` is **0-based, half-open** (BED, Python slices, UCSC REST).
* ``Variant(chrom, pos, ref, alt)`` has ``pos`` **1-based** (VCF); it covers the interval
  ``[pos - 1, pos - 1 + len(ref))``.
* Region strings shown to people (``chr17:43119628-43119628``) are 1-based inclusive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from service.errors import GenomeMismatch, InvalidVariant, UnknownGenome, clip

GENOMES = ("hg38", "hg19")
#: Longest reference or alternate allele accepted (the Evo 2 authors evaluated indels up to 64 bp).
MAX_ALLELE_LENGTH = 64
BASES = frozenset("ACGT")

_PRIMARY = [*(str(i) for i in range(1, 23)), "X", "Y"]

# RefSeq accessions of the primary assembly: the version names the build.
# GRCh38 versions are GRCh37's plus one for chr1-22, X and Y.
_GRCH37_VERSIONS = {
    "1": 10, "2": 11, "3": 11, "4": 11, "5": 9, "6": 11, "7": 13, "8": 10, "9": 11, "10": 10,
    "11": 9, "12": 11, "13": 10, "14": 8, "15": 9, "16": 9, "17": 10, "18": 9, "19": 9, "20": 10,
    "21": 8, "22": 10, "X": 10, "Y": 9,
}  # fmt: skip


def _accessions() -> dict[str, tuple[str, str | None]]:
    table: dict[str, tuple[str, str | None]] = {}
    for name in _PRIMARY:
        number = {"X": 23, "Y": 24}.get(name) or int(name)
        v37 = _GRCH37_VERSIONS[name]
        table[f"NC_{number:06d}.{v37}"] = (f"chr{name}", "hg19")
        table[f"NC_{number:06d}.{v37 + 1}"] = (f"chr{name}", "hg38")
    # The revised Cambridge mitochondrial sequence is chrM of GRCh38 (hg19's chrM is another sequence).
    table["NC_012920.1"] = ("chrM", "hg38")
    return table


REFSEQ_ACCESSIONS = _accessions()

#: What a chromosome name may look like (checked before any upstream call).
CHROM_NAME_RE = re.compile(r"^[A-Za-z0-9_.]{1,64}$")


def check_genome(genome: str) -> str:
    """Return the canonical genome name or raise ``UnknownGenome``."""
    name = genome.strip()
    aliases = {"grch38": "hg38", "grch37": "hg19", "hg38": "hg38", "hg19": "hg19"}
    canonical = aliases.get(name.lower())
    if canonical is None:
        raise UnknownGenome(
            f"unknown genome {genome!r}; supported: {', '.join(GENOMES)}",
            detail={"genome": genome, "supported": list(GENOMES)},
        )
    return canonical


def normalise_chrom(name: str) -> tuple[str, str | None]:
    """``17``, ``chr17``, ``CHR17``, ``NC_000017.11`` → ``("chr17", build or None)``; ``MT`` → ``chrM``.

    The second element is the build an accession implies (``None`` for plain names). Names that are
    not primary chromosomes (``chr1_KI270706v1_random``) pass through with a ``chr`` prefix and are
    checked later against the genome's chromosome list.
    """
    raw = name.strip()
    if raw in REFSEQ_ACCESSIONS:
        return REFSEQ_ACCESSIONS[raw]
    if raw.upper().startswith("NC_"):
        raise InvalidVariant(
            f"unsupported RefSeq accession {clip(raw)!r}: expected a GRCh37 or GRCh38 chromosome "
            "(NC_0000NN.V)",
            detail={"chrom": raw},
        )
    if not CHROM_NAME_RE.match(raw):
        raise InvalidVariant(f"invalid chromosome name {clip(raw)!r}", detail={"chrom": clip(raw)})
    body = raw[3:] if raw.lower().startswith("chr") else raw
    upper = body.upper()
    if upper in ("M", "MT"):
        return "chrM", None
    if upper in ("X", "Y") or (upper.isdigit() and 1 <= int(upper) <= 22 and not upper.startswith("0")):
        return f"chr{upper}", None
    if not body:
        raise InvalidVariant(f"invalid chromosome name {clip(raw)!r}", detail={"chrom": clip(raw)})
    return f"chr{body}", None


def resolve_chrom(chrom: str, genome: str | None) -> str:
    """The canonical name of ``chrom``; ``GenomeMismatch`` when it is an accession of another build."""
    name, build = normalise_chrom(chrom)
    if genome is not None and build is not None and build != check_genome(genome):
        raise GenomeMismatch(
            f"{chrom} is a {build} accession but genome {genome} was requested",
            detail={"chrom": chrom, "accession_genome": build, "genome": genome},
        )
    return name


@dataclass(frozen=True, order=True)
class Interval:
    """0-based half-open genomic interval."""

    chrom: str
    start: int
    end: int

    def __post_init__(self) -> None:
        if self.start < 0 or self.end < self.start:
            raise ValueError(f"invalid interval {self.chrom}:[{self.start},{self.end})")

    def __len__(self) -> int:
        return self.end - self.start

    def contains(self, other: Interval) -> bool:
        return self.chrom == other.chrom and self.start <= other.start and other.end <= self.end

    def region(self) -> str:
        """1-based inclusive region string for people, e.g. ``chr17:43115533-43123724``."""
        return f"{self.chrom}:{self.start + 1}-{self.end}"


@dataclass(frozen=True)
class Variant:
    """A VCF-style variant: ``pos`` is 1-based; ``ref`` is ``None`` until read from the genome."""

    chrom: str
    pos: int
    ref: str | None
    alt: str

    @property
    def start(self) -> int:
        """0-based start of the reference allele."""
        return self.pos - 1

    @property
    def ref_length(self) -> int:
        return len(self.ref) if self.ref is not None else 1

    @property
    def interval(self) -> Interval:
        return Interval(self.chrom, self.start, self.start + self.ref_length)

    @property
    def kind(self) -> str:
        ref_len = self.ref_length
        if ref_len == len(self.alt):
            return "snv" if ref_len == 1 else "mnv"
        return "insertion" if len(self.alt) > ref_len else "deletion" if len(self.alt) < ref_len else "mnv"

    def with_ref(self, ref: str) -> Variant:
        return replace(self, ref=ref)

    def __str__(self) -> str:
        return format_variant(self)


def _allele(value: str, what: str, *, allow_empty: bool = False) -> str:
    allele = value.strip().upper()
    if not allele and allow_empty:
        return allele
    if not allele or not set(allele) <= BASES:
        raise InvalidVariant(
            f"{what} allele {clip(value)!r} must be one or more of A, C, G, T",
            detail={what: clip(value)},
        )
    if len(allele) > MAX_ALLELE_LENGTH:
        raise InvalidVariant(
            f"{what} allele is {len(allele)} bp; at most {MAX_ALLELE_LENGTH} bp is supported",
            detail={what: value[:80], "max_length": MAX_ALLELE_LENGTH},
        )
    return allele


def make_variant(
    chrom: str,
    pos: int,
    ref: str | None,
    alt: str,
    *,
    genome: str | None = None,
) -> Variant:
    """Validate structured fields (1-based ``pos``) into a ``Variant`` with a canonical chromosome.

    ``genome`` is the requested build: a RefSeq accession of the other build is an error.
    """
    chrom_name = resolve_chrom(chrom, genome)
    if isinstance(pos, bool) or not isinstance(pos, int) or pos < 1:
        raise InvalidVariant(
            f"position must be a 1-based integer ≥ 1, got {clip(pos)}", detail={"pos": clip(pos)}
        )
    ref_allele = None if ref is None or ref.strip() == "" else _allele(ref, "ref")
    alt_allele = _allele(alt, "alt")
    if ref_allele is not None and ref_allele == alt_allele:
        raise InvalidVariant(
            f"alt allele equals ref allele ({alt_allele}): not a variant",
            detail={"ref": ref_allele, "alt": alt_allele},
        )
    if ref_allele is None and len(alt_allele) != 1:
        raise InvalidVariant(
            "without a ref allele only single-base alt alleles are accepted",
            detail={"alt": alt_allele},
        )
    return Variant(chrom_name, pos, ref_allele, alt_allele)


# Exactly one separator between fields (":", "-", "_" or white space), so "chr1:-5" is not position 5.
# ASCII only: a position is ASCII digits ("４３１１９６２８" is refused, not read as 43119628), white space
# is ASCII white space.
_SEP = r"(?:\s*[:\-_]\s*|\s+)"
_HGVS_RE = re.compile(
    r"^(?P<chrom>[A-Za-z0-9_.]+):g\.(?P<pos>[0-9]+)(?P<ref>[A-Za-z]+)>(?P<alt>[A-Za-z]+)$", re.ASCII
)
_VCF_RE = re.compile(
    rf"^(?P<chrom>[A-Za-z0-9_.]+?){_SEP}(?P<pos>[0-9]+)"
    rf"{_SEP}(?P<ref>[A-Za-z]+)(?:{_SEP}|\s*>\s*)(?P<alt>[A-Za-z]+)"
    r"(?:_(?P<build>b3[78]))?$",
    re.ASCII,
)


def parse_variant(text: str, *, genome: str | None = None) -> Variant:
    """Parse one variant in any accepted notation (positions 1-based).

    Accepted: ``chr17:43119628:T:G``, ``chr17-43119628-T-G``, ``17:43119628 T>G``, ``17_43119628_T_G``,
    ``chr17_43119628_T_G_b38``, ``chr17:g.43119628T>G`` and ``NC_000017.11:g.43119628T>G``.
    """
    if not isinstance(text, str) or not text.strip():
        raise InvalidVariant("empty variant", detail={"variant": text})
    raw = text.strip()
    if len(raw) > 400:
        raise InvalidVariant("variant notation is too long", detail={"length": len(raw)})
    match = _HGVS_RE.match(raw) or _VCF_RE.match(raw)
    if match is None:
        raise InvalidVariant(
            f"cannot parse variant {raw!r}; use e.g. chr17:43119628:T:G, 17:43119628 T>G "
            "or NC_000017.11:g.43119628T>G",
            detail={"variant": raw},
        )
    groups = match.groupdict()
    build = groups.get("build")
    if build is not None:
        implied = "hg38" if build == "b38" else "hg19"
        if genome is not None and check_genome(genome) != implied:
            raise GenomeMismatch(
                f"{raw} names {implied} but genome {genome} was requested",
                detail={"variant": raw, "variant_genome": implied, "genome": genome},
            )
    pos_text = groups["pos"]
    if len(pos_text) > 10:
        raise InvalidVariant("position is out of range", detail={"variant": raw})
    return make_variant(groups["chrom"], int(pos_text), groups["ref"], groups["alt"], genome=genome)


def format_variant(variant: Variant) -> str:
    """``chr17:43119628:T:G`` (1-based); parses back to the same variant."""
    ref = variant.ref if variant.ref is not None else "N"
    return f"{variant.chrom}:{variant.pos}:{ref}:{variant.alt}"
