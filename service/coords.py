"""Coordinates, chromosome names and variant notation. Standard library only.

Conventions (one inside, one at the edge):

* ``Interval(chrom, start, end)`` is **0-based, half-open** (BED, Python slices, UCSC REST).
* ``Variant(chrom, pos, ref, alt)`` has ``pos`` **1-based** (VCF); it covers the interval
  ``[pos - 1, pos - 1 + len(ref))``.
* Region strings shown to people (``chr17:43119628-43119628``) are 1-based inclusive.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from service.errors import GenomeMismatch, InvalidVariant, UnknownChromosome, UnknownGenome, clip

GENOMES = ("hg38", "hg19")
#: Every accepted spelling of a build (any case) → its UCSC name.
GENOME_ALIASES = {"hg38": "hg38", "grch38": "hg38", "hg19": "hg19", "grch37": "hg19"}
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

#: Builds whose ``MT`` is another sequence than their ``chrM``: GRCh37's MT is the rCRS (NC_012920.1,
#: 16,569 bp), UCSC hg19's chrM is NC_001807 (16,571 bp). There ``MT`` keeps its name; elsewhere (hg38,
#: where both are the rCRS) it is ``chrM``.
OWN_MT_BUILDS = frozenset({"hg19"})

#: What a chromosome name may look like (checked before any upstream call).
CHROM_NAME_RE = re.compile(r"^[A-Za-z0-9_.]{1,64}$")


def check_genome(genome: str) -> str:
    """Return the canonical genome name or raise ``UnknownGenome``."""
    canonical = GENOME_ALIASES.get(genome.strip().lower())
    if canonical is None:
        raise UnknownGenome(
            f"unknown genome {genome!r}; supported: hg38 (GRCh38) and hg19 (GRCh37)",
            detail={"genome": genome, "supported": list(GENOMES)},
        )
    return canonical


def other_genome(genome: str) -> str:
    """The other supported build (hg19 for hg38 and back)."""
    return "hg19" if check_genome(genome) == "hg38" else "hg38"


def names_build(chrom: str) -> bool:
    """Whether a chromosome name itself names a build (a RefSeq accession such as NC_000017.11)."""
    return chrom.strip() in REFSEQ_ACCESSIONS


def assumed_genome_warning(genome: str) -> dict[str, str]:
    """The warning of a variant scored on the default build with nothing to confirm the build."""
    return {
        "type": "genome_assumed",
        "message": f"no genome was given and the variant has no reference allele to check the build "
        f"with: scored on {genome}, the default; send genome (hg38 or hg19) or the ref allele to be sure",
    }


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


def missing_chrom_hint(genome: str, chrom: str) -> str:
    """What to add when ``chrom`` is not in ``genome``: hg19's MT is served only by a GRCh37 FASTA."""
    if chrom == "MT" and genome in OWN_MT_BUILDS:
        return (
            "; in hg19 MT is GRCh37's rCRS, served only by a GRCh37 FASTA (UCSC hg19's chrM is another "
            "sequence, NC_001807); rCRS positions are also hg38 chrM positions"
        )
    return ""


def resolve_chrom(chrom: str, genome: str | None) -> str:
    """The canonical name of ``chrom`` in ``genome``; ``GenomeMismatch`` when it is an accession of
    another build. ``MT`` stays ``MT`` in builds of ``OWN_MT_BUILDS`` (another sequence than chrM)."""
    name, build = normalise_chrom(chrom)
    if genome is not None and build is not None and build != check_genome(genome):
        raise GenomeMismatch(
            f"{chrom} is a {build} accession but genome {genome} was requested",
            detail={"chrom": chrom, "accession_genome": build, "genome": genome},
        )
    raw = chrom.strip().upper()
    if (
        name == "chrM"
        and raw in ("MT", "CHRMT")
        and genome is not None
        and check_genome(genome) in OWN_MT_BUILDS
    ):
        return "MT"
    return name


def unknown_chromosome(chrom: str, genome: str, names: Iterable[str]) -> UnknownChromosome:
    """The error for a chromosome ``genome`` lacks, naming the closest of its ``names``."""
    known = list(names)
    close = difflib.get_close_matches(chrom, known, n=3, cutoff=0.6)
    message = f"{chrom} is not a chromosome of {genome}{missing_chrom_hint(genome, chrom)}"
    if close:
        message += f"; did you mean {' or '.join(close)}?"
    message += " (primary chromosomes: chr1 to chr22, chrX, chrY, chrM; 17, MT and NC_ accessions work too)"
    return UnknownChromosome(message, detail={"chrom": chrom, "genome": genome, "close_names": close})


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


def is_genomic_notation(text: str) -> bool:
    """Whether ``text`` has the shape of a genomic notation ``parse_variant`` reads."""
    raw = text.strip()
    return bool(_HGVS_RE.match(raw) or _VCF_RE.match(raw))


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
