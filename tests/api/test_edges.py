"""Scores at the edges (issue 13): chromosome ends, N in windows, labels only inside their calibration,
and the context every delta carries. Through the real app on a made-up 30,000-bp chromosome."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.genome.layered import LayeredGenome
from tests.support.synthetic_genome import SyntheticGenome, random_bases

pytestmark = pytest.mark.anyio

L = 30_000
W = 8192


def chromosome() -> str:
    """chrT: random bases with a 3,000-bp N run (a gap), a 10-bp N run further on, and a known end."""
    bases = list(random_bases(L, 13))
    bases[L - 5 :] = "TGCCA"
    bases[10_000:13_000] = "N" * 3000
    bases[20_000:20_010] = "N" * 10
    return "".join(bases)


CHROM = chromosome()


def variant(pos: int, ref_len: int = 1, alt: str | None = None) -> str:
    """chrT:pos:ref:alt with the genome's ref bases (1-based ``pos``); default alt: an SNV."""
    ref = CHROM[pos - 1 : pos - 1 + ref_len]
    if alt is None:
        alt = "A" if ref != "A" else "C"
    return f"chrT:{pos}:{ref}:{alt}"


def usable_calibration(directory: Path, model: str, **fields: Any) -> Path:
    """A calibration that labels every delta of the k-mer model ``likely_pathogenic`` (threshold 1)."""
    record = {
        "model": model,
        "n": 3893,
        "n_lof": 823,
        "window": W,
        "options": {"delta_method": "window", "reverse_complement": False},
        "threshold": 1.0,
        "auroc": {"overall": {"value": 0.9, "ci95": [0.88, 0.92], "n": 3893, "n_lof": 823}},
        "logistic": {"intercept": 0.0, "slope": -1.0},
        **fields,
    }
    (directory / f"{model}.json").write_text(json.dumps(record))
    return directory


@pytest.fixture
def synthetic_app(make_app):
    def build(**settings: Any):
        genome = LayeredGenome([SyntheticGenome({"chrT": CHROM})])
        return make_app(genome=genome, **settings)

    return build


async def post(app: Any, body: dict[str, Any]) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
        return await c.post("/variant-delta", json={"genome": "hg38", **body})


async def results(app: Any, variants: list[str], **body: Any) -> list[dict[str, Any]]:
    response = await post(app, {"variants": variants, **body})
    assert response.status_code == 200, response.text
    return list(response.json()["results"])


# --- 1. a deletion at a chromosome end is not scored as a substitution --------------------------------


async def test_a_deletion_ending_one_base_before_the_chromosome_end_is_refused_naming_the_end(synthetic_app):
    # A 4-bp ref allele (3 bases deleted) whose last base is the one before the end: the alternate window
    # would need 3 bases after the deletion and the chromosome has 1. Nothing of equal length shows it.
    # Trimming the reference window to the alternate's length (the old way) left windows that differ at
    # one base, G -> A: a substitution.
    pos = L - 4
    ref = CHROM[pos - 1 : pos + 3]
    assert ref == "TGCC"
    response = await post(synthetic_app(), {"variant": f"chrT:{pos}:{ref}:{ref[0]}"})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "out_of_bounds"
    assert "end of chrT" in error["message"] and "30,000" in error["message"]
    assert error["detail"]["chrom_length"] == L and error["detail"]["chrom"] == "chrT"


async def test_deletions_near_both_ends_that_fit_show_both_alleles(synthetic_app):
    app = synthetic_app()
    first = variant(1, 4, CHROM[0])  # deletes bases 2-4: the window starts at the chromosome start
    last = variant(L - 6, 4, CHROM[L - 7])  # 3 bases deleted, 3 left after it: fits, window shortened
    for result in await results(app, [first, last]):
        assert "error" not in result, result
        start, end = result["window"]["start"], result["window"]["end"]
        assert result["alt_window"]["start"] == start
        index, ref = result["variant_index"], result["ref"]
        assert CHROM[start:end][index : index + len(ref)] == ref
    assert (await results(app, [first]))[0]["window"]["start"] == 0


# --- 2. windows with N ---------------------------------------------------------------------------------


async def test_a_window_mostly_of_n_is_refused_with_a_typed_error(synthetic_app):
    # chrT:14,500: the window [10,403, 18,595) holds 2,597 N of 8,192 bases.
    response = await post(synthetic_app(), {"variant": variant(14_500)})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "ambiguous_window"
    assert error["detail"]["non_acgt_ref"] == 2597 and error["detail"]["window_length"] == W
    assert error["detail"]["max_fraction"] == pytest.approx(0.01)
    assert "2,597" in error["message"]


async def test_every_result_counts_its_n_and_a_window_with_any_n_gets_no_label(
    synthetic_app, kmer_scorer, tmp_path
):
    app = synthetic_app(calibration_dir=usable_calibration(tmp_path, kmer_scorer.name, **SCOPE))
    few_n, clean = await results(app, [variant(22_000), variant(25_000)])
    assert (few_n["non_acgt_ref"], few_n["non_acgt_alt"]) == (10, 10)
    assert few_n["label"] is None and few_n["label_reason"] == "window_has_n"
    assert (clean["non_acgt_ref"], clean["non_acgt_alt"]) == (0, 0)
    assert clean["label"] == "likely_pathogenic" and clean["label_reason"] is None


