"""The one notation parser: every way a variant may be written → a ``Variant`` or what to resolve.

``parse_notation`` reads, positions 1-based:

* genomic notations (``service.coords.parse_variant``): ``chr17:43119628:T:G``, ``chr17-43119628-T-G``,
  ``17:43119628 T>G``, ``chr17:g.43119628T>G``, ``NC_000017.11:g.43119628T>G`` → ``Variant``;
* dbSNP rsIDs, ``rs80357906`` → ``RsId`` (its alleles come from dbSNP: one rsID may mean several);
* HGVS on a versioned RefSeq transcript, ``c.`` on ``NM_`` and ``n.`` on ``NM_``/``NR_``
  (``NM_007294.4:c.5266dupC``, ``NM_007294.4(BRCA1):c.4186-2A>G``, ``NR_027676.2:n.100del``): UTR
  positions ``c.-20`` (before the A of ATG) and ``c.*15`` (after the stop codon), intronic offsets
  ``c.4186-2`` / ``c.4185+1``, substitutions, ``del``, ``dup``, ``ins`` (between two adjacent
  positions), ``delins`` (and the older ``delAGinsT``) → ``TranscriptVariant``;
* a gene symbol with ``c.``, ``BRCA1:c.181T>G`` or ``BRCA1 c.68_69del`` → ``TranscriptVariant`` without
  an accession: the gene's MANE Select transcript is used (resolution says which).

Bases are A, C, G, T in the transcript's orientation (any case). Anything else is ``InvalidVariant``
naming an example of every accepted form (``ACCEPTED_FORMS``). Standard library only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from service.coords import MAX_ALLELE_LENGTH, Variant, is_genomic_notation, parse_variant
from service.errors import InvalidVariant, clip

#: One example of each accepted form (the typed error lists them).
ACCEPTED_FORMS: dict[str, str] = {
    "genomic (1-based)": "chr17:43119628:T:G",
    "genomic, other separators": "17:43119628 T>G",
    "genomic HGVS": "NC_000017.11:g.43119628T>G",
    "dbSNP rsID": "rs80357906",
    "transcript HGVS c.": "NM_007294.4:c.181T>G",
    "intronic offset": "NM_007294.4:c.4186-2A>G",
    "5' UTR / 3' UTR": "NM_007294.4:c.-20G>A / NM_007294.4:c.*15A>G",
    "del / dup / ins / delins": "NM_007294.4:c.68_69del / c.5266dupC / c.5266_5267insC / c.181delinsGA",
    "non-coding transcript n.": "NR_027676.2:n.100A>G",
    "gene symbol (MANE Select)": "BRCA1:c.181T>G",
}

MAX_TEXT = 400
Edit = Literal["sub", "del", "dup", "ins", "delins"]
Kind = Literal["c", "n"]


@dataclass(frozen=True)
class RsId:
    """A dbSNP reference SNP id (``rs80357906``); its alleles are looked up in dbSNP."""

    rsid: str

    def __str__(self) -> str:
        return self.rsid


@dataclass(frozen=True, order=True)
class TxPos:
    """A position on a transcript, as HGVS writes it.

    ``c.``: ``base`` counts coding bases from the A of ATG (``c.1``); negative is the 5' UTR
    (``c.-1`` the base before ATG), with ``utr3`` it counts bases after the stop codon (``c.*1``).
    ``n.``: ``base`` counts from the transcript's first base. ``offset`` is an intronic distance
    from that exonic base: ``+`` into the intron after it, ``−`` into the intron before it.
    """

    utr3: bool
    base: int
    offset: int = 0

    def __str__(self) -> str:
        offset = f"{self.offset:+d}" if self.offset else ""
        return f"{'*' if self.utr3 else ''}{self.base}{offset}"


@dataclass(frozen=True)
class TranscriptVariant:
    """An HGVS ``c.``/``n.`` variant on a transcript (``accession``) or on a gene's MANE Select one."""

    accession: str | None
    gene: str | None
    kind: Kind
    start: TxPos
    end: TxPos
    edit: Edit
    #: The reference bases the notation states (transcript orientation): a substitution's base, the
    #: bases of ``delAG``/``dupC``/``delAGins…``; ``None`` when not stated.
    ref: str | None
    #: New bases (transcript orientation): a substitution's base, the inserted bases; "" for del/dup.
    alt: str
    #: The length an older notation states instead of the bases (``del21insA``: 21).
    stated_length: int | None = None

    @property
    def reference(self) -> str:
        """What the notation is written on: the accession, else the gene symbol."""
        return self.accession or self.gene or ""

    def describe(self, accession: str | None = None) -> str:
        """The notation as HGVS (on ``accession`` when given), e.g. ``NM_007294.4:c.68_69del``."""
        where = accession or self.reference
        span = str(self.start) if self.start == self.end else f"{self.start}_{self.end}"
        edit = {
            "sub": f"{self.ref}>{self.alt}",
            "del": "del",
            "dup": "dup",
            "ins": f"ins{self.alt}",
            "delins": f"delins{self.alt}",
        }[self.edit]
        return f"{where}:{self.kind}.{span}{edit}"


