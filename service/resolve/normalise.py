"""One genomic change, written three ways: VCF (left-aligned), HGVS ``g.`` and HGVS on a transcript.

A change is ``Edit(start, end, alt)``: replace the plus-strand bases ``[start, end)`` (0-based) by
``alt``. Where a deletion or an insertion lies in a repeat, many placements give the same sequence;
each notation has its rule, all applied to the same bases:

* **VCF** (what is scored and echoed as ``chr17:43057062:T:TG``): shifted to the leftmost placement on
  the plus strand, with the base before it as the anchor (as ``bcftools norm`` and gnomAD write it).
* **HGVS g.** (``NC_000017.11:g.43057063dup``): shifted to the 3'-most placement on the plus strand.
* **HGVS c./n.** (``NM_007294.4:c.5266dup``): shifted to the 3'-most placement on the *transcript's*
  strand: rightwards for a plus-strand gene, leftwards (towards lower coordinates) for a minus-strand
  one such as BRCA1; an insertion that repeats the bases 5' of it is a ``dup``.

Shifts read at most the bases given (``Bases``: a stretch of the genome around the change); a repeat
longer than that stretch stops the shift at its edge.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.coords import Variant
from service.errors import OutOfBounds

_COMPLEMENT = str.maketrans("ACGTN", "TGCAN")


def revcomp(seq: str) -> str:
    return seq.translate(_COMPLEMENT)[::-1]


@dataclass(frozen=True)
class Bases:
    """Upper-case plus-strand bases of ``[start, start + len(seq))`` (0-based) of ``chrom``."""

    chrom: str
    start: int
    seq: str

    @property
    def end(self) -> int:
        return self.start + len(self.seq)

    def get(self, start: int, end: int) -> str:
        if start < self.start or end > self.end:
            raise OutOfBounds(
                f"{self.chrom}:{start + 1}-{end} lies outside the bases read around the variant",
                detail={"chrom": self.chrom},
            )
        return self.seq[start - self.start : end - self.start]

    def at(self, index: int) -> str | None:
        return self.seq[index - self.start] if self.start <= index < self.end else None


@dataclass(frozen=True)
class Edit:
    """Replace plus-strand ``[start, end)`` (0-based) by ``alt``."""

    start: int
    end: int
    alt: str


def trim(edit: Edit, bases: Bases) -> Edit:
    """The same change without bases shared by both alleles (suffix first, then prefix)."""
    ref, alt, start, end = bases.get(edit.start, edit.end), edit.alt, edit.start, edit.end
    while ref and alt and ref[-1] == alt[-1]:
        ref, alt, end = ref[:-1], alt[:-1], end - 1
    while ref and alt and ref[0] == alt[0]:
        ref, alt, start = ref[1:], alt[1:], start + 1
    return Edit(start, end, alt)


def shift(edit: Edit, bases: Bases, *, right: bool) -> Edit:
    """A trimmed insertion or deletion moved as far right (or left) as the repeat it lies in allows."""
    start, end, alt = edit.start, edit.end, edit.alt
    if (end > start) == bool(alt):  # a substitution or delins: nothing to shift
        return edit
    if alt:  # insertion at point ``start``
        if right:
            while bases.at(start) is not None and bases.at(start) == alt[0]:
                alt, start = alt[1:] + alt[0], start + 1
        else:
            while bases.at(start - 1) is not None and bases.at(start - 1) == alt[-1]:
                alt, start = alt[-1] + alt[:-1], start - 1
        return Edit(start, start, alt)
    if right:
        while bases.at(end) is not None and bases.at(end) == bases.at(start):
            start, end = start + 1, end + 1
    else:
        while bases.at(start - 1) is not None and bases.at(start - 1) == bases.at(end - 1):
            start, end = start - 1, end - 1
    return Edit(start, end, "")


def to_vcf(edit: Edit, bases: Bases) -> Variant:
    """The left-aligned VCF variant (1-based ``pos``; indels carry the base before them)."""
    edit = shift(trim(edit, bases), bases, right=False)
    ref = bases.get(edit.start, edit.end)
    if ref and edit.alt:
        return Variant(bases.chrom, edit.start + 1, ref, edit.alt)
    anchor = bases.at(edit.start - 1)
    if anchor is None:
        raise OutOfBounds(
            f"a change at the first base of {bases.chrom} has no base before it to anchor it",
            detail={"chrom": bases.chrom},
        )
    return Variant(bases.chrom, edit.start, anchor + ref, anchor + edit.alt)


def describe(edit: Edit, bases: Bases, *, forward: bool) -> tuple[str, int, int, str]:
    """``(kind, first, last, seq)`` of the trimmed change 3'-shifted along ``forward`` (plus strand)
    or against it: ``kind`` ``sub``, ``del``, ``dup``, ``ins`` or ``delins``; ``first``/``last`` the
    0-based genome indexes it names in that direction's order; ``seq`` the new bases in that
    orientation (the inserted or substituted ones; empty for del and dup)."""
    edit = shift(trim(edit, bases), bases, right=forward)
    ref = bases.get(edit.start, edit.end)
    orient = (lambda s: s) if forward else revcomp
    span = (edit.start, edit.end - 1) if forward else (edit.end - 1, edit.start)
    if ref and edit.alt:
        kind = "sub" if len(ref) == len(edit.alt) == 1 else "delins"
        return kind, *span, orient(edit.alt)
    if ref:
        return "del", *span, ""
    size, point = len(edit.alt), edit.start
    lo, hi = (point - size, point) if forward else (point, point + size)
    # Bases beyond the stretch read cannot show a repeat (as a shift stops at its edge): an insertion.
    before = bases.get(lo, hi) if bases.start <= lo and hi <= bases.end else None
    if before == edit.alt:  # repeats the bases 5' of it (in this orientation): a duplication
        dup = (point - size, point - 1) if forward else (point + size - 1, point)
        return "dup", *dup, ""
    between = (point - 1, point) if forward else (point, point - 1)
    return "ins", *between, orient(edit.alt)
