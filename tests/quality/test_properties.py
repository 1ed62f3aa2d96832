"""Properties over many generated inputs: the variant parser and the window rule.

* Every accepted notation of a variant parses back to it (format → parse round trip).
* Text that is not a variant raises ``InvalidVariant``, never another exception.
* The window rule of the Evo 2 BRCA1 notebook: length, the variant's index, clamping at both ends.
* Indel windows on random chromosomes: both windows have the same length, the reference window is the
  genome's bases and the alternate window is the edited genome's bases from the same start.
"""

from __future__ import annotations

import string

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from service.coords import (
    MAX_ALLELE_LENGTH,
    REFSEQ_ACCESSIONS,
    Variant,
    format_variant,
    make_variant,
    parse_variant,
)
from service.domain.windows import build_windows, plan_window
from service.errors import GenomeMismatch, InvalidVariant, OutOfBounds, RefMismatch

PROPERTY = settings(max_examples=300, deadline=None)

CHROMS = [*(f"chr{i}" for i in range(1, 23)), "chrX", "chrY", "chrM"]
bases = st.text(alphabet="ACGT", min_size=1, max_size=MAX_ALLELE_LENGTH)
positions = st.integers(min_value=1, max_value=9_999_999_999)


@st.composite
def variants(draw: st.DrawFn) -> Variant:
    ref = draw(bases)
    alt = draw(bases.filter(lambda a: a != ref))
    return Variant(draw(st.sampled_from(CHROMS)), draw(positions), ref, alt)


def notations(v: Variant) -> list[str]:
    assert v.ref is not None
    bare = v.chrom.removeprefix("chr")
    return [
        format_variant(v),
        f"{v.chrom}-{v.pos}-{v.ref}-{v.alt}",
        f"{bare}:{v.pos} {v.ref}>{v.alt}",
        f"{bare}_{v.pos}_{v.ref}_{v.alt}",
        f"{v.chrom}:g.{v.pos}{v.ref}>{v.alt}",
        f"  {v.chrom.upper()}:{v.pos}:{v.ref.lower()}:{v.alt.lower()}\t",
    ]


@PROPERTY
@given(variants())
def test_every_notation_parses_back_to_the_variant(variant: Variant) -> None:
    for text in notations(variant):
        assert parse_variant(text) == variant, text
    assert parse_variant(format_variant(variant), genome="hg38") == variant


@PROPERTY
@given(variants(), st.sampled_from(sorted(REFSEQ_ACCESSIONS)))
def test_refseq_accessions_name_their_chromosome_and_build(variant: Variant, accession: str) -> None:
    chrom, build = REFSEQ_ACCESSIONS[accession]
    assert build is not None
    text = f"{accession}:g.{variant.pos}{variant.ref}>{variant.alt}"
    assert parse_variant(text, genome=build) == Variant(chrom, variant.pos, variant.ref, variant.alt)
    other = "hg19" if build == "hg38" else "hg38"
    with pytest.raises(GenomeMismatch):
        parse_variant(text, genome=other)


def outcome(text: str) -> Variant | InvalidVariant:
    """``parse_variant(text)``: the variant, or the ``InvalidVariant`` raised; anything else fails."""
    try:
        return parse_variant(text)
    except InvalidVariant as exc:
        return exc


@PROPERTY
@given(st.text(max_size=120))
@example("")
@example("chr17:0:T:G")
@example("chr17:43119628:T:T")
@example("chr17:43119628:T:")
@example("chr17:43119628:X:G")
@example("chr17;genome=hg19:43119628:T:G")
@example("../../etc/passwd:1:A:C")
@example("chr17:99999999999:T:G")
@example("NC_000099.1:g.5A>C")
@example("chr17:43119628:" + "A" * 65 + ":G")
@example("\x00chr17:1:A:C")
def test_any_text_is_a_variant_or_an_invalid_variant(text: str) -> None:
    result = outcome(text)
    if isinstance(result, Variant):
        # Whatever is accepted is a well-formed variant that formats and parses back to itself.
        assert result.pos >= 1 and result.ref is not None and result.ref != result.alt
        assert set(result.ref) | set(result.alt) <= set("ACGT")
        assert parse_variant(format_variant(result)) == result