Notation = Variant | RsId | TranscriptVariant

_RSID_RE = re.compile(r"^rs([0-9]{1,12})$", re.ASCII | re.IGNORECASE)
_POS = r"(?:\*?-?[0-9]+(?:[+-][0-9]+)?)"
_BODY = rf"(?P<start>{_POS})(?:_(?P<end>{_POS}))?(?P<edit>.+)"
_TRANSCRIPT_RE = re.compile(
    rf"^(?P<acc>[A-Za-z]{{2}}_[0-9]+(?:\.[0-9]+)?)(?:\((?P<gene>[A-Za-z0-9._-]+)\))?:(?P<kind>[A-Za-z])\.{_BODY}$",
    re.ASCII,
)
_GENE_RE = re.compile(
    rf"^(?P<gene>[A-Za-z][A-Za-z0-9-]{{0,30}})(?:\s*:\s*|\s+)(?P<kind>[A-Za-z])\.{_BODY}$", re.ASCII
)
_PROTEIN_RE = re.compile(r"(?:^|[:\s])p\.", re.ASCII)
_POS_RE = re.compile(r"^(?P<star>\*)?(?P<base>-?[0-9]+)(?P<offset>[+-][0-9]+)?$", re.ASCII)
_BASES = r"[ACGTacgt]+"
_EDITS: tuple[tuple[Edit, re.Pattern[str]], ...] = (
    ("sub", re.compile(r"^(?P<ref>[ACGTacgt])>(?P<alt>[ACGTacgt])$")),
    ("delins", re.compile(rf"^del(?:(?P<ref>{_BASES})|(?P<count>[0-9]{{1,3}}))?ins(?P<alt>{_BASES})$")),
    ("del", re.compile(rf"^del(?:(?P<ref>{_BASES})|(?P<count>[0-9]{{1,3}}))?$")),
    ("dup", re.compile(rf"^dup(?P<ref>{_BASES})?$")),
    ("ins", re.compile(rf"^ins(?P<alt>{_BASES})$")),
)


def accepted_forms_text() -> str:
    return "; ".join(f"{form}: {example}" for form, example in ACCEPTED_FORMS.items())


def _invalid(message: str, raw: str, **extra: object) -> InvalidVariant:
    return InvalidVariant(
        f"{message}. Accepted forms: {accepted_forms_text()}",
        detail={"variant": clip(raw), **extra, "accepted": ACCEPTED_FORMS},
    )


def parse_notation(text: str, *, genome: str | None = None) -> Notation:
    """Parse one variant in any accepted notation (see the module docstring)."""
    if not isinstance(text, str) or not text.strip():
        raise _invalid("empty variant", str(text))
    raw = text.strip()
    if len(raw) > MAX_TEXT:
        raise InvalidVariant("variant notation is too long", detail={"length": len(raw)})
    rsid = _RSID_RE.match(raw)
    if rsid is not None:
        return RsId(f"rs{int(rsid.group(1))}")
    if is_genomic_notation(raw):
        return parse_variant(raw, genome=genome)
    match = _TRANSCRIPT_RE.match(raw)
    if match is not None:
        return _transcript_variant(raw, match, accession=_accession(raw, match.group("acc")))
    match = _GENE_RE.match(raw)
    if match is not None and not match.group("gene").lower().startswith("chr"):
        if match.group("gene").upper().startswith(("ENST", "ENSG")):
            raise _invalid("Ensembl ids are not resolved here; give the RefSeq transcript (NM_…)", raw)
        return _transcript_variant(raw, match, accession=None)
    if _PROTEIN_RE.search(raw):
        raise _invalid("protein (p.) notation does not name one DNA change; give the c. notation", raw)
    raise _invalid(f"cannot parse variant {clip(raw)!r}", raw)


