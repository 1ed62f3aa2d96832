"""Gene models and dbSNP records from UCSC's REST API, through the same ``UcscHttp`` as sequences.

Shapes (kent ``src/hg/hubApi``; ``shared/notes/ucsc.md``):

* ``GET /search?search=TERM;genome=G`` → ``positionMatches``: groups by ``trackName``, each with
  ``matches`` whose ``position`` is ``chrom:start-end`` with a **1-based** start. A transcript
  accession matches a RefSeq group (``ncbiRefSeqCurated``, …), an rsID a dbSNP group, a gene symbol
  several groups.
* ``GET /getData/track?genome=G;track=T;chrom=C;start=S;end=E`` (0-based half-open) → every item
  overlapping ``[S, E)`` under the key ``T``: genePred columns for ``ncbiRefSeq`` and
  ``ncbiRefSeqSelect`` (filtered by ``name``), bigDbSnp items for ``dbSnp155`` (``chromStart``,
  ``chromEnd``, ``ref``, ``alts`` as ``"C,T,"``).

A transcript costs two calls (search, then the track over its span), a gene's MANE Select choice two
(search on GRCh38, then ``ncbiRefSeqSelect`` over the gene), an rsID two; the ``Resolver`` caches
every answer. Each call is charged to the request's fetch budget like a sequence fetch, and goes
through the shared throttle and circuit breaker. What UCSC does not hold is ``None``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from service.errors import ServiceError, UpstreamError
from service.genome.budget import charge_fetch
from service.genome.transcripts import (
    GeneModelError,
    SnpRecord,
    Transcript,
    from_genepred,
    upstream_record_error,
)
from service.genome.ucsc_http import Retryable, UcscHttp, new_counters

SEARCH = "/search"
TRACK = "/getData/track"
#: Search groups that place RefSeq transcripts and genes.
REFSEQ_GROUPS = ("ncbiRefSeqCurated", "ncbiRefSeq", "ncbiRefSeqSelect", "refGene", "knownGene")
_POSITION_RE = re.compile(r"^(?P<chrom>[A-Za-z0-9_.]+):(?P<start>[0-9,]+)-(?P<end>[0-9,]+)$")


class UcscAnnotations:
    """``AnnotationSource`` over UCSC's search and track endpoints."""

    name = "ucsc"
    remote = True

    def __init__(
        self,
        http: UcscHttp,
        *,
        genomes: tuple[str, ...],
        refseq_track: str,
        select_track: str,
        dbsnp_track: str,
    ) -> None:
        self.http = http
        http.users += 1
        self.genomes = genomes
        self.refseq_track = refseq_track
        self.select_track = select_track
        self.dbsnp_track = dbsnp_track
        self._counters = new_counters()

    async def transcript(self, genome: str, accession: str) -> Transcript | None:
        if genome not in self.genomes:
            return None
        spans = await self._search(genome, accession, lambda group: group in REFSEQ_GROUPS)
        for chrom, start, end in spans[:2]:
            items = await self._track(genome, self.refseq_track, chrom, start, end, f"transcript {accession}")
            for item in items:
                if item.get("name") == accession:
                    return _transcript(item, f"ucsc:{genome}.{self.refseq_track}")
        return None

    async def select_transcript(self, gene: str) -> str | None:
        genome = "hg38"  # MANE is defined on GRCh38
        spans = await self._search(genome, gene, lambda group: group in REFSEQ_GROUPS)
        if not spans:
            return None
        chrom = spans[0][0]
        starts = [s for c, s, _ in spans if c == chrom]
        ends = [e for c, _, e in spans if c == chrom]
        items = await self._track(genome, self.select_track, chrom, min(starts), max(ends), f"gene {gene}")
        names = [
            str(item.get("name"))
            for item in items
            if str(item.get("name2", "")).upper() == gene.upper()
            and str(item.get("name", "")).startswith("NM_")
        ]
        return sorted(names)[0] if names else None

    async def snp(self, genome: str, rsid: str) -> SnpRecord | None:
        if genome not in self.genomes:
            return None
        spans = await self._search(genome, rsid, lambda group: group.lower().startswith("dbsnp"))
        for chrom, start, end in spans[:1]:
            items = await self._track(genome, self.dbsnp_track, chrom, start, max(end, start + 1), rsid)
            for item in items:
                if item.get("name") == rsid:
                    return _snp(item, f"ucsc:{genome}.{self.dbsnp_track}")
        return None

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "base_url": self.http.base_url,
            "tracks": {"refseq": self.refseq_track, "select": self.select_track, "dbsnp": self.dbsnp_track},
            "requests": dict(self._counters),
        }

    async def aclose(self) -> None:
        self.http.users -= 1
        if self.http.users <= 0:
            await self.http.aclose()

    # -- the two endpoints -------------------------------------------------------------------------

    async def _search(
        self, genome: str, term: str, wanted: Callable[[str], bool]
    ) -> list[tuple[str, int, int]]:
        """``(chrom, start, end)`` (0-based half-open) of the matches in groups ``wanted`` keeps."""
        charge_fetch("UCSC", f"search {term}")

        def parse(body: dict[str, Any]) -> list[tuple[str, int, int]]:
            groups = body.get("positionMatches", [])
            if not isinstance(groups, list):
                raise Retryable("error", "answered a search without a list of positionMatches")
            spans: list[tuple[str, int, int]] = []
            for group in groups:
                if isinstance(group, dict) and wanted(str(group.get("trackName", ""))):
                    spans += [s for m in group.get("matches") or [] if (s := _position(m)) is not None]
            return list(dict.fromkeys(spans))

        return await self.http.call(
            SEARCH, {"search": term, "genome": genome}, parse, _refusal(SEARCH), counters=self._counters
        )

    async def _track(
        self, genome: str, track: str, chrom: str, start: int, end: int, what: str
    ) -> list[Mapping[str, Any]]:
        charge_fetch("UCSC", f"{track} {what}")
        params: dict[str, str | int] = {
            "genome": genome,
            "track": track,
            "chrom": chrom,
            "start": start,
            "end": end,
        }

        def parse(body: dict[str, Any]) -> list[Mapping[str, Any]]:
            items = body.get(track)
            if isinstance(items, dict):  # some tracks group items by chromosome
                items = items.get(chrom, [])
            if not isinstance(items, list):
                raise Retryable("error", f"answered without the {track} items")
            return [item for item in items if isinstance(item, dict)]

        return await self.http.call(TRACK, params, parse, _refusal(TRACK), counters=self._counters)


