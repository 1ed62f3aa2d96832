"""Names that line up and errors that say what to do next, through the real app (k-mer, bundled slices).

Each default /info shows is what a request that leaves the field out gets; every genome field takes
hg38/hg19 and GRCh38/GRCh37; errors name the next step (covered regions and the settings that add
more, a 0-based position, the other build, close chromosome names); an assumed build is a warning.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from service.coords import Interval
from service.genome.bundled import BundledGenome, Slice
from service.genome.layered import LayeredGenome
from tests.support.parts import ucsc_genome

pytestmark = pytest.mark.anyio
POS = 43119628  # chr17:43119628 T (hg38), inside the bundled slice


def connect(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test")


async def base(genome: str, pos: int) -> str:
    return await BundledGenome().fetch(genome, Interval("chr17", pos - 1, pos))


# --- defaults ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "genome", "window"),
    [({}, "hg38", 8192), ({"default_genome": "GRCh37", "default_window": 4096}, "hg19", 4096)],
)
async def test_each_default_in_info_is_what_a_request_without_it_gets(
    make_app: Callable[..., FastAPI], settings: dict[str, Any], genome: str, window: int
) -> None:
    async with connect(make_app(**settings)) as client:
        defaults = (await client.get("/info")).json()["defaults"]
        assert (defaults["genome"], defaults["window"]) == (genome, window)
        pos = POS if genome == "hg38" else 41276135  # the same BRCA1 base in each build
        variant = {"chrom": "chr17", "pos": pos, "alt": "G"}
        body = (await client.post("/variant-delta", json={"variant": variant})).json()
        result = body["results"][0]
        assert (body["genome"], body["window_length"], body["window"]) == (genome, window, window)
        assert (result["genome"], result["window_length"]) == (genome, window)
        assert result["delta_method"] == defaults["delta_method"]
        assert result["reverse_complement"] == defaults["reverse_complement"]
        region = f"chr17:{pos}-{pos + 1}"
        sat = (await client.post("/saturation", json={"region": region})).json()
        assert (sat["genome"], sat["window_length"], sat["delta_method"]) == (genome, window, "window")
        assert sat["reverse_complement"] == defaults["reverse_complement"]
        legacy = await client.post(
            "/analyze_single_variant",
            params={"variant_position": pos, "alternative": "G", "chromosome": "chr17"},
        )
        assert legacy.status_code == 200, legacy.text
        assert (
            legacy.json()["delta_score"] == pytest.approx(result["delta_score"]) if window == 8192 else True
        )


async def test_grch_names_are_accepted_everywhere(client: httpx.AsyncClient) -> None:
    for name, canonical in (("GRCh38", "hg38"), ("grch38", "hg38"), ("hg38", "hg38")):
        body = (
            await client.post("/variant-delta", json={"variant": f"chr17:{POS}:T:G", "genome": name})
        ).json()
        assert body["genome"] == canonical and body["results"][0]["genome"] == canonical
    body = (
        await client.post("/variant-delta", json={"variant": "chr17:41276135:T:G", "genome": "GRCh37"})
    ).json()
    assert body["genome"] == "hg19"
    sat = await client.post("/saturation", json={"region": "chr17:41276135-41276135", "genome": "GRCh37"})
    assert sat.status_code == 200 and sat.json()["genome"] == "hg19"
    legacy = await client.post(
        "/analyze_single_variant",
        params={"variant_position": 41276135, "alternative": "G", "genome": "GRCh37", "chromosome": "chr17"},
    )
    assert legacy.status_code == 200, legacy.text
    refused = await client.post("/variant-delta", json={"variant": f"chr17:{POS}:T:G", "genome": "hg37"})
    assert refused.status_code == 400
    assert (
        refused.json()["error"]["message"]
        == "unknown genome 'hg37'; supported: hg38 (GRCh38) and hg19 (GRCh37)"
    )


async def test_a_reference_free_snv_on_the_default_build_warns_that_the_build_was_assumed(
    client: httpx.AsyncClient,
) -> None:
    free = {"chrom": "chr17", "pos": POS, "alt": "G"}
    [assumed] = (await client.post("/variant-delta", json={"variant": free})).json()["results"][0]["warnings"]
    assert assumed["type"] == "genome_assumed"
    assert assumed["message"].startswith("no genome was given and the variant has no reference allele")
    assert "scored on hg38, the default" in assumed["message"]
    for body in (
        {"variant": free, "genome": "hg38"},  # the build was asked for
        {"variant": {**free, "ref": "T"}},  # the reference allele checks the build
        {"variant": f"chr17:{POS}:T:G"},
        {"variant": {**free, "chrom": "NC_000017.11"}},  # the accession names the build
    ):
        assert (await client.post("/variant-delta", json=body)).json()["results"][0]["warnings"] == []
    legacy = await client.post(
        "/analyze_single_variant", params={"variant_position": POS, "alternative": "G", "chromosome": "chr17"}
    )
    assert "scored on hg38, the default" in legacy.headers["x-evo2-note"]


async def test_an_uncalibrated_legacy_answer_has_a_null_confidence_and_says_why(
    client: httpx.AsyncClient,
) -> None:
    params = {"variant_position": POS, "alternative": "G", "genome": "hg38", "chromosome": "chr17"}
    response = await client.post("/analyze_single_variant", params=params)
    body = response.json()
    assert body["prediction"] == "Uncalibrated model" and body["classification_confidence"] is None
    assert response.headers["x-evo2-note"].startswith(
        "classification_confidence is null: kmer-8 has no usable calibration"
    )


# --- errors that say what to do next ----------------------------------------------------------------


async def test_a_zero_based_position_is_named_as_such(client: httpx.AsyncClient) -> None:
    pos = POS
    while await base("hg38", pos) == await base("hg38", pos + 1):
        pos += 1
    ref = await base("hg38", pos + 1)  # the base of the 1-based position pos + 1, sent at pos (0-based)
    alt = "A" if ref != "A" else "C"
    response = await client.post("/variant-delta", json={"variant": f"chr17:{pos}:{ref}:{alt}"})
    error = response.json()["error"]
    assert error["type"] == "ref_mismatch" and error["detail"]["matches_at"] == pos + 1
    assert f"it has {ref} at chr17:{pos + 1}: did you send a 0-based position?" in error["message"]


async def test_a_mismatch_that_the_other_build_explains_says_so(make_app: Callable[..., FastAPI]) -> None:
    # Two made-up slices at the same coordinates: the hg19 one has the allele the request names.
    hg38 = Slice("hg38", Interval("chr17", 1000, 5000), "AC" * 2000)
    hg19 = Slice("hg19", Interval("chr17", 1000, 5000), "TG" * 2000)
    sizes = {"hg38": {"chr17": 83_257_441}, "hg19": {"chr17": 81_195_210}}
    genome = LayeredGenome([BundledGenome(slices=[hg38, hg19], sizes=sizes)])
    async with connect(make_app(genome=genome)) as client:
        # 1-based 3001 is 0-based 3000: hg38 has A (its neighbours C), hg19 has T.
        response = await client.post(
            "/variant-delta", json={"variant": "chr17:3001:T:G", "genome": "hg38", "window": 1024}
        )
    error = response.json()["error"]
    assert error["type"] == "ref_mismatch" and error["detail"]["other_genome_matches"] == "hg19"
    assert error["message"] == (
        "reference allele mismatch at chr17:3001: the request says T, the genome has A; hg19 (GRCh37) "
        "has T at chr17:3001: are these hg19 coordinates? Send genome: hg19"
    )


async def test_unknown_chromosomes_list_close_valid_names(client: httpx.AsyncClient) -> None:
    error = (await client.post("/variant-delta", json={"variant": "chr23:100:A:G"})).json()["error"]
    assert error["type"] == "unknown_chromosome"
    assert error["message"].startswith(
        "chr23 is not a chromosome of hg38; did you mean chr3 or chr2 or chr22?"
    )
    assert "chr1 to chr22, chrX, chrY, chrM" in error["message"]
    assert error["detail"]["close_names"] == ["chr3", "chr2", "chr22"]


async def test_a_region_held_by_no_source_names_what_is_held_and_the_settings(
    client: httpx.AsyncClient,
) -> None:
    # hg19 BRCA1 coordinates sent as hg38, on a deployment with the bundled slices only.
    response = await client.post("/variant-delta", json={"variant": "chr17:41276135:T:G", "genome": "hg38"})
    error = response.json()["error"]
    assert response.status_code == 400 and error["type"] == "region_unavailable"
    message = error["message"]
    assert "here this deployment holds " in message
    assert "hg38 chr17:43040000-43130000 (bundled)" in message
    assert "hg19 chr17:41190000-41285000 (bundled)" in message
    assert "if these are hg19 coordinates, send genome: hg19" in message
    assert "set EVO2_SERVICE_FASTA_HG38 to an indexed FASTA of hg38" in message
    assert 'or add "ucsc" to EVO2_SERVICE_GENOME_SOURCES' in message


async def test_an_unreachable_ucsc_is_answered_at_once_naming_the_offline_regions(
    make_app: Callable[..., FastAPI],
) -> None:
    attempts: list[str] = []

    def offline(request: httpx.Request) -> httpx.Response:
        attempts.append(request.url.path)
        raise httpx.ConnectError("[Errno -3] Temporary failure in name resolution", request=request)

    ucsc = ucsc_genome(transport=httpx.MockTransport(offline), tile_bp=65_536)
    async with connect(make_app(genome=LayeredGenome([BundledGenome(), ucsc]))) as client:
        response = await client.post(
            "/variant-delta", json={"variant": "chr17:41276135:T:G", "genome": "hg38"}
        )
    error = response.json()["error"]
    assert response.status_code == 502 and error["type"] == "upstream_error"
    assert attempts == ["/list/chromosomes"]  # one attempt, no retries: nothing to wait for
    assert error["message"].startswith(
        "UCSC /list/chromosomes could not be reached; gave up: https://api.genome.ucsc.edu is unreachable "
        "from this machine (offline?). Without UCSC this deployment holds "
    )
    assert "hg38 chr17:43040000-43130000 (bundled)" in error["message"]
    assert "send genome: hg19" in error["message"]
    assert "EVO2_SERVICE_UCSC_BASE_URL to a UCSC mirror" in error["message"]