async def test_the_ambiguity_limit_is_a_setting(synthetic_app):
    [result] = await results(synthetic_app(max_non_acgt_fraction=0.5), [variant(14_500)])
    assert result["non_acgt_ref"] == 2597 and result["label"] is None


# --- 4. labels only inside the calibration -------------------------------------------------------------

#: What a BRCA1 benchmark calibration was fitted on: SNVs in full 8,192-bp windows.
SCOPE = {"variant_kinds": ["snv"], "window_lengths": [W]}


async def test_labels_are_given_only_to_the_kinds_and_window_lengths_the_calibration_was_fitted_on(
    synthetic_app, kmer_scorer, tmp_path
):
    app = synthetic_app(calibration_dir=usable_calibration(tmp_path, kmer_scorer.name, **SCOPE))
    snv, deletion, insertion, mnv, near_start = await results(
        app,
        [
            variant(5_000),
            variant(5_100, 3, CHROM[5_099]),
            variant(5_200, 1, CHROM[5_199] + "GA"),
            variant(5_300, 2, "".join("A" if b != "A" else "C" for b in CHROM[5_299:5_301])),
            variant(100),  # the window is [0, 4,195): shorter than the calibration's windows
        ],
    )
    assert snv["label"] == "likely_pathogenic" and snv["label_reason"] is None
    assert snv["probability_lof"] is not None
    for result in (deletion, insertion, mnv):
        assert result["label"] is None and result["probability_lof"] is None and result["confidence"] is None
        assert result["label_reason"] == "kind_outside_calibration", result
    assert near_start["window_length"] == 4195
    assert near_start["label"] is None and near_start["label_reason"] == "window_length_outside_calibration"
    [other] = await results(app, [variant(5_000)], window=1024)
    assert other["label"] is None and other["label_reason"] == "options_outside_calibration"


async def test_a_calibration_that_does_not_state_its_scope_labels_nothing(
    synthetic_app, kmer_scorer, tmp_path
):
    app = synthetic_app(calibration_dir=usable_calibration(tmp_path, kmer_scorer.name))
    deletion, snv = await results(app, [variant(5_100, 3, CHROM[5_099]), variant(5_000)])
    for result in (deletion, snv):
        assert result["label"] is None and result["label_reason"] == "calibration_scope_unknown"


#: The original frontend's call for its example variant (query parameters).
LEGACY = {"variant_position": 43119628, "alternative": "G", "genome": "hg38", "chromosome": "chr17"}


async def test_the_legacy_call_reads_null_not_zero_when_there_is_no_label(client):
    body = (await client.post("/analyze_single_variant", params=LEGACY)).json()
    assert body["classification_confidence"] is None  # kmer-8 is not labelled: nothing to be confident of
    assert body["prediction"] == "Uncalibrated model"


async def test_an_unlabelled_model_says_why(client):
    [result] = (await client.post("/variant-delta", json={"variant": "chr17:43119628:T:G"})).json()["results"]
    assert result["label"] is None and result["label_reason"] == "model_not_validated"


# --- 3. the source in the response ---------------------------------------------------------------------


async def test_every_result_names_the_sequence_it_was_scored_against(client):
    [result] = (await client.post("/variant-delta", json={"variant": "chr17:43119628:T:G"})).json()["results"]
    # The bundled slices are byte-identical extracts of UCSC's assembly: one sequence family.
    assert result["source"] == {"name": "ucsc", "assembly": "hg38", "version": "Dec. 2013 (GRCh38/hg38)"}


# --- 5. context for every delta ------------------------------------------------------------------------


async def test_every_delta_says_where_it_falls_among_the_brca1_benchmark_variants(client):
    from service.domain.calibration import load_calibration

    distribution = load_calibration("kmer-8").file.distribution
    assert distribution is not None
    lof, func = distribution.lof, distribution.func
    assert (len(lof), len(func)) == (823, 3070)
    [result] = (await client.post("/variant-delta", json={"variant": "chr17:43119628:T:G"})).json()["results"]
    delta = result["delta_score"]
    context = result["context"]
    below_lof = sum(v <= delta for v in lof)
    below_func = sum(v <= delta for v in func)
    assert context["lof_fraction"] == pytest.approx(below_lof / 823)
    assert context["func_fraction"] == pytest.approx(below_func / 3070)
    assert context["percentile"] == pytest.approx(100 * (below_lof + below_func) / 3893)
    assert "relative to BRCA1 SGE variants under this model" in context["note"]
    assert "not a clinical probability" in context["note"]
    assert result["context_reason"] is None


async def test_a_delta_on_another_scale_gets_no_context_and_says_why(client):
    body = {"variant": "chr17:43119628:T:G", "window": 1024}
    [result] = (await client.post("/variant-delta", json=body)).json()["results"]
    assert result["context"] is None and result["context_reason"] == "options_outside_calibration"
