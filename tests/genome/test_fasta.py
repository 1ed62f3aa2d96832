"""The local FASTA genome source: plain and bgzipped, indexed, behind 0-based half-open intervals."""

from pathlib import Path

import httpx
import pytest
from Bio import bgzf

from service.api.app import create_app
from service.coords import Interval
from service.errors import OutOfBounds, UnknownChromosome, UnknownGenome
from service.genome.bundled import read_fasta
from service.genome.fasta import FastaGenome
from service.settings import Settings

pytestmark = pytest.mark.anyio

SLICE = Path(__file__).resolve().parents[2] / "service/data/genome/hg38_chr17_43040000-43130000.fa"
_, BASES = read_fasta(SLICE)


def write_fasta(path: Path, name: str, bases: str, *, bgzipped: bool = False) -> Path:
    lines = [f">{name} test record"] + [bases[i : i + 60] for i in range(0, len(bases), 60)]
    text = "\n".join(lines) + "\n"
    if bgzipped:
        with bgzf.BgzfWriter(str(path), "wb") as handle:
            handle.write(text.encode())
    else:
        path.write_text(text)
    return path


@pytest.fixture(params=["plain", "bgzip"])
def fasta(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    # A "chromosome" named like Ensembl ("17"), soft-masked in part: the source must upper-case.
    bases = BASES[:5000].lower() + BASES[5000:]
    suffix = ".fa.gz" if request.param == "bgzip" else ".fa"
    return write_fasta(tmp_path / f"genome{suffix}", "17", bases, bgzipped=request.param == "bgzip")


async def test_fetch_is_zero_based_half_open_and_upper_case(fasta: Path) -> None:
    genome = FastaGenome({"hg38": fasta})
    try:
        sizes = await genome.chrom_sizes("hg38")
        assert sizes == {"chr17": len(BASES)}  # "17" in the file is chr17 inside
        assert await genome.fetch("hg38", Interval("chr17", 0, 10)) == BASES[:10]
        assert await genome.fetch("hg38", Interval("chr17", 4990, 5010)) == BASES[4990:5010]
        assert await genome.fetch("hg38", Interval("chr17", len(BASES) - 3, len(BASES))) == BASES[-3:]
        assert genome.covers("hg38", Interval("chr17", 0, len(BASES)))
        assert not genome.covers("hg38", Interval("chr17", 0, len(BASES) + 1))
        assert not genome.covers("hg19", Interval("chr17", 0, 10))
    finally:
        await genome.aclose()


async def test_errors_are_typed(fasta: Path) -> None:
    genome = FastaGenome({"hg38": fasta})
    try:
        with pytest.raises(OutOfBounds):
            await genome.fetch("hg38", Interval("chr17", len(BASES) - 1, len(BASES) + 1))
        with pytest.raises(UnknownChromosome):
            await genome.fetch("hg38", Interval("chr1", 0, 10))
        with pytest.raises(UnknownGenome):
            await genome.chrom_sizes("hg19")
    finally:
        await genome.aclose()


async def test_the_app_scores_from_a_configured_fasta(fasta: Path, kmer_scorer) -> None:
    """Offline bulk use: EVO2_SERVICE_FASTA_HG38 + genome_sources=["fasta"], no bundled data, no UCSC.

    The file's chr17 holds the BRCA1 slice at offset 0, so 1-based position p of the file is p here.
    """
    settings = Settings(genome_sources=["fasta"], fasta_hg38=fasta, default_window=1024)
    app = create_app(settings, scorer=kmer_scorer)
    pos = 43_119_628 - 43_040_000 + 1  # the example variant's base within the slice
    assert BASES[pos - 1] == "T"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
        ok = await client.post("/variant-delta", json={"variant": f"17:{pos}:T:G"})
        wrong = await client.post("/variant-delta", json={"variant": f"17:{pos}:C:G"})
    assert ok.status_code == 200, ok.text
    result = ok.json()["results"][0]
    assert result["window"] == {"chrom": "chr17", "start": pos - 1 - 512, "end": pos - 1 + 512}
    assert wrong.status_code == 400 and wrong.json()["error"]["type"] == "ref_mismatch"
