"""One sequence per build and chromosome: which source serves a request's windows and sizes, what it
says it serves, and which chromosome names are one sequence (issue 13)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from service.coords import Interval
from service.domain.options import DeltaOptions
from service.domain.score_cache import ScoreCache
from service.errors import ServiceError
from service.genome.bundled import BundledGenome
from service.genome.fasta import FastaGenome
from service.genome.layered import LayeredGenome
from service.scoring.kmer import KmerScorer
from tests.genome.test_fasta import write_fasta
from tests.support.parts import delta_engine, model_runner
from tests.support.synthetic_genome import SyntheticGenome, random_bases, slice_of

pytestmark = pytest.mark.anyio

L = 60_000
CHROM = random_bases(L, 5)
OPTIONS = DeltaOptions("hg38", 2048)


def variant_at(pos: int, chrom: str = CHROM):
    from service.coords import Variant

    ref = chrom[pos - 1]
    return Variant("chrT", pos, ref, "A" if ref != "A" else "C")


@pytest.fixture(scope="module")
def scorer() -> KmerScorer:
    return KmerScorer.load()


async def test_one_interval_comes_from_one_source_whatever_its_neighbours_need(scorer):
    """A partial source holding other bases than the whole-chromosome source must not serve one
    request's window and not another's, depending on what else was asked (the fetch clusters)."""
    full = SyntheticGenome({"chrT": CHROM}, name="full")
    other_bases = random_bases(20_000, 99)  # not the same sequence as ``full`` there
    partial = slice_of(full, "chrT", 20_000, 40_000, name="partial", version="other", bases=other_bases)
    genome = LayeredGenome([partial, full])
    cache = ScoreCache(2**26)
    engine = delta_engine(genome, model_runner(scorer), cache=cache)
    inside, outside = variant_at(30_000), variant_at(45_000)
    [alone] = await engine.score([inside], OPTIONS)
    together, _ = await engine.score([inside, outside], OPTIONS)
    fresh_engine = delta_engine(LayeredGenome([full]), model_runner(scorer))
    [fresh] = await fresh_engine.score([inside], OPTIONS)
    assert not isinstance(alone, ServiceError) and not isinstance(together, ServiceError)
    assert alone.windows.ref_seq == together.windows.ref_seq == CHROM[30_000 - 1 - 1024 : 30_000 - 1 + 1024]
    assert alone.delta == together.delta == fresh.delta  # type: ignore[union-attr]
    assert alone.source == together.source == full.identity("hg38", "chrT")


async def test_a_partial_source_of_the_same_sequence_serves_what_it_holds(scorer):
    """The bundled slices are extracts of UCSC's assembly: inside them they answer, UCSC is not asked."""
    full = SyntheticGenome({"chrT": CHROM}, name="full")
    local = slice_of(full, "chrT", 20_000, 40_000, name="local", version="v1")
    local.name = "full"  # the same family: name, assembly and version of the whole-chromosome source
    genome = LayeredGenome([local, full])
    engine = delta_engine(genome, model_runner(scorer))
    [scored] = await engine.score([variant_at(30_000)], OPTIONS)
    assert not isinstance(scored, ServiceError)
    assert local.fetches and not full.fetches
    assert scored.source == full.identity("hg38", "chrT")


async def test_the_reference_score_cache_key_holds_the_source(scorer):
    """Two genomes whose chrT differ, one cache: the second must not reuse the first's reference scores."""
    other = random_bases(L, 6)
    cache = ScoreCache(2**26)
    first = delta_engine(SyntheticGenome({"chrT": CHROM}, version="a"), model_runner(scorer), cache=cache)
    second_genome = SyntheticGenome({"chrT": other}, version="b")
    second = delta_engine(second_genome, model_runner(scorer), cache=cache)
    v = variant_at(30_000)
    w = variant_at(30_000, other)
    await first.score([v], OPTIONS)
    [got] = await second.score([w], OPTIONS)
    [want] = await delta_engine(second_genome, model_runner(scorer)).score([w], OPTIONS)
    assert got.ref_score == want.ref_score  # type: ignore[union-attr]


