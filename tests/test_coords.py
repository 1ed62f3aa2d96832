"""Variant notation, chromosome names and RefSeq accessions."""

import pytest

from service.coords import (
    REFSEQ_ACCESSIONS,
    Interval,
    Variant,
    check_genome,
    format_variant,
    make_variant,
    normalise_chrom,
    parse_variant,
)
from service.errors import GenomeMismatch, InvalidVariant, UnknownGenome

EXAMPLE = Variant("chr17", 43119628, "T", "G")


@pytest.mark.parametrize(
    "text",
    [
        "chr17:43119628:T:G",
        "chr17-43119628-T-G",
        "17:43119628 T>G",
        "17:43119628:T>G",
        "chr17:g.43119628T>G",
        "NC_000017.11:g.43119628T>G",
        "17_43119628_T_G",
        "chr17_43119628_T_G_b38",
        "  chr17:43119628:t:g  ",
        "CHR17:43119628:T:G",
    ],
)
def test_every_notation_parses_to_the_same_variant(text):
    assert parse_variant(text, genome="hg38") == EXAMPLE


@pytest.mark.parametrize(
    "variant",
    [
        EXAMPLE,
        Variant("chrX", 1, "A", "C"),
        Variant("chrM", 16569, "ACGT", "A"),
        Variant("chr1", 100, "A", "ATTT"),
        Variant("chr22", 5, "AC", "GT"),
    ],
)
def test_format_round_trips(variant):
    assert parse_variant(format_variant(variant)) == variant


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("17", ("chr17", None)),
        ("chr17", ("chr17", None)),
        ("Chr17", ("chr17", None)),
        ("x", ("chrX", None)),
        ("MT", ("chrM", None)),
        ("chrMT", ("chrM", None)),
        ("M", ("chrM", None)),
        ("NC_000017.11", ("chr17", "hg38")),
        ("NC_000017.10", ("chr17", "hg19")),
        ("NC_000023.11", ("chrX", "hg38")),
        ("NC_000024.9", ("chrY", "hg19")),
        ("NC_012920.1", ("chrM", "hg38")),
        ("chr1_KI270706v1_random", ("chr1_KI270706v1_random", None)),
    ],
)
def test_chromosome_aliases(name, expected):
    assert normalise_chrom(name) == expected


def test_accession_table_covers_both_builds_of_every_primary_chromosome():
    for build in ("hg38", "hg19"):
        chroms = {c for c, b in REFSEQ_ACCESSIONS.values() if b == build}
        expected = {f"chr{i}" for i in range(1, 23)} | {"chrX", "chrY"}
        assert expected <= chroms
    assert REFSEQ_ACCESSIONS["NC_000001.11"] == ("chr1", "hg38")
    assert REFSEQ_ACCESSIONS["NC_000007.13"] == ("chr7", "hg19")


def test_an_accession_of_the_other_build_is_refused():
    with pytest.raises(GenomeMismatch) as exc:
        parse_variant("NC_000017.10:g.41276135T>G", genome="hg38")
    assert exc.value.detail["accession_genome"] == "hg19"
    with pytest.raises(GenomeMismatch):
        parse_variant("chr17_43119628_T_G_b38", genome="hg19")
    assert parse_variant("NC_000017.10:g.41276135T>G", genome="hg19").chrom == "chr17"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "chr17",
        "chr17:43119628",
        "chr17:abc:T:G",
        "chr17:0:T:G",
        "chr17:43119628:T:T",
        "chr17:43119628:X:G",
        "chr17:43119628:T:N",
        "chr17;evil=1:5:A:C",
        "chr17:43119628:T:" + "A" * 65,
        "NC_999999.1:g.5A>C",
        "chr17:99999999999999:A:C",
        "chr17:g.5A>",
        "chr1:-5:A:C",
        "chr1::5:A:C",
    ],
)
def test_malformed_notation_is_invalid_variant(text):
    with pytest.raises(InvalidVariant):
        parse_variant(text)


def test_structured_fields_upper_case_and_allow_missing_ref():
    assert make_variant("17", 43119628, "t", "g") == EXAMPLE
    assert make_variant("17", 43119628, None, "g") == Variant("chr17", 43119628, None, "G")
    with pytest.raises(InvalidVariant):
        make_variant("17", 43119628, None, "GA")  # an indel needs its ref allele
    with pytest.raises(InvalidVariant):
        make_variant("17", 0, "T", "G")


def test_variant_kinds_and_intervals():
    assert EXAMPLE.kind == "snv"
    assert EXAMPLE.interval == Interval("chr17", 43119627, 43119628)
    assert Variant("chr1", 10, "AC", "GT").kind == "mnv"
    assert Variant("chr1", 10, "A", "AT").kind == "insertion"
    assert Variant("chr1", 10, "AT", "A").kind == "deletion"
    assert Variant("chr1", 10, "AT", "A").interval == Interval("chr1", 9, 11)


def test_region_strings_are_one_based_inclusive():
    assert Interval("chr17", 43119627, 43119628).region() == "chr17:43119628-43119628"
    assert len(Interval("chr17", 0, 8192)) == 8192


def test_genome_names():
    assert check_genome("GRCh38") == "hg38"
    assert check_genome("hg19") == "hg19"
    with pytest.raises(UnknownGenome):
        check_genome("hg99")