@st.composite
def spoiled(draw: st.DrawFn) -> str:
    """A valid notation with one part made invalid."""
    variant = draw(variants())
    assert variant.ref is not None
    bad_allele = draw(
        st.one_of(
            st.just(""),
            st.text(alphabet="BDEFHIJKLMOPQRSUVWXYZ0123456789*-.", min_size=1, max_size=5),
            st.text(alphabet="ACGT", min_size=MAX_ALLELE_LENGTH + 1, max_size=MAX_ALLELE_LENGTH + 5),
        )
    )
    bad_chrom = draw(
        st.one_of(
            st.just(""),
            st.text(alphabet=";&=/ ?#%\\'\"<>", min_size=1, max_size=3).map(lambda s: f"chr1{s}7"),
            st.text(alphabet=string.ascii_letters, min_size=65, max_size=70),
        )
    )
    # Not "-5": "chr1:-5:A:C" reads as position 5, since "-" separates fields too (reported).
    bad_pos = draw(st.sampled_from(["0", "00", "1.5", "", "12345678901", "1e6", "x", "+5"]))
    which = draw(st.sampled_from(["ref", "alt", "chrom", "pos", "same"]))
    chrom, pos, ref, alt = variant.chrom, str(variant.pos), variant.ref, variant.alt
    if which == "ref":
        ref = bad_allele
    elif which == "alt":
        alt = bad_allele
    elif which == "chrom":
        chrom = bad_chrom
    elif which == "pos":
        pos = bad_pos
    else:
        alt = ref
    return f"{chrom}:{pos}:{ref}:{alt}"


@PROPERTY
@given(spoiled())
def test_a_spoiled_notation_raises_invalid_variant(text: str) -> None:
    with pytest.raises(InvalidVariant):
        parse_variant(text)


@PROPERTY
@given(
    chrom=st.text(max_size=80),
    pos=st.one_of(st.integers(), st.booleans()),
    ref=st.one_of(st.none(), st.text(max_size=80)),
    alt=st.text(max_size=80),
)
def test_structured_fields_are_a_variant_or_an_invalid_variant(
    chrom: str, pos: int, ref: str | None, alt: str
) -> None:
    try:
        variant = make_variant(chrom, pos, ref, alt)
    except InvalidVariant:
        return
    assert variant.pos >= 1 and not isinstance(pos, bool)
    assert set(variant.alt) <= set("ACGT") and len(variant.alt) <= MAX_ALLELE_LENGTH


# --- the window rule ---------------------------------------------------------------------------------

windows = st.integers(min_value=1, max_value=600).map(lambda half: 2 * half)


@PROPERTY
@given(data=st.data(), window=windows, chrom_len=st.integers(min_value=1, max_value=5_000))
def test_snv_window_follows_the_notebook_rule(data: st.DataObject, window: int, chrom_len: int) -> None:
    pos = data.draw(st.integers(min_value=1, max_value=chrom_len))
    plan = plan_window(Variant("chr1", pos, "A", "C"), window, chrom_len)
    p, half = pos - 1, window // 2
    assert plan.ref_interval.start == max(0, p - half)
    assert plan.ref_interval.end == min(chrom_len, p + half)
    assert plan.index == min(half, p)
    assert plan.span == plan.ref_interval  # an SNV reads nothing beyond its window
    if half <= p <= chrom_len - half:
        assert len(plan.ref_interval) == window and plan.index == half
    assert len(plan.ref_interval) <= window


