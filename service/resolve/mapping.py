"""HGVS transcript positions ↔ genome positions on one ``Transcript`` (pure arithmetic, no I/O).

``n.`` positions count the transcript's bases from its first (``n.1``, its 5' end: ``txEnd − 1`` on
the minus strand); ``c.`` positions count from the A of the ATG (``c.1``), ``c.-N`` back into the
5' UTR and ``c.*N`` on past the stop codon. Positions before the first or after the last base of the
transcript continue linearly into the flanks (``c.-233`` beyond BRCA1's 5' end). An intronic offset
is counted from an exon's last base (``+``) or first base (``−``) along the transcript's direction,
and must stay inside that intron. Genome coordinates here are **0-based** base indexes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from service.errors import InvalidVariant
from service.genome.transcripts import Transcript
from service.notation import TxPos


@dataclass(frozen=True)
class _Exon:
    start: int  # genome, 0-based half-open
    end: int
    first: int  # n. of its first base in transcript order
    last: int


class TranscriptMap:
    """Position arithmetic of one transcript (``c.``, ``n.`` ↔ 0-based genome index)."""

    def __init__(self, transcript: Transcript) -> None:
        self.t = transcript
        self.forward = transcript.strand == "+"
        ordered = transcript.exons if self.forward else tuple(reversed(transcript.exons))
        exons: list[_Exon] = []
        n = 1
        for start, end in ordered:
            exons.append(_Exon(start, end, n, n + end - start - 1))
            n += end - start
        self.exons = tuple(exons)
        self.length = n - 1

    # -- n. ↔ genome -------------------------------------------------------------------------------

    def n_to_genome(self, n: int) -> int:
        """The 0-based genome index of transcript base ``n`` (beyond the ends: the flanks)."""
        t = self.t
        if n < 1:
            return t.tx_start + n - 1 if self.forward else t.tx_end - n
        if n > self.length:
            past = n - self.length
            return t.tx_end - 1 + past if self.forward else t.tx_start - past
        exon = next(e for e in self.exons if e.first <= n <= e.last)
        return exon.start + (n - exon.first) if self.forward else exon.end - 1 - (n - exon.first)

    def genome_to_n(self, g: int) -> tuple[int, int]:
        """``(n, offset)`` of 0-based genome index ``g``: exonic (offset 0), intronic (from the nearer
        exon boundary, the upstream one at the midpoint, as HGVS says), or in a flank."""
        t = self.t
        step = 1 if self.forward else -1
        for exon in self.exons:
            if exon.start <= g < exon.end:
                return (
                    (exon.first + (g - exon.start), 0)
                    if self.forward
                    else (exon.first + (exon.end - 1 - g), 0)
                )
        if g < t.tx_start or g >= t.tx_end:
            before = (g < t.tx_start) == self.forward  # upstream of the transcript's 5' end
            if before:
                distance = (t.tx_start - g) if self.forward else (g - (t.tx_end - 1))
                return 1 - distance, 0
            distance = (g - (t.tx_end - 1)) if self.forward else (t.tx_start - g)
            return self.length + distance, 0
        for upstream, downstream in zip(self.exons, self.exons[1:], strict=False):
            last = upstream.end - 1 if self.forward else upstream.start
            first = downstream.start if self.forward else downstream.end - 1
            lo, hi = sorted((last, first))
            if lo < g < hi:
                after_last = (g - last) * step
                before_first = (first - g) * step
                if after_last <= before_first:
                    return upstream.last, after_last
                return downstream.first, -before_first
        raise AssertionError(f"{g} is neither in an exon nor in an intron of {t.name}")

    # -- c. ↔ n. -----------------------------------------------------------------------------------

    @cached_property
    def cds(self) -> tuple[int, int]:
        """``n.`` of ``c.1`` and of the last coding base."""
        t = self.t
        if not t.coding:
            raise InvalidVariant(f"{t.name} is non-coding: use n. positions", detail={"transcript": t.name})
        first_g, last_g = (t.cds_start, t.cds_end - 1) if self.forward else (t.cds_end - 1, t.cds_start)
        return self.genome_to_n(first_g)[0], self.genome_to_n(last_g)[0]

    def c_to_n(self, pos: TxPos) -> int:
        first, last = self.cds
        if pos.utr3:
            return last + pos.base
        if pos.base < 0:
            return first + pos.base
        n = first + pos.base - 1
        if n > last:
            raise InvalidVariant(
                f"c.{pos} is past the stop codon of {self.t.name} (coding bases c.1 to "
                f"c.{last - first + 1}); positions after it are c.*1, c.*2, …",
                detail={"transcript": self.t.name, "position": f"c.{pos}", "cds_length": last - first + 1},
            )
        return n

    def n_to_c(self, n: int) -> TxPos:
        first, last = self.cds
        if n < first:
            return TxPos(False, n - first)
        if n > last:
            return TxPos(True, n - last)
        return TxPos(False, n - first + 1)

    # -- positions ---------------------------------------------------------------------------------

    def to_genome(self, pos: TxPos, kind: str) -> int:
        """The 0-based genome index of an HGVS position; ``InvalidVariant`` for an offset that does
        not start at an exon boundary or leaves its intron."""
        n = self.c_to_n(pos) if kind == "c" else pos.base
        g = self.n_to_genome(n)
        if pos.offset == 0:
            return g
        self._check_offset(n, pos, kind)
        return g + pos.offset * (1 if self.forward else -1)

    def to_position(self, g: int, kind: str) -> TxPos:
        """The HGVS position of 0-based genome index ``g``."""
        n, offset = self.genome_to_n(g)
        if kind == "n":
            return TxPos(False, n, offset)
        c = self.n_to_c(n)
        return TxPos(c.utr3, c.base, offset)

    def _check_offset(self, n: int, pos: TxPos, kind: str) -> None:
        where = f"{kind}.{pos}"
        for i, exon in enumerate(self.exons):
            boundary = exon.last if pos.offset > 0 else exon.first
            inner = i < len(self.exons) - 1 if pos.offset > 0 else i > 0
            if n == boundary and inner:
                neighbour = self.exons[i + 1] if pos.offset > 0 else self.exons[i - 1]
                intron = (
                    (neighbour.start - exon.end)
                    if self.forward == (pos.offset > 0)
                    else (exon.start - neighbour.end)
                )
                if abs(pos.offset) <= abs(intron):
                    return
                raise InvalidVariant(
                    f"{where} leaves the intron ({abs(intron)} bp) of {self.t.name}",
                    detail={"transcript": self.t.name, "position": where, "intron_length": abs(intron)},
                )
        side = "last" if pos.offset > 0 else "first"
        raise InvalidVariant(
            f"{where}: an intronic offset {pos.offset:+d} counts from the {side} base of an exon, and "
            f"{kind}.{TxPos(pos.utr3, pos.base)} is not one in {self.t.name}",
            detail={"transcript": self.t.name, "position": where},
        )