async def test_chromosome_sizes_come_from_the_source_that_serves_the_chromosome(tmp_path: Path, make_app):
    """A FASTA's 400-bp MT beside the bundled table (hg19 chrM: 16,571 bp) is 400 bp long."""
    mt = random_bases(400, 7)
    fasta = write_fasta(tmp_path / "grch37.fa", "MT", mt)
    genome = LayeredGenome([BundledGenome(), FastaGenome({"hg19": fasta})])
    app = make_app(genome=genome)
    ref = mt[199]
    body = {"variant": f"MT:200:{ref}:{'A' if ref != 'A' else 'C'}", "genome": "hg19"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
        response = await c.post("/variant-delta", json=body)
        beyond = await c.post("/variant-delta", json={**body, "variant": "MT:401:A:C"})
    assert response.status_code == 200, response.text
    [result] = response.json()["results"]
    assert result["window"] == {"chrom": "MT", "start": 0, "end": 400}
    assert result["source"]["name"] == "fasta" and result["source"]["assembly"] == "hg19"
    assert beyond.status_code == 400 and beyond.json()["error"]["type"] == "out_of_bounds"
    assert beyond.json()["error"]["detail"]["chrom_length"] == 400


async def test_grch37_mt_is_not_ucsc_hg19_chrm(tmp_path: Path):
    """GRCh37's MT is the rCRS (16,569 bp); UCSC hg19's chrM is NC_001807 (16,571 bp): two sequences."""
    rcrs = random_bases(16_569, 8)
    nc_001807 = random_bases(16_571, 9)
    fasta = FastaGenome({"hg19": write_fasta(tmp_path / "grch37.fa", "MT", rcrs)})
    ucsc_like = SyntheticGenome({"chrM": nc_001807}, genome="hg19", name="ucsc-like")
    genome = LayeredGenome([fasta, ucsc_like])
    sizes = await genome.chrom_sizes("hg19")
    assert sizes["MT"] == 16_569 and sizes["chrM"] == 16_571
    assert await genome.fetch("hg19", Interval("chrM", 0, 50)) == nc_001807[:50]
    assert await genome.fetch("hg19", Interval("MT", 0, 50)) == rcrs[:50]
    assert genome.identity("hg19", "chrM").name == "ucsc-like"
    assert genome.identity("hg19", "MT").name == "fasta"


async def test_grch38_mt_is_ucsc_hg38_chrm(tmp_path: Path):
    """In GRCh38 both names are the rCRS: a FASTA's MT serves chrM."""
    rcrs = random_bases(16_569, 8)
    genome = LayeredGenome([FastaGenome({"hg38": write_fasta(tmp_path / "grch38.fa", "MT", rcrs)})])
    assert (await genome.chrom_sizes("hg38"))["chrM"] == 16_569
    assert await genome.fetch("hg38", Interval("chrM", 100, 120)) == rcrs[100:120]


def test_mitochondrial_names_follow_the_build():
    from service.coords import parse_variant

    assert parse_variant("MT:100:A:C", genome="hg38").chrom == "chrM"
    assert parse_variant("chrM:100:A:C", genome="hg38").chrom == "chrM"
    assert parse_variant("MT:100:A:C", genome="hg19").chrom == "MT"
    assert parse_variant("chrM:100:A:C", genome="hg19").chrom == "chrM"


async def test_every_source_states_what_it_serves(tmp_path: Path):
    bundled = BundledGenome()
    assert bundled.identity("hg38", "chr17") == bundled.identity("hg38", "chr1")
    assert str(bundled.identity("hg19", "chr17")) == "ucsc:hg19:Feb. 2009 (GRCh37/hg19)"
    one = FastaGenome({"hg38": write_fasta(tmp_path / "a.fa", "chr1", random_bases(500, 1))})
    two = FastaGenome({"hg38": write_fasta(tmp_path / "b.fa", "chr1", random_bases(501, 1))})
    try:
        a, b = one.identity("hg38", "chr1"), two.identity("hg38", "chr1")
        assert a.name == b.name == "fasta" and a.assembly == "hg38"
        assert a.version != b.version and a.version.startswith("fai-sha256:")
    finally:
        await one.aclose()
        await two.aclose()


async def test_hg19_mt_without_a_grch37_fasta_says_where_to_find_it(make_app):
    app = make_app()  # bundled slices only: UCSC hg19's chromosome list, no MT
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
        response = await c.post("/variant-delta", json={"variant": "MT:100:A:C", "genome": "hg19"})
    error = response.json()["error"]
    assert response.status_code == 400 and error["type"] == "unknown_chromosome"
    assert "GRCh37 FASTA" in error["message"] and "hg38 chrM" in error["message"]
