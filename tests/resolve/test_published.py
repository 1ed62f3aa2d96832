"""BRCA1 notations against independently published genomic coordinates (sources named per case).

Resolved offline: the bundled NM_007294.4/.3 gene models and the bundled GRCh38/GRCh37 BRCA1 slices.
Every expected coordinate below was checked against the slices' bases before it was kept:

* ClinVar, as cited in issue #17: NM_007294.4:c.181T>G = NC_000017.11:g.43106487A>C;
  c.5266dupC (rs80357906) = NC_000017.11:g.43057063dup. The slice has GGG at 43,057,063-65, so
  g.43057063dup is one placement of this dup; its 3'-shifted HGVS form is g.43057065dup.
  (The issue's c.68_69delAG = g.43124027_43124028del was *not* kept: deleting 43,124,027-28 (AC)
  gives another sequence than deleting c.68_69 (AG = plus-strand CT at 43,124,028-29); the kept check
  of c.68_69del is its equivalence with the published CDS, below.)
* VariantValidator's test suite (openvar/variantValidator, tests/test_inputs.py and
  tests/test_inputs_ensembl.py): c.301+1G>C = NC_000017.11:g.43104867C>G = NC_000017.10:g.41256884C>G;
  NM_007294.3:c.*103_*106del = NC_000017.11:g.43045573_43045576del, VCF 17-43045571-GGACA-G, and
  NC_000017.10:g.41197590_41197593del, VCF 17-41197588-GGACA-G; c.4421-63 is no exon boundary.
* counsyl/hgvs (pyhgvs/tests/test_hgvs_names.py), GRCh37, NM_007294.3: c.2207A>C = chr17:41245341
  T>G; c.4185+2_4185+22del21insA = chr17:41242938 GCACACACACACACGCTTTTTA>GT; and the positions of
  c.1, c.-1, c.80+1, c.81-1, c.*1, c.-19-10, c.*1384, c.-232, c.-233.
* shared/data/README.md (this project's data notes): c.181T>G is hg19 41,258,504 (reference A).
"""

from __future__ import annotations

import pytest

from service.errors import InvalidVariant, RefMismatch
from service.genome.bundled import BundledGenome
from service.genome.gene_models import LocalAnnotations
from service.genome.layered import LayeredGenome
from service.notation import parse_notation
from service.resolve.mapping import TranscriptMap
from service.resolve.resolver import Resolution, Resolver

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def annotations() -> LocalAnnotations:
    return LocalAnnotations.bundled()


@pytest.fixture
def resolver(annotations: LocalAnnotations) -> Resolver:
    return Resolver(LayeredGenome([BundledGenome()]), [annotations], cache_entries=64)


async def one(resolver: Resolver, text: str, genome: str = "hg38") -> Resolution:
    [resolved] = await resolver.resolve(parse_notation(text), text=text, genome=genome)
    return resolved


# (notation, build, VCF variant, HGVS g. normalised) — sources in the module docstring.
PUBLISHED = [
    ("NM_007294.4:c.181T>G", "hg38", "chr17:43106487:A:C", "NC_000017.11:g.43106487A>C"),  # ClinVar
    ("NM_007294.4:c.181T>G", "hg19", "chr17:41258504:A:C", "NC_000017.10:g.41258504A>C"),  # data README
    (
        "NM_007294.4:c.301+1G>C",
        "hg38",
        "chr17:43104867:C:G",
        "NC_000017.11:g.43104867C>G",
    ),  # VariantValidator
    (
        "NM_007294.3:c.301+1G>C",
        "hg19",
        "chr17:41256884:C:G",
        "NC_000017.10:g.41256884C>G",
    ),  # VariantValidator
    ("NM_007294.3:c.*103_*106del", "hg38", "chr17:43045571:GGACA:G", "NC_000017.11:g.43045573_43045576del"),
    ("NM_007294.3:c.*103_*106del", "hg19", "chr17:41197588:GGACA:G", "NC_000017.10:g.41197590_41197593del"),
    ("NM_007294.3:c.2207A>C", "hg19", "chr17:41245341:T:G", "NC_000017.10:g.41245341T>G"),  # counsyl
    (
        "NM_007294.4:c.5266dupC",
        "hg38",
        "chr17:43057062:T:TG",
        "NC_000017.11:g.43057065dup",
    ),  # ClinVar (placed)
]


@pytest.mark.parametrize(("text", "genome", "vcf", "hgvs_g"), PUBLISHED)
async def test_published_coordinates(
    resolver: Resolver, text: str, genome: str, vcf: str, hgvs_g: str
) -> None:
    resolved = await one(resolver, text, genome)
    assert str(resolved.variant) == vcf
    assert resolved.hgvs_g == hgvs_g
    assert resolved.transcript == text.split(":")[0]
    assert resolved.gene == "BRCA1"


def alt_haplotype(bases: str, start: int, pos: int, ref: str, alt: str) -> str:
    """``bases`` (from 0-based ``start``) with a 1-based VCF-style change applied."""
    i = pos - 1 - start
    assert bases[i : i + len(ref)] == ref
    return bases[:i] + alt + bases[i + len(ref) :]


async def test_clinvar_dup_placement_is_the_same_change(resolver: Resolver) -> None:
    """ClinVar's g.43057063dup (one placement in the GGG run) and ours give one sequence."""
    genome = BundledGenome()
    from service.coords import Interval

    region = Interval("chr17", 43057000, 43057100)
    bases = await genome.fetch("hg38", region)
    resolved = await one(resolver, "NM_007294.4:c.5266dupC")
    v = resolved.variant
    assert v.ref is not None
    ours = alt_haplotype(bases, region.start, v.pos, v.ref, v.alt)
    clinvar = alt_haplotype(bases, region.start, 43057063, "G", "GG")
    assert ours == clinvar
    assert resolved.hgvs_c == "NM_007294.4:c.5266dup"


