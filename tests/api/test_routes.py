"""The HTTP API through the real app (k-mer scorer, bundled BRCA1 slices), in process."""

import math

import httpx
import pytest

from service.scoring.base import reverse_complement

pytestmark = pytest.mark.anyio

EXAMPLE = {"variant": "chr17:43119628:T:G", "genome": "hg38"}


async def test_the_original_projects_example_variant(client, kmer_scorer):
    response = await client.post("/variant-delta", json=EXAMPLE)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model"] == kmer_scorer.name
    [result] = body["results"]
    assert result["variant"] == "chr17:43119628:T:G"
    assert (result["ref"], result["alt"], result["pos"], result["kind"]) == ("T", "G", 43119628, "snv")
    # The notebook's window: p = pos - 1; [p - 4096, p + 4096), variant at index 4096.
    assert result["window"] == {"chrom": "chr17", "start": 43119627 - 4096, "end": 43119627 + 4096}
    assert result["region"] == "chr17:43115532-43123723"
    assert result["variant_index"] == 4096 and result["window_length"] == 8192
    assert math.isfinite(result["delta_score"])
    assert result["delta_score"] == pytest.approx(result["alt_score"] - result["ref_score"])
    assert result["model"] == kmer_scorer.name
    assert result["genome"] == "hg38"