@PROPERTY
@given(window=windows, chrom_len=st.integers(min_value=1, max_value=5_000), beyond=st.integers(1, 1000))
def test_a_variant_past_the_chromosome_end_is_out_of_bounds(window: int, chrom_len: int, beyond: int) -> None:
    with pytest.raises(OutOfBounds):
        plan_window(Variant("chr1", chrom_len + beyond, "A", "C"), window, chrom_len)


@st.composite
def edits(draw: st.DrawFn) -> tuple[str, Variant, int]:
    """A random chromosome, a variant on it (ref read from it) and a window."""
    genome = draw(st.text(alphabet="ACGT", min_size=2, max_size=1_500))
    kind = draw(st.sampled_from(["snv", "mnv", "insertion", "deletion"]))
    ref_len = 1 if kind in ("snv", "insertion") else draw(st.integers(2, min(20, len(genome))))
    start = draw(st.integers(0, len(genome) - ref_len))
    ref = genome[start : start + ref_len]
    if kind == "insertion":
        alt = ref + draw(st.text(alphabet="ACGT", min_size=1, max_size=20))
    elif kind == "deletion":
        alt = ref[0]
    else:
        alt = draw(st.text(alphabet="ACGT", min_size=ref_len, max_size=ref_len).filter(lambda a: a != ref))
    return genome, Variant("chrR", start + 1, ref, alt), draw(st.integers(1, 400).map(lambda h: 2 * h))


@PROPERTY
@given(edits())
def test_both_windows_have_equal_length_and_read_the_right_bases(case: tuple[str, Variant, int]) -> None:
    """Both windows start at one base, have one length and hold their whole allele, also where they are
    shortened at the chromosome end; a variant is refused (``OutOfBounds``) only where no such pair of
    windows exists. (Before issue 13 a deletion near the end was trimmed to a window without its
    deleted bases and scored as a substitution; this property did not check alleles there.)"""
    genome, variant, window = case
    assert variant.ref is not None
    p = variant.start
    deleted = max(0, len(variant.ref) - len(variant.alt))
    try:
        plan = plan_window(variant, window, len(genome))
    except OutOfBounds:
        after = len(genome) - (p + len(variant.ref))
        ends_at = min(len(genome) - deleted, max(min(len(genome), p + window // 2), p + len(variant.ref)))
        assert after < deleted or p + len(variant.alt) > ends_at, variant
        return
    built = build_windows(variant, plan, genome[plan.span.start : plan.span.end])
    edited = genome[:p] + variant.alt + genome[p + len(variant.ref) :]
    n = len(built.ref_seq)
    assert len(built.alt_seq) == n == len(plan.ref_interval) > 0
    assert built.index == plan.index == p - plan.ref_interval.start
    assert built.ref_seq == genome[plan.ref_interval.start : plan.ref_interval.start + n]
    assert built.alt_seq == edited[plan.ref_interval.start : plan.ref_interval.start + n]
    assert built.ref_interval.start == built.alt_interval.start == plan.ref_interval.start
    assert built.ref_seq[built.index : built.index + len(variant.ref)] == variant.ref
    assert built.alt_seq[built.index : built.index + len(variant.alt)] == variant.alt
    half = window // 2
    if (
        half <= p
        and p + half + deleted <= len(genome)
        and len(variant.ref) <= half
        and len(variant.alt) <= half
    ):
        assert n == window  # away from both ends the window is exactly the requested length


@PROPERTY
@given(edits(), st.sampled_from("ACGT"))
def test_a_wrong_reference_allele_never_builds_windows(case: tuple[str, Variant, int], base: str) -> None:
    genome, variant, window = case
    assert variant.ref is not None
    assume(variant.ref[0] != base)
    wrong = Variant(variant.chrom, variant.pos, base + variant.ref[1:], variant.alt)
    assume(wrong.ref != wrong.alt)
    try:
        plan = plan_window(wrong, window, len(genome))
    except OutOfBounds:  # refused before any bases are read: no windows either
        return
    with pytest.raises(RefMismatch):
        build_windows(wrong, plan, genome[plan.span.start : plan.span.end])
