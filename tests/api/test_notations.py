"""rsIDs and HGVS through the API, offline (bundled BRCA1 records), and a multi-allelic rsID from a
local rsID VCF (the file option): one entry per input, a result per allele."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

pytestmark = pytest.mark.anyio


async def post(app: FastAPI, path: str, body: dict[str, Any]) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as client:
        return await client.post(path, json=body)


async def test_resolve_echoes_variant_build_transcript_and_gene(make_app: Callable[..., FastAPI]) -> None:
    app = make_app(annotation_sources=["bundled"])
    response = await post(
        app, "/resolve", {"variants": ["BRCA1:c.181T>G", "rs80357906", "chr17:43106487:A:C"]}
    )
    assert response.status_code == 200
    gene, rsid, genomic = response.json()["results"]
    [r] = gene["resolutions"]
    assert (gene["input"], r["variant"], r["genome"]) == ("BRCA1:c.181T>G", "chr17:43106487:A:C", "hg38")
    assert (r["transcript"], r["gene"], r["selection"]) == ("NM_007294.4", "BRCA1", "MANE Select")
    assert rsid["resolutions"][0]["variant"] == "chr17:43057062:T:TG"
    assert genomic["resolutions"][0]["notation"] == "genomic"


async def test_variant_delta_scores_hgvs_and_says_how(make_app: Callable[..., FastAPI]) -> None:
    app = make_app(annotation_sources=["bundled"])
    response = await post(app, "/variant-delta", {"variant": "NM_007294.4:c.5266dupC"})
    assert response.status_code == 200
    [result] = response.json()["results"]
    assert result["input"] == "NM_007294.4:c.5266dupC"
    assert result["variant"] == "chr17:43057062:T:TG" and result["kind"] == "insertion"
    assert result["resolution"]["hgvs_c"] == "NM_007294.4:c.5266dup"
    assert result["resolution"]["transcript"] == "NM_007294.4"


async def test_bad_notation_names_every_accepted_form(make_app: Callable[..., FastAPI]) -> None:
    response = await post(make_app(), "/variant-delta", {"variant": "BRCA1 p.Cys61Gly"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_variant"
    for example in ("rs80357906", "NM_007294.4:c.181T>G", "BRCA1:c.181T>G", "chr17:43119628:T:G"):
        assert example in error["message"]


async def test_wrong_stated_base_is_ref_mismatch(make_app: Callable[..., FastAPI]) -> None:
    response = await post(
        make_app(annotation_sources=["bundled"]), "/variant-delta", {"variant": "NM_007294.4:c.181A>G"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "ref_mismatch"


async def test_unknown_transcript_and_rsid(make_app: Callable[..., FastAPI]) -> None:
    app = make_app(annotation_sources=["bundled"])
    response = await post(app, "/resolve", {"variants": ["NM_000492.4:c.1521_1523del", "rs113993960"]})
    types = [item["error"]["type"] for item in response.json()["results"]]
    assert types == ["unknown_transcript", "unknown_rsid"]


async def test_multi_allelic_rsid_is_one_entry_with_each_allele(
    make_app: Callable[..., FastAPI], tmp_path: Path
) -> None:
    """A constructed record (not dbSNP's): c.181 (plus-strand A at 43,106,487) with alternates C and G."""
    vcf = tmp_path / "rsids.vcf"
    vcf.write_text("#CHROM\tPOS\tID\tREF\tALT\nchr17\t43106487\trs999999901\tA\tC,G\n")
    app = make_app(annotation_sources=["bundled", "file"], rsid_vcf_hg38=vcf)
    response = await post(app, "/variant-delta", {"variants": ["rs999999901", "chr17:43119628:T:G"]})
    assert response.status_code == 200
    multi, plain = response.json()["results"]
    assert multi["input"] == "rs999999901" and multi["rsid"] == "rs999999901"
    assert [a["variant"] for a in multi["alleles"]] == ["chr17:43106487:A:C", "chr17:43106487:A:G"]
    assert [(a["resolution"]["allele"], a["resolution"]["alleles"]) for a in multi["alleles"]] == [
        (1, 2),
        (2, 2),
    ]
    assert plain["variant"] == "chr17:43119628:T:G"
    resolved = await post(app, "/resolve", {"variant": "rs999999901"})
    assert len(resolved.json()["results"][0]["resolutions"]) == 2


async def test_an_rsid_allele_longer_than_the_bases_read_around_it_does_not_sink_its_siblings(
    make_app: Callable[..., FastAPI], tmp_path: Path
) -> None:
    """A constructed record: alternates C and a 1,201-bp insertion at c.181. The insertion is longer
    than the bases the resolver reads on each side (FLANK_BP), so whether it repeats the bases before
    it cannot be read there: it is an ``ins`` (the shift stops at the edge), not an out_of_bounds
    refusal of the whole rsID (which took the C allele down with it)."""
    insertion = "A" + "C" * 1200
    vcf = tmp_path / "rsids.vcf"
    vcf.write_text(f"#CHROM\tPOS\tID\tREF\tALT\nchr17\t43106487\trs999999903\tA\tC,{insertion}\n")
    app = make_app(annotation_sources=["bundled", "file"], rsid_vcf_hg38=vcf)
    response = await post(app, "/resolve", {"variant": "rs999999903"})
    assert response.status_code == 200, response.text
    snv, long_insertion = response.json()["results"][0]["resolutions"]
    assert snv["variant"] == "chr17:43106487:A:C"
    assert long_insertion["variant"] == f"chr17:43106487:A:{insertion}"
    assert "ins" in long_insertion["hgvs_g"]
