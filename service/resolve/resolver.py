"""``Resolver``: a parsed notation → the genomic variant(s) it means, with what was used to say so.

* a genomic ``Variant`` is itself (its reference allele checked, or read, when asked);
* an ``RsId`` is looked up in dbSNP (the annotation sources in order); each alternate allele is one
  ``Resolution`` (``allele`` *i* of ``alleles``), in dbSNP's order;
* a ``TranscriptVariant`` is placed with its transcript's gene model (a gene symbol first becomes
  its MANE Select accession), its stated bases are checked against the genome (the same
  ``ref_mismatch`` as genomic input), and the change is written three ways (``normalise``): the
  left-aligned VCF variant that is scored, HGVS ``g.`` and the normalised HGVS on the transcript.

Look-ups (transcripts, MANE Select choices, rsIDs, misses included) are cached, and concurrent
look-ups of one key share one call; a remote source charges each call it sends to the request's
fetch budget, as sequence fetches do. Reference bases come from the genome sources (bundled slices
first, so BRCA1 needs no network).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from service.coords import MAX_ALLELE_LENGTH, REFSEQ_ACCESSIONS, Interval, Variant, unknown_chromosome
from service.errors import InvalidVariant, RefMismatch, ServiceError, UnknownRsid, UnknownTranscript
from service.genome.base import GenomeSource
from service.genome.transcripts import MANE_SELECT, AnnotationSource, SnpRecord, Transcript
from service.notation import Notation, RsId, TranscriptVariant, TxPos
from service.resolve.mapping import TranscriptMap
from service.resolve.normalise import Bases, Edit, describe, revcomp, to_vcf

#: Bases read on each side of a change to shift it through a repeat (longer repeats stop the shift).
FLANK_BP = 300
#: NC_ accession of each chromosome and build (``NC_000017.11`` for hg38 chr17).
_ACCESSION_OF = {(build, chrom): acc for acc, (chrom, build) in REFSEQ_ACCESSIONS.items() if build}

T = TypeVar("T")


@dataclass(frozen=True)
class Resolution:
    """One genomic variant a notation means, and how it was found."""

    input: str
    notation: Literal["genomic", "rsid", "hgvs"]
    variant: Variant
    genome: str
    transcript: str | None = None
    gene: str | None = None
    #: How the transcript was chosen: ``given`` (in the notation) or ``MANE Select`` (from a gene).
    selection: str | None = None
    #: Where the gene model or dbSNP record came from (``bundled:…``, ``ucsc:hg38.ncbiRefSeq``, …).
    record_source: str | None = None
    hgvs_c: str | None = None
    hgvs_g: str | None = None
    rsid: str | None = None
    #: For an rsID: this allele's 1-based rank among its alternate alleles, and how many there are.
    allele: int | None = None
    alleles: int | None = None
    notes: tuple[str, ...] = field(default=())


class Resolver:
    def __init__(
        self,
        genome: GenomeSource,
        annotations: Sequence[AnnotationSource],
        *,
        cache_entries: int,
        flank_bp: int = FLANK_BP,
    ) -> None:
        self.genome = genome
        self.annotations = list(annotations)
        self.cache_entries = cache_entries
        self.flank_bp = flank_bp
        self._cache: OrderedDict[tuple[str, ...], Any] = OrderedDict()
        self._inflight: dict[tuple[str, ...], asyncio.Task[Any]] = {}
        self.hits = 0
        self.misses = 0

    # -- entry point -------------------------------------------------------------------------------

    async def resolve(
        self, notation: Notation, *, text: str, genome: str, check_genomic: bool = True
    ) -> list[Resolution]:
        """What ``notation`` (written as ``text``) means on ``genome``; errors are ``ServiceError``."""
        if isinstance(notation, RsId):
            return await self._rsid(notation, text, genome)
        if isinstance(notation, TranscriptVariant):
            return [await self._hgvs(notation, text, genome)]
        variant = notation
        if check_genomic:
            variant = await self._checked(variant, genome)
        return [Resolution(text, "genomic", variant, genome, hgvs_g=_hgvs_g_of(variant, genome))]

    def describe(self) -> dict[str, Any]:
        return {
            "sources": [s.describe() for s in self.annotations],
            "cache": {"entries": len(self._cache), "max_entries": self.cache_entries,
                      "hits": self.hits, "misses": self.misses},
        }  # fmt: skip

    async def aclose(self) -> None:
        for task in list(self._inflight.values()):
            task.cancel()
        for source in self.annotations:
            await source.aclose()

    # -- cached look-ups ---------------------------------------------------------------------------

    async def _cached(self, key: tuple[str, ...], load: Callable[[], Coroutine[Any, Any, T]]) -> T:
        if key in self._cache:
            self.hits += 1
            self._cache.move_to_end(key)
            return self._cache[key]  # type: ignore[no-any-return]
        task = self._inflight.get(key)
        if task is None:
            self.misses += 1
            task = asyncio.get_running_loop().create_task(load())
            self._inflight[key] = task
            task.add_done_callback(lambda done: self._settle(key, done))
        return await asyncio.shield(task)

    def _settle(self, key: tuple[str, ...], task: asyncio.Task[Any]) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]
        if task.cancelled() or task.exception() is not None:
            return  # failures are not cached: the next request asks again
        self._cache[key] = task.result()
        while len(self._cache) > self.cache_entries:
            self._cache.popitem(last=False)

    async def _first(self, ask: Callable[[AnnotationSource], Awaitable[T | None]]) -> T | None:
        for source in self.annotations:
            found = await ask(source)
            if found is not None:
                return found
        return None

    async def transcript(self, genome: str, accession: str) -> Transcript | None:
        return await self._cached(
            ("tx", genome, accession), lambda: self._first(lambda s: s.transcript(genome, accession))
        )

    async def select_transcript(self, gene: str) -> str | None:
        return await self._cached(
            ("select", gene.upper()), lambda: self._first(lambda s: s.select_transcript(gene))
        )

    async def snp(self, genome: str, rsid: str) -> SnpRecord | None:
        return await self._cached(("snp", genome, rsid), lambda: self._first(lambda s: s.snp(genome, rsid)))

    def _holdings(self) -> str:
        return ", ".join(s.name for s in self.annotations) or "none"

    # -- bases -------------------------------------------------------------------------------------

    async def _bases(self, genome: str, chrom: str, start: int, end: int) -> Bases:
        sizes = await self.genome.chrom_sizes(genome)
        if chrom not in sizes:
            raise unknown_chromosome(chrom, genome, sizes)
        lo, hi = max(0, start - self.flank_bp), min(sizes[chrom], end + self.flank_bp)
        return Bases(chrom, lo, await self.genome.fetch(genome, Interval(chrom, lo, hi)))

    async def _checked(self, variant: Variant, genome: str) -> Variant:
        bases = await self._bases(genome, variant.chrom, variant.start, variant.start + variant.ref_length)
        observed = bases.get(variant.start, variant.start + variant.ref_length)
        if variant.ref is None:
            return variant.with_ref(observed)
        if variant.ref != observed:
            raise _mismatch(f"{variant.chrom}:{variant.pos}", variant.ref, observed, genome, variant)
        return variant

    # -- rsIDs -------------------------------------------------------------------------------------

    async def _rsid(self, notation: RsId, text: str, genome: str) -> list[Resolution]:
        record = await self.snp(genome, notation.rsid)
        if record is None:
            raise UnknownRsid(
                f"{notation.rsid} is not in the dbSNP records of this deployment for {genome} "
                f"(sources: {self._holdings()})",
                detail={"rsid": notation.rsid, "genome": genome, "sources": self._holdings()},
            )
        alts = [alt for alt in record.alts if alt != record.ref]
        if not alts:
            raise InvalidVariant(
                f"dbSNP gives {notation.rsid} no alternate allele", detail={"rsid": notation.rsid}
            )
        bases = await self._bases(genome, record.chrom, record.start, record.end)
        observed = bases.get(record.start, record.end)
        if record.ref != observed:
            where = f"{record.chrom}:{record.start + 1}"
            raise _mismatch(f"{where} ({notation.rsid}, from dbSNP)", record.ref, observed, genome, None)
        out = []
        for rank, alt in enumerate(alts, start=1):
            edit = Edit(record.start, record.end, alt)
            variant = to_vcf(edit, bases)
            out.append(
                Resolution(
                    text, "rsid", variant, genome, record_source=record.source,
                    hgvs_g=_hgvs_g(edit, bases, genome), rsid=notation.rsid, allele=rank, alleles=len(alts),
                )
            )  # fmt: skip
        return out

    # -- HGVS on transcripts -----------------------------------------------------------------------

    async def _hgvs(self, notation: TranscriptVariant, text: str, genome: str) -> Resolution:
        accession, selection = notation.accession, "given"
        if accession is None:
            assert notation.gene is not None
            accession = await self.select_transcript(notation.gene)
            selection = MANE_SELECT
            if accession is None:
                raise UnknownTranscript(
                    f"no MANE Select transcript of {notation.gene} is known here (sources: "
                    f"{self._holdings()}); name the transcript, e.g. NM_007294.4:c.181T>G",
                    detail={"gene": notation.gene, "sources": self._holdings()},
                )
        transcript = await self.transcript(genome, accession)
        if transcript is None:
            raise UnknownTranscript(
                f"{accession} is not in the gene models of this deployment for {genome} (sources: "
                f"{self._holdings()})",
                detail={"transcript": accession, "genome": genome, "sources": self._holdings()},
            )
        if notation.gene and notation.accession and notation.gene.upper() != transcript.gene.upper():
            raise InvalidVariant(
                f"{accession} is a transcript of {transcript.gene}, not of {notation.gene}",
                detail={"transcript": accession, "gene": transcript.gene, "given_gene": notation.gene},
            )
        return await self._place(notation, text, genome, transcript, selection)

    async def _place(
        self, notation: TranscriptVariant, text: str, genome: str, transcript: Transcript, selection: str
    ) -> Resolution:
        tmap = TranscriptMap(transcript)
        first = tmap.to_genome(notation.start, notation.kind)
        last = tmap.to_genome(notation.end, notation.kind)
        if (last - first) * (1 if tmap.forward else -1) < 0:
            raise InvalidVariant(
                f"{notation.kind}.{notation.start}_{notation.end}: the first position must come first",
                detail={"variant": text},
            )
        lo, hi = min(first, last), max(first, last) + 1
        if hi - lo > MAX_ALLELE_LENGTH and notation.edit != "ins":
            raise InvalidVariant(
                f"the change spans {hi - lo} bp; at most {MAX_ALLELE_LENGTH} bp is supported",
                detail={"variant": text, "max_length": MAX_ALLELE_LENGTH},
            )
        bases = await self._bases(genome, transcript.chrom, lo, hi)
        edit = self._edit(notation, text, tmap, bases, lo, hi, genome)
        variant = to_vcf(edit, bases)
        return Resolution(
            text, "hgvs", variant, genome, transcript.name, transcript.gene, selection, transcript.source,
            hgvs_c=_hgvs_tx(edit, bases, tmap, notation.kind, transcript.name),
            hgvs_g=_hgvs_g(edit, bases, genome),
        )  # fmt: skip

    def _edit(
        self,
        n: TranscriptVariant,
        text: str,
        tmap: TranscriptMap,
        bases: Bases,
        lo: int,
        hi: int,
        genome: str,
    ) -> Edit:
        """The change on the plus strand, the notation's stated bases checked against the genome."""
        orient = (lambda s: s) if tmap.forward else revcomp
        observed = orient(bases.get(lo, hi))
        if n.stated_length is not None and n.stated_length != hi - lo:
            raise InvalidVariant(
                f"{text}: the notation says {n.stated_length} bases, its positions span {hi - lo}",
                detail={"variant": text, "stated_length": n.stated_length, "span": hi - lo},
            )
        if n.ref is not None and n.edit != "ins" and n.ref != observed:
            where = f"{tmap.t.name}:{n.kind}.{n.start}" + (f"_{n.end}" if n.end != n.start else "")
            raise _mismatch(where, n.ref, observed, genome, None, chrom=tmap.t.chrom, pos=lo + 1, t=tmap.t)
        if n.edit == "ins":
            if hi - lo != 2 or _adjacent_bases(n, tmap) is False:
                raise InvalidVariant(
                    f"{n.kind}.{n.start}_{n.end}ins: an insertion lies between two adjacent bases",
                    detail={"variant": text},
                )
            return Edit(lo + 1, lo + 1, orient(n.alt))
        if n.edit == "dup":
            return Edit(hi, hi, bases.get(lo, hi))
        return Edit(lo, hi, orient(n.alt))


