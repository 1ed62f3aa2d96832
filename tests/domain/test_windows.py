"""Windows: the Evo 2 notebook's rule to the base, clamping, indels of equal length, ref checks."""

import random
from pathlib import Path

import pytest

import service
from service.coords import Interval, Variant, parse_variant
from service.domain.options import DeltaOptions
from service.domain.windows import build_windows, plan_window
from service.errors import InvalidVariant, OutOfBounds, RefMismatch, ServiceError
from service.genome.bundled import BundledGenome, read_fasta
from service.jobs.benchmark.findlay import load_findlay
from service.scoring.kmer import KmerScorer
from tests.support.parts import engine_for

W = 8192


def windows_for(variant: Variant, chrom_seq: str, window: int = W):
    plan = plan_window(variant, window, len(chrom_seq))
    return build_windows(variant, plan, chrom_seq[plan.span.start : plan.span.end])


@pytest.fixture(scope="module")
def chrom() -> str:
    rng = random.Random(7)
    return "".join(rng.choice("ACGT") for _ in range(1000))


# (description, variant (1-based), window) → expected ref interval (0-based half-open), variant index
OFF_BY_ONE = [
    ("first base of the chromosome", 1, 10, (0, 5), 0),
    ("second base", 2, 10, (0, 6), 1),
    ("clamped at the start", 3, 10, (0, 7), 2),
    ("exactly half a window from the start", 6, 10, (0, 10), 5),
    ("unclamped", 500, 10, (494, 504), 5),
    ("clamped at the end", 998, 10, (992, 1000), 5),
    ("last base of the chromosome", 1000, 10, (994, 1000), 5),
]


@pytest.mark.parametrize(("what", "pos", "window", "interval", "index"), OFF_BY_ONE)
def test_snv_windows_off_by_one_table(chrom, what, pos, window, interval, index):
    ref = chrom[pos - 1]
    alt = "A" if ref != "A" else "C"
    w = windows_for(Variant("chr1", pos, ref, alt), chrom, window)
    assert (w.ref_interval.start, w.ref_interval.end) == interval, what
    assert w.index == index
    assert w.ref_seq == chrom[interval[0] : interval[1]]
    assert w.alt_seq == w.ref_seq[:index] + alt + w.ref_seq[index + 1 :]
    assert w.ref_seq[w.index] == ref


def test_position_past_the_chromosome_end_is_out_of_bounds(chrom):
    with pytest.raises(OutOfBounds):
        plan_window(Variant("chr1", 1001, "A", "C"), 10, 1000)
    with pytest.raises(OutOfBounds):  # a deletion running past the end
        plan_window(Variant("chr1", 1000, "AC", "A"), 10, 1000)


def test_mnv_replaces_in_place(chrom):
    ref = chrom[99:102]
    alt = "".join("A" if b != "A" else "C" for b in ref)
    w = windows_for(Variant("chr1", 100, ref, alt), chrom, 20)
    assert len(w.ref_seq) == len(w.alt_seq) == 20
    assert w.alt_seq == w.ref_seq[:10] + alt + w.ref_seq[13:]


def test_insertion_keeps_equal_length_by_moving_the_alt_window_end(chrom):
    ref = chrom[99]
    w = windows_for(Variant("chr1", 100, ref, ref + "TTT"), chrom, 20)
    assert w.ref_interval == Interval("chr1", 89, 109)
    assert len(w.alt_seq) == len(w.ref_seq) == 20
    assert w.alt_seq == chrom[89:100] + "TTT" + chrom[100:106]
    assert w.alt_interval == Interval("chr1", 89, 106)


def test_deletion_keeps_equal_length_by_reading_further(chrom):
    ref = chrom[99:103]
    w = windows_for(Variant("chr1", 100, ref, ref[0]), chrom, 20)
    assert len(w.alt_seq) == len(w.ref_seq) == 20
    assert w.alt_seq == chrom[89:100] + chrom[103:112]
    assert w.alt_interval == Interval("chr1", 89, 112)


def test_deletion_at_the_chromosome_end_shrinks_both_windows(chrom):
    ref = chrom[995:998]
    w = windows_for(Variant("chr1", 996, ref, ref[0]), chrom, 20)
    assert len(w.alt_seq) == len(w.ref_seq)
    assert w.alt_seq == chrom[985:996] + chrom[998:1000]
    assert w.ref_seq == chrom[985 : 985 + len(w.alt_seq)]


def test_deletion_of_the_chromosomes_last_bases_is_out_of_bounds(chrom):
    ref = chrom[996:1000]
    with pytest.raises(OutOfBounds):
        windows_for(Variant("chr1", 997, ref, ref[0]), chrom, 20)


def test_ref_mismatch_names_both_bases(chrom):
    ref = chrom[499]
    wrong = "A" if ref != "A" else "C"
    with pytest.raises(RefMismatch) as exc:
        windows_for(Variant("chr1", 500, wrong, "G" if wrong != "G" else "T"), chrom, 10)
    assert exc.value.detail["expected"] == wrong
    assert exc.value.detail["observed"] == ref
    assert wrong in exc.value.message and ref in exc.value.message