def _accession(raw: str, accession: str) -> str:
    prefix = accession[:3].upper()
    if prefix not in ("NM_", "NR_"):
        raise _invalid(
            f"{clip(accession)} is not a RefSeq transcript accession this service resolves (NM_ or NR_)",
            raw,
        )
    if "." not in accession:
        raise _invalid(
            f"{clip(accession)} has no version: transcripts change between versions, so give it "
            f"(e.g. NM_007294.4)",
            raw,
        )
    return prefix + accession[3:]


def _transcript_variant(raw: str, match: re.Match[str], *, accession: str | None) -> TranscriptVariant:
    kind = match.group("kind")
    gene = match.groupdict().get("gene")
    if kind == "p":
        raise _invalid("protein (p.) notation does not name one DNA change; give the c. notation", raw)
    if kind not in ("c", "n"):
        raise _invalid(f"{kind}. notation on a transcript is not supported (use c. or n.)", raw)
    if accession is None and kind != "c":
        raise _invalid("a gene symbol takes c. notation (e.g. BRCA1:c.181T>G)", raw)
    if kind == "c" and accession is not None and accession.startswith("NR_"):
        raise _invalid(f"{accession} is non-coding: use n. positions, not c.", raw)
    start = _position(raw, match.group("start"), kind)
    end = _position(raw, match.group("end"), kind) if match.group("end") else start
    edit, ref, alt, count = _edit(raw, match.group("edit"))
    if edit == "sub" and ref == alt:
        raise _invalid(f"{ref}>{alt} changes nothing: not a variant", raw)
    if edit == "sub" and start != end:
        raise _invalid("a substitution (A>G) is one position; use delins for several", raw)
    if edit == "ins" and start == end:
        raise _invalid("ins needs the two positions it falls between (e.g. c.5266_5267insC)", raw)
    for allele in (ref or "", alt):
        if len(allele) > MAX_ALLELE_LENGTH:
            raise InvalidVariant(
                f"an allele of {len(allele)} bp; at most {MAX_ALLELE_LENGTH} bp is supported",
                detail={"variant": clip(raw), "max_length": MAX_ALLELE_LENGTH},
            )
    return TranscriptVariant(accession, gene, kind, start, end, edit, ref, alt, count)  # type: ignore[arg-type]


def _position(raw: str, text: str, kind: str) -> TxPos:
    match = _POS_RE.match(text)
    if match is None:
        raise _invalid(f"cannot read the position {clip(text)!r}", raw)
    star = match.group("star") is not None
    base = int(match.group("base")[:12])
    offset = int(match.group("offset") or 0)
    if kind == "n" and (star or base < 1):
        raise _invalid("n. positions count from the transcript's first base (n.1); no - or *", raw)
    if base == 0 or (star and base < 1):
        raise _invalid(f"there is no position {text} (c.1 is the A of ATG, c.-1 the base before it)", raw)
    return TxPos(star, base, offset)


def _edit(raw: str, text: str) -> tuple[Edit, str | None, str, int | None]:
    for edit, pattern in _EDITS:
        match = pattern.match(text)
        if match is not None:
            groups = match.groupdict()
            ref, count = groups.get("ref"), groups.get("count")
            alt = (groups.get("alt") or "").upper()
            return edit, ref.upper() if ref else None, alt, int(count) if count else None
    raise _invalid(
        f"cannot read the change {clip(text)!r} (A>G, del, dup, insACG or delinsACG; bases A, C, G, T)",
        raw,
    )