async def test_frontend_query_parameter_call_returns_its_six_fields(client):
    response = await client.post(
        "/analyze_single_variant",
        params={"variant_position": 43119628, "alternative": "G", "genome": "hg38", "chromosome": "chr17"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {
        "position",
        "reference",
        "alternative",
        "delta_score",
        "prediction",
        "classification_confidence",
    }
    assert (body["position"], body["reference"], body["alternative"]) == (43119628, "T", "G")
    direct = (await client.post("/variant-delta", json=EXAMPLE)).json()["results"][0]
    assert body["delta_score"] == pytest.approx(direct["delta_score"])
    assert isinstance(body["prediction"], str) and body["prediction"]


async def test_frontend_call_checks_an_optional_reference(client):
    response = await client.post(
        "/analyze_single_variant",
        params={
            "variant_position": 43119628,
            "alternative": "G",
            "genome": "hg38",
            "chromosome": "chr17",
            "reference": "C",
        },
    )
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "ref_mismatch"


async def test_wrong_reference_allele_is_a_400_naming_both_bases(client):
    response = await client.post("/variant-delta", json={"variant": "chr17:43119628:A:G"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "ref_mismatch"
    assert error["detail"]["expected"] == "A" and error["detail"]["observed"] == "T"
    assert "A" in error["message"] and "T" in error["message"]


async def test_hg19_coordinates_sent_as_hg38_are_caught_by_the_ref_check(client):
    # hg19 chr17:41276135 T>G (a Findlay SNV) is another locus in hg38: the ref check must catch it.
    ok = await client.post("/variant-delta", json={"variant": "chr17:41276135:T:G", "genome": "hg19"})
    assert ok.status_code == 200
    wrong = await client.post(
        "/variant-delta", json={"variant": "chr17:43124118:T:G", "genome": "hg38"}
    )  # the same base lifted to hg38 is fine
    assert wrong.status_code == 200
    assert wrong.json()["results"][0]["delta_score"] == pytest.approx(
        ok.json()["results"][0]["delta_score"], abs=1e-9
    )


async def test_a_batch_is_answered_in_order_and_one_bad_variant_does_not_sink_the_others(client):
    variants = [
        "chr17:43119628:T:G",
        "not a variant",
        "chr17:43119628:A:G",
        {"chrom": "17", "pos": 43119628, "alt": "C"},
        "chr99:5:A:C",
        "chr17:83257442:A:C",
        "NC_000017.10:g.41276135T>G",
        "chr17:43119628:T:A",
    ]
    response = await client.post("/variant-delta", json={"variants": variants, "genome": "hg38"})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert len(results) == len(variants)
    kinds = [r["error"]["type"] if "error" in r else "ok" for r in results]
    assert kinds == [
        "ok",
        "invalid_variant",
        "ref_mismatch",
        "ok",
        "unknown_chromosome",
        "out_of_bounds",
        "genome_mismatch",
        "ok",
    ]
    assert results[3]["ref"] == "T" and results[3]["variant"] == "chr17:43119628:T:C"
    assert results[1]["input"] == "not a variant"


async def test_three_alt_alleles_share_one_reference_window(make_app, kmer_scorer):
    app = make_app()
    before = kmer_scorer.stats.snapshot()["sequences"]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
        variants = [f"chr17:43119628:T:{alt}" for alt in "ACG"]
        response = await c.post("/variant-delta", json={"variants": variants})
    assert response.status_code == 200
    assert kmer_scorer.stats.snapshot()["sequences"] - before == 4  # one ref + three alts


async def test_indels_are_scored_with_equal_length_windows(client):
    response = await client.post(
        "/variant-delta", json={"variants": ["chr17:43119628:T:TA", "chr17:43119627:TT:T"]}
    )
    results = response.json()["results"]
    assert [r.get("kind") for r in results] == ["insertion", "deletion"], results
    for r in results:
        assert r["window_length"] == 8192
    assert results[1]["alt_window"]["end"] == results[1]["window"]["end"] + 1


async def test_suffix_delta_equals_window_delta_for_an_exact_causal_model(client):
    window = (await client.post("/variant-delta", json=EXAMPLE)).json()["results"][0]
    suffix = (await client.post("/variant-delta", json={**EXAMPLE, "delta_method": "suffix"})).json()
    assert suffix["results"][0]["delta_method"] == "suffix"
    assert suffix["results"][0]["delta_score"] == pytest.approx(window["delta_score"], abs=1e-12)


async def test_reverse_complement_averaging(client):
    plain = (await client.post("/variant-delta", json=EXAMPLE)).json()["results"][0]
    both = (await client.post("/variant-delta", json={**EXAMPLE, "reverse_complement": True})).json()
    result = both["results"][0]
    assert result["reverse_complement"] is True
    assert math.isfinite(result["delta_score"]) and result["delta_score"] != plain["delta_score"]


@pytest.mark.parametrize("window", [100, 8191, 10**6])
async def test_window_outside_limits_is_refused(client, window):
    response = await client.post("/variant-delta", json={**EXAMPLE, "window": window})
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "limit_exceeded"


async def test_a_smaller_window_is_honoured(client):
    response = await client.post("/variant-delta", json={**EXAMPLE, "window": 1024})
    result = response.json()["results"][0]
    assert result["window_length"] == 1024 and result["variant_index"] == 512


@pytest.mark.parametrize(
    ("body", "status", "kind"),
    [
        ({"variant": "chr17:43119628"}, 400, "invalid_variant"),
        ({"variant": "chr17:43119628:T:G", "genome": "hg99"}, 400, "unknown_genome"),
        ({"variant": "chr17:43119628:T:G", "genome": 38}, 422, "validation_error"),
        ({"variant": "chr99:100:A:C"}, 400, "unknown_chromosome"),
        ({"variant": "chr17:999999999:A:C"}, 400, "out_of_bounds"),
        ({"variant": "chr1:1000000:A:C"}, 400, "region_unavailable"),
        ({}, 400, "invalid_request"),
        ({"variants": []}, 400, "invalid_request"),
        ({"variant": 5}, 422, "validation_error"),
        ({"variant": "chr17:43119628:T:G", "extra": 1}, 422, "validation_error"),
    ],
)
async def test_bad_input_gets_a_typed_error(client, body, status, kind):
    response = await client.post("/variant-delta", json=body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["type"] == kind


async def test_too_many_variants(make_app):
    app = make_app(max_variants=2)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
        response = await c.post("/variant-delta", json={"variants": ["chr17:43119628:T:G"] * 3})
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "limit_exceeded"


async def test_score_matches_per_position_log_probs(client, kmer_scorer):
    seq = "ACGTTGCAAGGCTTAACGNNACGT"
    response = await client.post("/score", json={"sequences": [seq, seq.lower()], "per_position": True})
    assert response.status_code == 200, response.text
    first, second = response.json()["scores"]
    assert len(first["log_probs"]) == len(seq) - 1
    assert first["mean_log_likelihood"] == pytest.approx(sum(first["log_probs"]) / (len(seq) - 1))
    assert first["sum_log_likelihood"] == pytest.approx(sum(first["log_probs"]))
    assert second == first
    expected = kmer_scorer.log_probs([seq])[0]
    assert first["log_probs"] == pytest.approx(expected.tolist())


async def test_score_reverse_complement_averages_both_strands(client, kmer_scorer):
    seq = "ACGTTGCAAGGCTTAACGGT"
    response = await client.post("/score", json={"sequences": [seq], "reverse_complement": True})
    forward, backward = kmer_scorer.log_probs([seq, reverse_complement(seq)])
    expected = (forward.mean() + backward.mean()) / 2
    assert response.json()["scores"][0]["mean_log_likelihood"] == pytest.approx(expected)


@pytest.mark.parametrize(
    ("sequences", "kind"),
    [(["ACGTX"], "invalid_sequence"), (["A"], "limit_exceeded"), (["ACGT"] * 65, "limit_exceeded")],
)
async def test_score_rejects_bad_sequences(client, sequences, kind):
    response = await client.post("/score", json={"sequences": sequences})
    assert response.status_code == 400
    assert response.json()["error"]["type"] == kind


async def test_health_and_info(client, kmer_scorer):
    health = await client.get("/health")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    info = (await client.get("/info")).json()
    assert info["model"]["name"] == kmer_scorer.name
    assert info["defaults"]["window"] == 8192 and info["defaults"]["genome"] == "hg38"
    assert info["limits"]["max_variants"] == 1000
    assert "scope" in info["calibration"]


async def test_unknown_path_and_method_use_the_envelope(client):
    assert (await client.get("/nope")).json()["error"]["type"] == "not_found"
    assert (await client.get("/variant-delta")).json()["error"]["type"] == "method_not_allowed"


async def test_request_id_is_echoed_or_made(client):
    response = await client.get("/health", headers={"x-request-id": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    assert len((await client.get("/health")).headers["x-request-id"]) == 32


async def test_body_size_limit(client):
    big = {"sequences": ["A" * 1_000_000, "C" * 1_000_000, "G" * 500_000]}
    response = await client.post("/score", json=big)
    assert response.status_code == 413
    assert response.json()["error"]["type"] == "payload_too_large"


async def test_api_key_is_required_when_configured(make_app):
    app = make_app(require_api_key=True, api_keys=["s3cret", "other-key"])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
        assert (await c.get("/health")).status_code == 200
        missing = await c.post("/variant-delta", json=EXAMPLE)
        assert missing.status_code == 401 and missing.json()["error"]["type"] == "unauthorized"
        wrong = await c.post("/variant-delta", json=EXAMPLE, headers={"authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert "s3cret" not in wrong.text
        bearer = await c.post("/variant-delta", json=EXAMPLE, headers={"authorization": "Bearer s3cret"})
        assert bearer.status_code == 200
        header = await c.post("/variant-delta", json=EXAMPLE, headers={"x-api-key": "other-key"})
        assert header.status_code == 200
        assert (await c.get("/info")).status_code == 401


async def test_labels_are_given_only_on_the_calibrations_own_scale(make_app, kmer_scorer, tmp_path):
    """A calibration fitted on 8,192-bp window deltas must not label a 1,024-bp or suffix delta."""
    import json

    record = {
        "model": kmer_scorer.name,
        "n": 3893,
        "n_lof": 823,
        "window": 8192,
        "variant_kinds": ["snv"],  # a file that does not say what it was fitted on labels nothing
        "window_lengths": [8192],
        "options": {"delta_method": "window", "reverse_complement": False},
        "threshold": 1.0,  # every delta of this model lies below it
        "auroc": {"overall": {"value": 0.9, "ci95": [0.88, 0.92], "n": 3893, "n_lof": 823}},
        "logistic": {"intercept": 0.0, "slope": -1.0},
    }
    (tmp_path / f"{kmer_scorer.name}.json").write_text(json.dumps(record))
    app = make_app(calibration_dir=tmp_path)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
        same = (await c.post("/variant-delta", json=EXAMPLE)).json()["results"][0]
        other_window = (await c.post("/variant-delta", json={**EXAMPLE, "window": 1024})).json()
        other_method = (await c.post("/variant-delta", json={**EXAMPLE, "delta_method": "suffix"})).json()
        legacy = (
            await c.post(
                "/analyze_single_variant",
                params={
                    "variant_position": 43119628,
                    "alternative": "G",
                    "genome": "hg38",
                    "chromosome": "17",
                },
            )
        ).json()
    assert same["label"] == "likely_pathogenic" and same["probability_lof"] is not None
    assert other_window["results"][0]["label"] is None
    assert other_window["results"][0]["label_reason"] == "options_outside_calibration"
    assert other_method["results"][0]["label"] is None
    assert legacy["prediction"] == "Likely pathogenic"
