"""Reference and alternate windows around a variant, exactly as the Evo 2 BRCA1 notebook builds them.

For a variant at 0-based ``p`` and window ``W`` (even): the reference window is
``[max(0, p - W/2), min(chrom_len, p + W/2))`` and the variant sits at index ``min(W/2, p)``.
An SNV or MNV replaces bases in place. For an insertion or deletion the alternate window starts at the
same base and is filled to the reference window's length from the bases after the indel (the Evo 2
authors' protocol, ArcInstitute/evo2 issue 206), so both windows have the same length and mean scores
carry no length bias.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.coords import Interval, Variant
from service.errors import InvalidVariant, OutOfBounds, RefMismatch


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


def plan_window(variant: Variant, window: int, chrom_len: int) -> WindowPlan:
    """The notebook's window rule; raises ``OutOfBounds`` when the variant leaves the chromosome."""
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
    # A deletion pulls in as many extra bases after the window as it removes.
    span_end = min(chrom_len, end + max(0, ref_len - len(variant.alt)))
    return WindowPlan(
        Interval(variant.chrom, start, end), Interval(variant.chrom, start, span_end), p - start
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
    ref_rel_end = plan.ref_interval.end - span.start
    ref_seq = span_bases[:ref_rel_end]
    n = len(ref_seq)
    tail_start = p_rel + len(variant.ref)
    tail_len = n - p_rel - len(variant.alt)
    if tail_len < 0:
        raise OutOfBounds(
            f"the insertion at {variant.chrom}:{variant.pos} does not fit in a window clamped at the "
            "chromosome end",
            detail={"chrom": variant.chrom, "pos": variant.pos},
        )
    tail = span_bases[tail_start : tail_start + tail_len]
    alt_seq = span_bases[:p_rel] + variant.alt + tail
    if len(alt_seq) < n:
        # A deletion near the chromosome end: both windows shrink to what the alt window can fill.
        ref_seq = ref_seq[: len(alt_seq)]
        if ref_seq == alt_seq:
            raise OutOfBounds(
                f"the deletion at {variant.chrom}:{variant.pos} runs to the chromosome end: no window "
                "of equal length shows it",
                detail={"chrom": variant.chrom, "pos": variant.pos},
            )
    alt_end = span.start + tail_start + len(tail)
    return VariantWindows(
        variant=variant,
        ref_interval=Interval(span.chrom, span.start, span.start + len(ref_seq)),
        alt_interval=Interval(span.chrom, span.start, alt_end),
        index=plan.index,
        ref_seq=ref_seq,
        alt_seq=alt_seq,
    )