def _adjacent_bases(n: TranscriptVariant, tmap: TranscriptMap) -> bool:
    """Whether the two positions of an insertion are neighbours on the transcript (or the genome)."""
    return (
        n.start.offset != 0
        or n.end.offset != 0
        or abs(_tx_index(n.end, n.kind, tmap) - _tx_index(n.start, n.kind, tmap)) == 1
    )


def _tx_index(pos: TxPos, kind: str, tmap: TranscriptMap) -> int:
    return tmap.c_to_n(pos) if kind == "c" else pos.base


def _mismatch(
    where: str,
    stated: str,
    observed: str,
    genome: str,
    variant: Variant | None,
    *,
    chrom: str | None = None,
    pos: int | None = None,
    t: Transcript | None = None,
) -> RefMismatch:
    detail: dict[str, Any] = {"expected": stated, "observed": observed, "genome": genome}
    if variant is not None:
        detail.update(chrom=variant.chrom, position=variant.pos)
    if chrom is not None:
        detail.update(chrom=chrom, position=pos)
    strand = ""
    if t is not None:
        detail.update(transcript=t.name, strand=t.strand)
        strand = (
            f" ({t.name} is on the {'plus' if t.strand == '+' else 'minus'} strand; bases are read on it)"
        )
    return RefMismatch(
        f"reference allele mismatch at {where}: the request says {stated}, the genome ({genome}) has "
        f"{observed}{strand} (wrong genome build, transcript version or position?)",
        detail=detail,
    )


