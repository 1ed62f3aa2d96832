"""Reference and alternate windows around a variant, exactly as the Evo 2 BRCA1 notebook builds them.

For a variant at 0-based ``p`` and window ``W`` (even): the reference window is
``[max(0, p - W/2), min(chrom_len, p + W/2))`` and the variant sits at index ``min(W/2, p)``.
An SNV or MNV replaces bases in place. For an insertion or deletion the alternate window starts at the
same base and is filled to the reference window's length from the bases after the indel (the Evo 2
authors' protocol, ArcInstitute/evo2 issue 206), so both windows have the same length and mean scores
carry no length bias.

At a chromosome end both windows always hold their whole allele from the same start. Where the
alternate window cannot be filled (a deletion near the end), both windows end that many bases earlier;
where no pair of equal-length windows can hold both alleles (a deletion ending fewer bases before the
end than it deletes, an insertion running past the end) the variant is refused with ``OutOfBounds``
naming the chromosome end: it is never scored as something else. Windows are not shifted.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from service.coords import Interval, Variant
from service.errors import AmbiguousWindow, InvalidVariant, OutOfBounds, RefMismatch

if TYPE_CHECKING:
    from service.genome.base import SourceIdentity


@dataclass(frozen=True)
class WindowPlan:
    """Where a variant's windows lie, before any bases are read (0-based half-open)."""

    ref_interval: Interval
    #: Everything the two windows read from the genome (the alt window reaches further for deletions).
    span: Interval
    #: 0-based index of the variant's first base in both windows.
    index: int


@dataclass(frozen=True)
class VariantWindows:
    variant: Variant  # ref resolved and checked
    ref_interval: Interval
    alt_interval: Interval
    index: int
    ref_seq: str
    alt_seq: str
    #: The sequence the windows were read from (set by the engine before scoring).
    source: SourceIdentity | None = None

    @cached_property
    def non_acgt_ref(self) -> int:
        """Bases other than A, C, G and T (N and IUPAC codes) in the reference window."""
        return non_acgt(self.ref_seq)

    @cached_property
    def non_acgt_alt(self) -> int:
        """The same in the alternate window (its allele is always A, C, G, T)."""
        return non_acgt(self.alt_seq)


def non_acgt(seq: str) -> int:
    """How many characters of ``seq`` (upper-case bases) are not A, C, G or T."""
    return len(seq.encode("latin-1", "replace").translate(None, b"ACGT"))


def check_ambiguity(windows: VariantWindows, max_fraction: float) -> AmbiguousWindow | None:
    """The error for windows whose share of non-ACGT bases exceeds ``max_fraction`` (None if within)."""
    length = len(windows.ref_seq)
    ref_n, alt_n = windows.non_acgt_ref, windows.non_acgt_alt
    fraction = max(ref_n, alt_n) / length if length else 0.0
    if fraction <= max_fraction:
        return None
    v = windows.variant
    return AmbiguousWindow(
        f"the window of {v} ({windows.ref_interval.region()}) holds {max(ref_n, alt_n):,} N or other "
        f"non-ACGT bases of {length:,} ({fraction:.1%}); at most {max_fraction:.1%} is scored",
        detail={
            "chrom": v.chrom,
            "pos": v.pos,
            "non_acgt_ref": ref_n,
            "non_acgt_alt": alt_n,
            "window_length": length,
            "fraction": fraction,
            "max_fraction": max_fraction,
        },
    )


def plan_window(variant: Variant, window: int, chrom_len: int) -> WindowPlan:
    """The notebook's window rule; raises ``OutOfBounds`` when no pair of windows of equal length with
    one start can hold both alleles of the variant inside the chromosome."""
    if window < 2 or window % 2:
        raise ValueError(f"window must be an even number ≥ 2, got {window}")
    p = variant.start
    ref_len = variant.ref_length
    if p + ref_len > chrom_len:
        raise OutOfBounds(
            f"{variant.chrom}:{variant.pos} is beyond the end of {variant.chrom} ({chrom_len:,} bp)",
            detail={"chrom": variant.chrom, "pos": variant.pos, "chrom_length": chrom_len},
        )
    half = window // 2
    start = max(0, p - half)
    end = max(min(chrom_len, p + half), p + ref_len)
    # A deletion's alternate window reads as many bases past the reference window as it deletes.
    deleted = max(0, ref_len - len(variant.alt))
    after = chrom_len - (p + ref_len)
    if after < deleted:
        raise _no_room(
            variant, chrom_len, f"ends {after} bp before", f"{deleted} bases after the deleted ones"
        )
    end = min(end, chrom_len - deleted)  # near the end both windows end earlier, by the same bases
    if p + len(variant.alt) > end:
        if end < chrom_len:
            raise OutOfBounds(
                f"a {window}-bp window cannot hold the {len(variant.alt)}-bp allele at "
                f"{variant.chrom}:{variant.pos}",
                detail={"chrom": variant.chrom, "pos": variant.pos, "window": window},
            )
        raise _no_room(
            variant,
            chrom_len,
            f"starts {chrom_len - p} bp before",
            f"room for its {len(variant.alt)}-bp allele",
        )
    span = Interval(variant.chrom, start, end + deleted)
    return WindowPlan(Interval(variant.chrom, start, end), span, p - start)