def test_missing_ref_is_read_from_the_genome(chrom):
    ref = chrom[499]
    alt = "A" if ref != "A" else "C"
    w = windows_for(Variant("chr1", 500, None, alt), chrom, 10)
    assert w.variant.ref == ref
    with pytest.raises(InvalidVariant):  # alt equal to the genome's base is no variant
        windows_for(Variant("chr1", 500, None, ref), chrom, 10)


def notebook_windows(seq: str, offset: int, pos: int, alt: str) -> tuple[str, str, int]:
    """The Evo 2 BRCA1 notebook's code, on a slice starting at 0-based ``offset`` of the chromosome."""
    p = pos - 1 - offset
    ref_seq_start = max(0, p - W // 2)
    ref_seq_end = min(len(seq), p + W // 2)
    ref_seq = seq[ref_seq_start:ref_seq_end]
    snv_pos_in_ref = min(W // 2, p)
    var_seq = ref_seq[:snv_pos_in_ref] + alt + ref_seq[snv_pos_in_ref + 1 :]
    return ref_seq, var_seq, snv_pos_in_ref


@pytest.mark.anyio
async def test_all_findlay_snvs_get_the_notebooks_windows_and_their_ref_base():
    snvs = load_findlay()
    assert len(snvs) == 3893
    _, hg19 = read_fasta(Path(service.__file__).parent / "data/genome/hg19_chr17_41190000-41285000.fa")
    offset = 41_190_000 - 1
    engine = engine_for(KmerScorer.load(), BundledGenome())
    built = await engine.windows([parse_variant(s.notation) for s in snvs], DeltaOptions("hg19", W))
    errors = [b for b in built if isinstance(b, ServiceError)]
    assert errors == []
    ref_windows = set()
    for snv, w in zip(snvs, built, strict=True):
        ref_seq, var_seq, index = notebook_windows(hg19, offset, snv.pos, snv.alt)
        assert (w.ref_seq, w.alt_seq, w.index) == (ref_seq, var_seq, index)
        assert w.ref_interval.start == snv.pos - 1 - W // 2
        ref_windows.add(w.ref_interval)
    assert len(ref_windows) == 1326


# --- both chromosome ends, every kind of variant (issue 13) --------------------------------------------

END_CHROM = "".join(random.Random(13).choice("ACGT") for _ in range(30_000))


def edge_variants(chrom: str) -> list[Variant]:
    """Deletions, insertions, MNVs and SNVs at the first and last 80 bases of ``chrom``."""
    n = len(chrom)
    out = []
    for p in [*range(0, 80), *range(n - 80, n)]:
        for ref_len in range(1, 6):
            if p + ref_len > n:
                continue
            ref = chrom[p : p + ref_len]
            out.append(
                Variant("chrT", p + 1, ref, ref[0])
                if ref_len > 1
                else Variant("chrT", p + 1, ref, ref + "GA")
            )
            swapped = "".join("A" if b != "A" else "C" for b in ref)
            out.append(Variant("chrT", p + 1, ref, swapped))  # SNV or MNV
    return out


def check_windows(variant: Variant, w, chrom: str) -> None:
    """Both windows start at the same base, have the same length and hold their whole allele."""
    ref, alt = variant.ref, variant.alt
    assert ref is not None
    start, index = w.ref_interval.start, w.index
    n = len(w.ref_seq)
    assert len(w.alt_seq) == n and w.alt_interval.start == start
    assert w.ref_seq == chrom[start : w.ref_interval.end]
    assert w.ref_seq[index : index + len(ref)] == ref, variant
    assert w.alt_seq[:index] == w.ref_seq[:index]
    assert w.alt_seq[index : index + len(alt)] == alt, variant
    after = variant.start + len(ref)
    assert w.alt_seq[index + len(alt) :] == chrom[after : after + n - index - len(alt)]


@pytest.mark.parametrize("window", [128, W])
def test_every_variant_near_either_chromosome_end_shows_both_alleles_or_is_refused_naming_the_end(window):
    """A deletion running into the last bases once came back as a substitution: its reference window was
    trimmed to the alternate's length and lost the deleted bases. Now every variant either gets windows
    that hold both alleles whole, or an ``out_of_bounds`` that names the chromosome end, and only where no
    pair of equal-length windows with one start can hold them."""
    n = len(END_CHROM)
    refused = 0
    for variant in edge_variants(END_CHROM):
        ref_len, alt_len = len(variant.ref or ""), len(variant.alt)
        after = n - (variant.start + ref_len)  # bases of the chromosome after the ref allele
        impossible = after < ref_len - alt_len or variant.start + alt_len > n
        try:
            w = windows_for(variant, END_CHROM, window)
        except OutOfBounds as exc:
            assert impossible, (variant, exc.message)
            assert "end of chrT (30,000 bp)" in exc.message
            assert exc.detail["chrom_length"] == n
            refused += 1
            continue
        assert not impossible, variant
        check_windows(variant, w, END_CHROM)
    assert refused > 0


def test_the_window_rule_at_the_chromosome_start_is_the_notebooks():
    ref = END_CHROM[0:4]
    w = windows_for(Variant("chrT", 1, ref, ref[0]), END_CHROM)
    assert w.ref_interval == Interval("chrT", 0, W // 2) and w.index == 0
    assert w.alt_seq == ref[0] + END_CHROM[4 : W // 2 + 3]