def _accession(genome: str, chrom: str) -> str:
    return _ACCESSION_OF.get((genome, chrom), chrom)


def _span(first: int, last: int, name: Callable[[int], str]) -> str:
    return name(first) if first == last else f"{name(first)}_{name(last)}"


def _write(kind: str, span: str, seq: str) -> str:
    if kind == "sub":
        return span + seq
    return {"del": f"{span}del", "dup": f"{span}dup", "ins": f"{span}ins{seq}"}.get(
        kind, f"{span}delins{seq}"
    )


def _hgvs_g(edit: Edit, bases: Bases, genome: str) -> str:
    """``NC_000017.11:g.43057065dup``: 3'-shifted on the plus strand."""
    kind, first, last, seq = describe(edit, bases, forward=True)
    span = _span(first, last, lambda g: str(g + 1))
    if kind == "sub":
        seq = f"{bases.get(first, first + 1)}>{seq}"
    return f"{_accession(genome, bases.chrom)}:g.{_write(kind, span, seq)}"


def _hgvs_g_of(variant: Variant, genome: str) -> str | None:
    """``g.`` of a genomic SNV as given (indels are written once their bases are read)."""
    if variant.ref is None or len(variant.ref) != 1 or len(variant.alt) != 1:
        return None
    return f"{_accession(genome, variant.chrom)}:g.{variant.pos}{variant.ref}>{variant.alt}"