def _position(match: Any) -> tuple[str, int, int] | None:
    found = _POSITION_RE.match(str(match.get("position", ""))) if isinstance(match, dict) else None
    if found is None:
        return None
    start, end = (int(found.group(k).replace(",", "")) for k in ("start", "end"))
    return found.group("chrom"), max(0, start - 1), max(end, start)


def _refusal(endpoint: str) -> Callable[[str], ServiceError]:
    def refused(message: str) -> ServiceError:
        return UpstreamError(
            f"UCSC {endpoint} refused the request (HTTP 400): {message[:200]}",
            detail={"endpoint": endpoint, "upstream_message": message[:300]},
        )

    return refused


def _transcript(item: Mapping[str, Any], source: str) -> Transcript:
    try:
        return from_genepred(item, source=source)
    except GeneModelError as exc:
        raise upstream_record_error(f"UCSC {TRACK} answered an invalid gene model", exc) from None


def _snp(item: Mapping[str, Any], source: str) -> SnpRecord:
    try:
        start, end = int(item["chromStart"]), int(item["chromEnd"])
        parts = str(item.get("alts", "")).split(",")
        if parts and parts[-1] == "":  # "C,T," ends with a comma; a lone "" is a deletion
            parts.pop()
        alts = tuple(a.strip().upper() for a in parts)
        ref = str(item.get("ref", "")).upper()
        return SnpRecord(str(item["name"]), str(item["chrom"]), start, end, ref, alts, source)
    except (KeyError, TypeError, ValueError):
        raise UpstreamError(f"UCSC {TRACK} answered a dbSNP item without its fields") from None