def _no_room(variant: Variant, chrom_len: int, where: str, needs: str) -> OutOfBounds:
    """The ``OutOfBounds`` of a variant whose windows cannot hold both alleles at the chromosome end."""
    return OutOfBounds(
        f"the {variant.kind} at {variant.chrom}:{variant.pos} {where} the end of {variant.chrom} "
        f"({chrom_len:,} bp); its alternate window needs {needs}: no pair of equal-length windows with "
        "one start holds both alleles, and it is not scored as another variant",
        detail={"chrom": variant.chrom, "pos": variant.pos, "chrom_length": chrom_len, "end": "end"},
    )


def _mismatch(variant: Variant, observed: str, bases: str, p_rel: int) -> RefMismatch:
    """The ref mismatch error, saying when the allele sits one base away (a 0-based position?)."""
    assert variant.ref is not None
    ref, n = variant.ref, len(variant.ref)
    detail: dict[str, object] = {
        "chrom": variant.chrom,
        "position": variant.pos,
        "expected": ref,
        "observed": observed,
    }
    message = (
        f"reference allele mismatch at {variant.chrom}:{variant.pos}: the request says {ref}, "
        f"the genome has {observed}"
    )
    if bases[p_rel + 1 : p_rel + 1 + n] == ref:
        detail["matches_at"] = variant.pos + 1
        message += (
            f"; it has {ref} at {variant.chrom}:{variant.pos + 1}: did you send a 0-based position? "
            "(positions are 1-based, as in VCF)"
        )
    elif p_rel >= 1 and bases[p_rel - 1 : p_rel - 1 + n] == ref:
        detail["matches_at"] = variant.pos - 1
        message += f"; it has {ref} at {variant.chrom}:{variant.pos - 1}: is the position one too high?"
    else:
        message += " (wrong genome build or strand?)"
    return RefMismatch(message, detail=detail)


def build_windows(variant: Variant, plan: WindowPlan, span_bases: str) -> VariantWindows:
    """Cut both windows out of the span's bases, checking (or filling in) the reference allele.

    ``span_bases`` are the upper-case bases of ``plan.span``. Raises ``RefMismatch`` when the request's
    reference allele differs from the genome.
    """
    span = plan.span
    if len(span_bases) != len(span):
        raise ValueError(f"expected {len(span)} bases for {span}, got {len(span_bases)}")
    p_rel = variant.start - span.start
    ref_len = variant.ref_length
    observed = span_bases[p_rel : p_rel + ref_len]
    if variant.ref is None:
        if observed not in ("A", "C", "G", "T"):
            raise InvalidVariant(
                f"the genome has {observed!r} at {variant.chrom}:{variant.pos}; "
                "give the ref allele explicitly",
                detail={"chrom": variant.chrom, "pos": variant.pos, "observed": observed},
            )
        if observed == variant.alt:
            raise InvalidVariant(
                f"alt allele {variant.alt} equals the reference base at {variant.chrom}:{variant.pos}",
                detail={"chrom": variant.chrom, "pos": variant.pos, "ref": observed, "alt": variant.alt},
            )
        variant = variant.with_ref(observed)
    elif observed != variant.ref:
        raise _mismatch(variant, observed, span_bases, p_rel)
    assert variant.ref is not None
    ref_seq = span_bases[: plan.ref_interval.end - span.start]
    tail_start = p_rel + len(variant.ref)
    tail_len = len(ref_seq) - p_rel - len(variant.alt)
    alt_seq = span_bases[:p_rel] + variant.alt + span_bases[tail_start : tail_start + tail_len]
    if tail_len < 0 or len(alt_seq) != len(ref_seq):  # plan_window leaves room for both
        raise ValueError(f"{plan} cannot hold both alleles of {variant}")
    return VariantWindows(
        variant=variant,
        ref_interval=plan.ref_interval,
        alt_interval=Interval(span.chrom, span.start, span.start + tail_start + tail_len),
        index=plan.index,
        ref_seq=ref_seq,
        alt_seq=alt_seq,
    )