def _hgvs_tx(edit: Edit, bases: Bases, tmap: TranscriptMap, kind: str, name: str) -> str:
    """``NM_007294.4:c.5266dup``: 3'-shifted along the transcript."""
    change, first, last, seq = describe(edit, bases, forward=tmap.forward)
    span = _span(first, last, lambda g: str(tmap.to_position(g, kind)))
    if change == "sub":
        ref = bases.get(first, first + 1)
        seq = f"{ref if tmap.forward else revcomp(ref)}>{seq}"
    return f"{name}:{kind}.{_write(change, span, seq)}"


async def resolve_all(
    resolver: Resolver,
    items: Sequence[tuple[str, Notation | ServiceError]],
    genome: str,
    *,
    check_genomic: bool,
    concurrency: int = 2,
) -> list[list[Resolution] | ServiceError]:
    """Each ``(text, parsed)`` item resolved (or its error), in order, ``concurrency`` at a time; a
    genomic variant needs no look-up and is answered at once unless ``check_genomic``."""
    gate = asyncio.Semaphore(concurrency)

    async def one(text: str, parsed: Notation | ServiceError) -> list[Resolution] | ServiceError:
        if isinstance(parsed, ServiceError):
            return parsed
        if isinstance(parsed, Variant) and not check_genomic:
            return [Resolution(text, "genomic", parsed, genome, hgvs_g=_hgvs_g_of(parsed, genome))]
        try:
            async with gate:
                return await resolver.resolve(parsed, text=text, genome=genome, check_genomic=check_genomic)
        except ServiceError as exc:
            return exc

    return list(await asyncio.gather(*(one(text, parsed) for text, parsed in items)))
