"""Notations resolved through UCSC's REST API: the stand-in UCSC server on 127.0.0.1 serves
``/search`` and ``/getData/track`` (ncbiRefSeq, ncbiRefSeqSelect, dbSnp155) in UCSC's layout.

Transcripts other than BRCA1 are the UCSC hg19 ``refGene`` rows counsyl/hgvs tests with, and the
expected variants are counsyl/hgvs's (``pyhgvs/tests/test_hgvs_names.py``, ``_name_variants``: VCF
style, left-aligned, on GRCh37), resolved against the real hg19 bases of its test genome file.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from service.compose import build_resolver
from service.errors import LimitExceeded, UnknownTranscript
from service.genome.budget import fetch_budget
from service.genome.layered import LayeredGenome
from service.notation import parse_notation
from service.resolve.resolver import Resolver
from service.settings import Settings
from tests.support.ucsc_server import UcscServer

pytestmark = pytest.mark.anyio


def ucsc_only(url: str, **overrides: Any) -> Settings:
    return Settings(
        genome_sources=["ucsc"],
        annotation_sources=["ucsc"],
        ucsc_base_url=url,
        ucsc_requests_per_second=0,
        ucsc_backoff_base_s=0.01,
        **overrides,
    )


@pytest.fixture
async def resolver(ucsc_server: UcscServer) -> AsyncIterator[Resolver]:
    from service.compose import build_genome

    settings = ucsc_only(ucsc_server.url)
    genome = build_genome(settings)
    resolver = build_resolver(settings, genome)
    yield resolver
    await resolver.aclose()
    await genome.aclose()


async def resolve(resolver: Resolver, text: str, genome: str = "hg19") -> list[Any]:
    return await resolver.resolve(parse_notation(text), text=text, genome=genome)


COUNSYL = [  # (notation, counsyl's variant on GRCh37)
    ("NM_000352.3:c.215A>G", "chr11:17496508:T:C"),
    ("NM_000352.3:c.1630+1G>A", "chr11:17464266:C:T"),
    ("NM_000352.3:c.1672-20A>G", "chr11:17452526:T:C"),
    ("NM_000016.4:c.203delA", "chr1:76198412:GA:G"),
    ("NM_000016.4:c.244dupT", "chr1:76198564:C:CT"),
    ("NM_000016.4:c.387+1delG", "chr1:76199309:TG:T"),
    ("NM_000016.4:c.1189dupT", "chr1:76227049:C:CT"),
    ("NM_000016.4:c.306_307insG", "chr1:76199232:T:TG"),
    ("NM_000016.4:c.430_432delAAG", "chr1:76200511:AAAG:A"),
    ("NM_000016.4:c.291_296delTCTTGG", "chr1:76199214:AGGTCTT:A"),
    ("NM_000492.3:c.935_937delTCT", "chr7:117180210:CCTT:C"),
    ("NM_000492.3:c.442delA", "chr7:117171120:CA:C"),
    ("NM_000492.3:c.805_806delAT", "chr7:117176660:AAT:A"),
    ("NM_000492.3:c.1155_1156dupTA", "chr7:117182104:A:AAT"),
    ("NM_000492.3:c.3889dupT", "chr7:117292905:A:AT"),
    ("NM_000492.3:c.*3A>C", "chr7:117307165:A:C"),
    ("NM_000023.2:c.585-2_585-1delAGinsT", "chr17:48246451:AG:T"),  # counsyl: 48246450 CAG>CT
]


@pytest.mark.parametrize(("text", "expected"), COUNSYL)
async def test_counsyl_variants_through_ucsc(resolver: Resolver, text: str, expected: str) -> None:
    [resolved] = await resolve(resolver, text)
    assert str(resolved.variant) == expected
    assert resolved.record_source == "ucsc:hg19.ncbiRefSeq"


async def test_a_transcript_costs_two_calls_once(resolver: Resolver, ucsc_server: UcscServer) -> None:
    await resolve(resolver, "NM_000492.3:c.442delA")
    first = (ucsc_server.count("/search"), ucsc_server.count("/getData/track"))
    await resolve(resolver, "NM_000492.3:c.805_806delAT")
    assert first == (1, 1)
    assert (ucsc_server.count("/search"), ucsc_server.count("/getData/track")) == first  # cached


async def test_gene_symbol_through_the_select_track(resolver: Resolver, ucsc_server: UcscServer) -> None:
    [resolved] = await resolve(resolver, "BRCA1:c.181T>G", "hg38")
    assert (resolved.transcript, resolved.selection) == ("NM_007294.4", "MANE Select")
    assert str(resolved.variant) == "chr17:43106487:A:C"
    tracks = [params.get("track") for path, params in ucsc_server.requests if path == "/getData/track"]
    assert tracks == ["ncbiRefSeqSelect", "ncbiRefSeq"]


async def test_rsids_from_dbsnp_items(resolver: Resolver) -> None:
    """dbSNP writes a repeat whole (GGG → GGGG); the resolver left-aligns it as VCF does."""
    [dup] = await resolve(resolver, "rs80357906", "hg38")
    assert str(dup.variant) == "chr17:43057062:T:TG" and dup.record_source == "ucsc:hg38.dbSnp155"
    [deletion] = await resolve(resolver, "rs80357914", "hg38")
    assert str(deletion.variant) == "chr17:43124027:ACT:A"
    both = await resolve(resolver, "rs999999902", "hg38")
    assert [(str(r.variant), r.allele, r.alleles) for r in both] == [
        ("chr17:43106487:A:C", 1, 2),
        ("chr17:43106487:A:G", 2, 2),
    ]


async def test_unknown_transcript_is_typed(resolver: Resolver) -> None:
    with pytest.raises(UnknownTranscript):
        await resolve(resolver, "NM_000059.4:c.100A>G")


async def test_lookups_are_charged_to_the_request_budget(resolver: Resolver) -> None:
    with fetch_budget(1), pytest.raises(LimitExceeded):
        await resolve(resolver, "NM_000018.3:c.1077_1077+1delGGinsCAC")


async def test_annotations_share_the_sequence_sources_http(ucsc_server: UcscServer) -> None:
    from service.compose import build_annotations, build_genome
    from service.genome.ucsc import UcscGenome
    from service.genome.ucsc_annotations import UcscAnnotations

    settings = ucsc_only(ucsc_server.url)
    genome = build_genome(settings)
    assert isinstance(genome, LayeredGenome) and isinstance(genome.sources[0], UcscGenome)
    [annotations] = build_annotations(settings, genome)
    assert isinstance(annotations, UcscAnnotations)
    assert annotations.http is genome.sources[0].http
    await annotations.aclose()
    await genome.aclose()


async def test_a_throttled_lookup_is_retried(resolver: Resolver, ucsc_server: UcscServer) -> None:
    from tests.support.ucsc_server import Fault

    ucsc_server.inject(Fault("status", status=429, retry_after=0, path="/search"), times=1)
    [resolved] = await resolve(resolver, "NM_000492.3:c.3889dupT")
    assert str(resolved.variant) == "chr7:117292905:A:AT"
    assert ucsc_server.count("/search") == 2


def test_the_stand_in_answers_in_ucscs_layout(ucsc_server: UcscServer) -> None:
    import httpx

    track = httpx.get(
        f"{ucsc_server.url}/getData/track",
        params={
            "genome": "hg38",
            "track": "ncbiRefSeq",
            "chrom": "chr17",
            "start": 43044294,
            "end": 43044300,
        },
    ).json()
    assert list(track)[:3] == ["downloadTime", "downloadTimeStamp", "genome"]
    assert track["trackType"] == "genePred" and track["itemsReturned"] == 2
    item = track["ncbiRefSeq"][0]
    assert isinstance(item["txStart"], int) and item["exonStarts"].endswith(",")
    found = httpx.get(f"{ucsc_server.url}/search", params={"search": "NM_007294.4", "genome": "hg38"}).json()
    [group] = found["positionMatches"]
    assert group["trackName"] == "ncbiRefSeqCurated"
    assert group["matches"][0]["position"] == "chr17:43044295-43125364"  # 1-based start
    refused = httpx.get(
        f"{ucsc_server.url}/getData/track",
        params={"genome": "hg38", "track": "noSuchTrack", "chrom": "chr17", "start": 1, "end": 2},
    )
    assert refused.status_code == 400 and "can not find track=noSuchTrack" in refused.json()["error"]