async def test_counsyl_delins_is_the_same_change(resolver: Resolver) -> None:
    """counsyl anchors the delins at 41242938 (GCAC…A>GT); we trim the shared G: one sequence."""
    resolved = await one(resolver, "NM_007294.3:c.4185+2_4185+22del21insA", "hg19")
    assert str(resolved.variant) == "chr17:41242939:CACACACACACACGCTTTTTA:T"
    assert resolved.hgvs_c == "NM_007294.3:c.4185+2_4185+22delinsA"


async def test_founder_deletion_in_the_agag_repeat(resolver: Resolver) -> None:
    """c.68_69delAG (185delAG): the published CDS reads c.64-72 TTAGAGTGT (codon 23 GAG), so the AG
    deleted is the 3'-most of the AGAG repeat; on the plus strand the repeat is CTCT at 43,124,028-31:
    left-aligned VCF 43124027 ACT>A, 3'-shifted g.43124030_43124031del, and c.66_67del is the same."""
    resolved = await one(resolver, "NM_007294.4:c.68_69delAG")
    assert str(resolved.variant) == "chr17:43124027:ACT:A"
    assert resolved.hgvs_g == "NC_000017.11:g.43124030_43124031del"
    assert resolved.hgvs_c == "NM_007294.4:c.68_69del"
    shifted = await one(resolver, "NM_007294.4:c.66_67del")
    assert shifted.variant == resolved.variant and shifted.hgvs_c == "NM_007294.4:c.68_69del"


async def test_dup_written_5_prime_is_shifted_3_prime_on_the_minus_strand(resolver: Resolver) -> None:
    """HGVS 3' rule on the transcript's strand: a dup of the first C of the CCC run (c.5264) and an
    insertion of C between c.5265 and c.5266 are c.5266dup (lower genome coordinates for BRCA1)."""
    for text in ("NM_007294.4:c.5264dup", "NM_007294.4:c.5265_5266insC", "NM_007294.4:c.5264_5265insC"):
        resolved = await one(resolver, text)
        assert str(resolved.variant) == "chr17:43057062:T:TG", text
        assert resolved.hgvs_c == "NM_007294.4:c.5266dup", text


COUNSYL_POSITIONS = [  # NM_007294.3 on GRCh37, 1-based genome positions (counsyl/hgvs)
    ("1", 41276113), ("2", 41276112), ("-1", 41276114), ("80", 41276034), ("80+1", 41276033),
    ("81-1", 41267797), ("81", 41267796), ("5592", 41197695), ("*1", 41197694), ("*2", 41197693),
    ("-19-10", 41276142), ("*1382", 41196313), ("*1384", 41196311), ("-232", 41277500), ("-233", 41277501),
]  # fmt: skip


@pytest.mark.parametrize(("position", "expected"), COUNSYL_POSITIONS)
async def test_counsyl_positions(annotations: LocalAnnotations, position: str, expected: int) -> None:
    transcript = await annotations.transcript("hg19", "NM_007294.3")
    assert transcript is not None
    tmap = TranscriptMap(transcript)
    pos = parse_notation(f"NM_007294.3:c.{position}del").start
    assert tmap.to_genome(pos, "c") + 1 == expected
    assert tmap.to_position(expected - 1, "c") == pos


async def test_gene_symbol_uses_mane_select_and_says_so(resolver: Resolver) -> None:
    resolved = await one(resolver, "BRCA1:c.181T>G")
    assert (resolved.transcript, resolved.selection) == ("NM_007294.4", "MANE Select")
    assert str(resolved.variant) == "chr17:43106487:A:C"
    spaced = await one(resolver, "BRCA1 c.68_69del", "hg19")
    assert spaced.transcript == "NM_007294.4" and str(spaced.variant) == "chr17:41276044:ACT:A"


async def test_rsids_offline(resolver: Resolver) -> None:
    [dup] = await resolver.resolve(parse_notation("rs80357906"), text="rs80357906", genome="hg38")
    assert str(dup.variant) == "chr17:43057062:T:TG" and (dup.allele, dup.alleles) == (1, 1)
    [founder] = await resolver.resolve(parse_notation("rs80357914"), text="rs80357914", genome="hg19")
    assert str(founder.variant) == "chr17:41276044:ACT:A"


async def test_stated_bases_are_checked(resolver: Resolver) -> None:
    with pytest.raises(RefMismatch) as caught:
        await one(resolver, "NM_007294.4:c.181A>G")
    assert caught.value.detail["expected"] == "A" and caught.value.detail["observed"] == "T"
    assert caught.value.detail["position"] == 43106487
    with pytest.raises(RefMismatch):
        await one(resolver, "NM_007294.4:c.68_69delTT")


async def test_intronic_offset_must_start_at_an_exon_boundary(resolver: Resolver) -> None:
    """VariantValidator: c.4421-63 does not correspond with an exon boundary of NM_007294.3."""
    with pytest.raises(InvalidVariant, match="exon"):
        await one(resolver, "NM_007294.3:c.4421-63A>G", "hg19")
    with pytest.raises(InvalidVariant, match="stop codon"):
        await one(resolver, "NM_007294.4:c.5600A>G")
