"""POST /saturation: every SNV of a region, equal to the one-by-one /variant-delta answers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
import pytest

from service.coords import Interval
from service.genome.base import SourceIdentity
from service.genome.bundled import BundledGenome
from service.genome.layered import LayeredGenome

pytestmark = pytest.mark.anyio

REGION = "chr17:43119620-43119631"  # hg38, inside the bundled BRCA1 slice; 12 positions


class CountingGenome:
    """The bundled genome, counting sequence fetches."""

    name = "counting"

    def __init__(self) -> None:
        self.inner = LayeredGenome([BundledGenome()])
        self.fetches: list[Interval] = []

    async def chrom_sizes(self, genome: str) -> Mapping[str, int]:
        return await self.inner.chrom_sizes(genome)

    def covers(self, genome: str, interval: Interval) -> bool:
        return self.inner.covers(genome, interval)

    def holds_chromosome(self, genome: str, chrom: str) -> bool:
        return self.inner.holds_chromosome(genome, chrom)

    def identity(self, genome: str, chrom: str | None = None) -> SourceIdentity:
        return self.inner.identity(genome, chrom)

    def source_name(self, genome: str, interval: Interval) -> str | None:
        return self.inner.source_name(genome, interval)

    async def fetch(self, genome: str, interval: Interval) -> str:
        self.fetches.append(interval)
        return await self.inner.fetch(genome, interval)

    async def aclose(self) -> None:
        await self.inner.aclose()

    def describe(self) -> dict[str, Any]:
        return self.inner.describe()


async def one_by_one(client: httpx.AsyncClient, body: dict[str, Any], **options: Any) -> list[list[Any]]:
    """The saturation matrix rebuilt from single /variant-delta calls."""
    rows = []
    for pos, ref in zip(body["positions"], body["ref"], strict=True):
        row: list[Any] = []
        for alt in body["alleles"]:
            if alt == ref:
                row.append(None)
                continue
            response = await client.post(
                "/variant-delta",
                json={"variant": f"{body['chrom']}:{pos}:{ref}:{alt}", "genome": body["genome"], **options},
            )
            assert response.status_code == 200, response.text
            row.append(response.json()["results"][0]["delta_score"])
        rows.append(row)
    return rows


@pytest.mark.parametrize(
    "options",
    [{}, {"delta_method": "suffix"}, {"reverse_complement": True, "window": 1024}],
    ids=["window", "suffix", "rc-1024"],
)
async def test_every_cell_equals_the_one_by_one_variant_delta(client, kmer_scorer, options):
    response = await client.post("/saturation", json={"region": REGION, **options})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["positions"] == list(range(43119620, 43119632))
    assert body["alleles"] == ["A", "C", "G", "T"]
    assert (body["chrom"], body["start"], body["end"], body["region"]) == (
        "chr17",
        43119620,
        43119631,
        REGION,
    )
    assert body["model"] == kmer_scorer.name and body["genome"] == "hg38"
    assert body["window"] == options.get("window", 8192)
    assert len(body["ref"]) == 12 and body["ref"][8] == "T"  # chr17:43119628 is T (the example variant)
    for ref, row in zip(body["ref"], body["deltas"], strict=True):
        assert [cell is None for cell in row] == [allele == ref for allele in "ACGT"]
    expected = await one_by_one(client, body, **options)
    for got, want in zip(body["deltas"], expected, strict=True):
        assert got == pytest.approx(want, abs=1e-12)


async def test_one_genome_fetch_and_one_reference_window_per_position(make_app, kmer_scorer):
    genome = CountingGenome()
    app = make_app(genome=genome)
    before = kmer_scorer.stats.snapshot()["sequences"]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
        response = await c.post("/saturation", json={"region": REGION})
    assert response.status_code == 200, response.text
    assert len(genome.fetches) == 1
    assert kmer_scorer.stats.snapshot()["sequences"] - before == 12 * 4  # 1 reference + 3 alternates


async def test_fields_and_a_single_position_are_accepted(client):
    as_text = (await client.post("/saturation", json={"region": REGION})).json()
    as_fields = await client.post("/saturation", json={"chrom": "17", "start": 43119620, "end": 43119631})
    assert as_fields.status_code == 200, as_fields.text
    assert as_fields.json() == as_text
    single = await client.post("/saturation", json={"region": "chr17:43,119,628"})
    assert single.status_code == 200, single.text
    assert single.json()["positions"] == [43119628]
    assert single.json()["deltas"] == [as_text["deltas"][8]]


async def test_hg19_regions_are_read_from_hg19(client):
    # hg19 chr17:41276135 is the base that hg38 calls chr17:43124118 (the BRCA1 offset).
    hg19 = (
        await client.post("/saturation", json={"region": "chr17:41276135-41276136", "genome": "hg19"})
    ).json()
    hg38 = (await client.post("/saturation", json={"region": "chr17:43124118-43124119"})).json()
    assert hg19["genome"] == "hg19" and hg19["ref"] == hg38["ref"]
    for a, b in zip(hg19["deltas"], hg38["deltas"], strict=True):
        assert a == pytest.approx(b, abs=1e-12)


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ({"region": "chr17:43119000-43119600"}, "limit_exceeded"),
        ({"region": "chr17:43119631-43119620"}, "invalid_request"),
        ({"region": "chr17 from 1 to 5"}, "invalid_request"),
        ({}, "invalid_request"),
        ({"chrom": "chr17", "start": 43119620}, "invalid_request"),
        ({"region": REGION, "chrom": "chr17"}, "invalid_request"),
        ({"region": "chr99:1-10"}, "unknown_chromosome"),
        ({"region": "chr17:83257440-83257450"}, "out_of_bounds"),
        ({"region": "chr17:1000000-1000010"}, "region_unavailable"),
        ({"region": "NC_000017.10:43119620-43119631"}, "genome_mismatch"),
        ({"region": REGION, "window": 8191}, "limit_exceeded"),
    ],
)
async def test_bad_regions_get_typed_400s(client, body, kind):
    response = await client.post("/saturation", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["type"] == kind


async def test_the_length_limit_is_a_setting_shown_in_info(make_app):
    app = make_app(max_saturation_bp=5)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
        info = (await c.get("/info")).json()
        assert info["limits"]["max_saturation_bp"] == 5
        ok = await c.post("/saturation", json={"region": "chr17:43119620-43119624"})
        too_long = await c.post("/saturation", json={"region": "chr17:43119620-43119625"})
    assert ok.status_code == 200
    assert too_long.status_code == 400
    assert too_long.json()["error"]["detail"] == {"length": 6, "max_saturation_bp": 5}


async def test_the_tiny_evo2_model_gives_the_one_by_one_deltas(make_app):
    from tests.support.evo2_cpu import tiny_scorer

    app = make_app(scorer=tiny_scorer())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
        response = await c.post("/saturation", json={"region": "chr17:43119627-43119629", "window": 256})
        assert response.status_code == 200, response.text
        body = response.json()
        # A fresh app: no cached reference windows, every variant scored in its own call.
        single = make_app(scorer=tiny_scorer(), ref_cache_bytes=0)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(single), base_url="http://t") as s:
            expected = await one_by_one(s, body, window=256)
    for got, want in zip(body["deltas"], expected, strict=True):
        assert got == pytest.approx(want, abs=1e-6)


class SyntheticGenome:
    """chr1 of 20 kb of repeating ACGT with an N at 0-based 10,000 (no I/O)."""

    name = "synthetic"

    def __init__(self) -> None:
        bases = list(("ACGTTGCA" * 2500)[:20_000])
        bases[10_000] = "N"
        self.bases = "".join(bases)

    async def chrom_sizes(self, genome: str) -> Mapping[str, int]:
        return {"chr1": len(self.bases)}

    def covers(self, genome: str, interval: Interval) -> bool:
        return interval.chrom == "chr1"

    def holds_chromosome(self, genome: str, chrom: str) -> bool:
        return chrom == "chr1"

    def identity(self, genome: str, chrom: str | None = None) -> SourceIdentity:
        return SourceIdentity(self.name, genome, "made up")

    async def fetch(self, genome: str, interval: Interval) -> str:
        return self.bases[interval.start : interval.end]

    async def aclose(self) -> None:
        pass

    def describe(self) -> dict[str, Any]:
        return {"name": self.name}


async def test_a_position_whose_reference_is_not_a_base_has_no_deltas(make_app):
    app = make_app(genome=SyntheticGenome())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
        response = await c.post("/saturation", json={"region": "chr1:10000-10002", "window": 1024})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ref"][1] == "N"
    assert body["deltas"][1] == [None, None, None, None]
    assert all(sum(cell is None for cell in row) == 1 for row in (body["deltas"][0], body["deltas"][2]))
