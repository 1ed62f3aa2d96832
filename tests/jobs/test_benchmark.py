"""The BRCA1 benchmark: statistics against brute force, resume, calibration files, the Evo 2 path."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.metrics import roc_curve

import service
from service.coords import parse_variant
from service.domain.calibration import (
    LIKELY_BENIGN,
    LIKELY_PATHOGENIC,
    MODEL_NOT_VALIDATED,
    NO_CALIBRATION,
    OPTIONS_OUTSIDE,
    Calibration,
    DeltaScale,
    load_calibration,
)
from service.domain.options import DeltaOptions
from service.errors import InvalidRequest
from service.genome.bundled import BundledGenome, read_fasta
from service.jobs.benchmark import BenchmarkOptions, benchmark, run_benchmark
from service.jobs.benchmark.calibration_file import calibration_record, write_calibration
from service.jobs.benchmark.checkpoint import read_deltas
from service.jobs.benchmark.evaluation import evaluate
from service.jobs.benchmark.findlay import FindlaySnv, ScoredSnv, load_findlay
from service.jobs.benchmark.logistic import cross_validate, fit_logistic
from service.jobs.benchmark.selection import select_snvs
from service.jobs.benchmark.stats import auroc_delong, youden_threshold
from service.scoring.base import ScorerStats
from service.scoring.kmer import KmerScorer
from tests.support.parts import engine_for
from tests.support.scripts import load_script

ROOT = Path(__file__).resolve().parents[2]


def brute_auroc(scores: Sequence[float], positives: Sequence[bool]) -> float:
    pos = [s for s, y in zip(scores, positives, strict=True) if y]
    neg = [s for s, y in zip(scores, positives, strict=True) if not y]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def load_cli() -> Any:
    return load_script(ROOT / "bench" / "brca1.py", "bench_brca1")


class CountingScorer:
    """The k-mer scorer, counting the sequences it is asked to score."""

    def __init__(self, inner: KmerScorer) -> None:
        self.inner = inner
        self.name = inner.name
        self.max_length = inner.max_length
        self.stats = ScorerStats()
        self.sequences = 0

    def log_probs(self, seqs: Sequence[str]) -> list[np.ndarray]:
        self.sequences += len(seqs)
        self.stats.record(sequences=len(seqs), forward_passes=1, tokens=0, seconds=0.0)
        return self.inner.log_probs(seqs)

    def describe(self) -> dict[str, Any]:
        return {"model": self.name}


class OracleScorer(CountingScorer):
    """k-mer log-probs, lowered at the variant for LOF alleles: a model with real (noisy) signal."""

    def __init__(self, inner: KmerScorer, lof_alt_windows: set[str]) -> None:
        super().__init__(inner)
        self.name = "oracle-test"
        self.lof = lof_alt_windows

    def log_probs(self, seqs: Sequence[str]) -> list[np.ndarray]:
        out = super().log_probs(seqs)
        for seq, lp in zip(seqs, out, strict=True):
            if seq in self.lof:
                lp[len(lp) // 2] -= 3.0
        return out


@pytest.fixture(scope="module")
def findlay() -> list[FindlaySnv]:
    return load_findlay()


@pytest.fixture(scope="module")
def subset60(findlay: list[FindlaySnv]) -> list[FindlaySnv]:
    return select_snvs(findlay, 60, "stratified", seed=0)


# --------------------------------------------------------------------------- statistics


def test_auroc_equals_brute_force_pairwise_auroc_with_ties():
    rng = np.random.default_rng(1)
    for _ in range(20):
        n = int(rng.integers(5, 60))
        scores = rng.integers(0, 6, n).astype(float)  # many ties
        y = rng.random(n) < 0.3
        y[0], y[1] = True, False
        assert auroc_delong(scores, y)["value"] == pytest.approx(
            brute_auroc(list(scores), list(y)), abs=1e-12
        )


def test_delong_interval_matches_its_structural_components():
    rng = np.random.default_rng(2)
    scores = rng.normal(size=40) + np.r_[np.ones(15), np.zeros(25)]
    y = np.r_[np.ones(15, bool), np.zeros(25, bool)]
    psi = np.array([[1.0 if p > q else 0.5 if p == q else 0.0 for q in scores[~y]] for p in scores[y]])
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    se = math.sqrt(v10.var(ddof=1) / 15 + v01.var(ddof=1) / 25)
    result = auroc_delong(scores, y)
    assert result["value"] == pytest.approx(psi.mean())
    assert result["se"] == pytest.approx(se)
    assert result["ci95"] == pytest.approx([psi.mean() - 1.96 * se, psi.mean() + 1.96 * se])


def test_roc_curve_area_is_the_auroc():
    rng = np.random.default_rng(3)
    scores = rng.integers(0, 10, 200).astype(float)
    y = rng.random(200) < 0.4
    fpr, tpr, _ = roc_curve(y, scores)  # the curve bench/brca1.py plots
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0.0, 0.0, 1.0, 1.0)
    assert np.trapezoid(tpr, fpr) == pytest.approx(auroc_delong(scores, y)["value"])


def test_youden_threshold_maximises_tpr_minus_fpr_on_the_data():
    rng = np.random.default_rng(4)
    for _ in range(10):
        deltas = np.round(rng.normal(size=80), 1)  # ties
        lof = rng.random(80) < 0.3
        lof[:2] = [True, False]
        cut = youden_threshold(deltas, lof)

        def j(t: float, deltas: np.ndarray = deltas, lof: np.ndarray = lof) -> float:
            called = deltas < t
            return float(called[lof].mean() - called[~lof].mean())

        # Every threshold that could matter: each data value, just above it and beyond both ends.
        candidates = [*deltas, *(deltas + 1e-9), deltas.min() - 1, deltas.max() + 1]
        assert j(cut.threshold) == pytest.approx(max(j(t) for t in candidates))
        assert cut.tpr - cut.fpr == pytest.approx(j(cut.threshold))
        assert not np.any(deltas == cut.threshold)


def test_logistic_fit_recovers_known_parameters():
    rng = np.random.default_rng(5)
    x = rng.normal(-5e-4, 1e-3, 40_000)  # delta-like scale
    intercept, slope = -1.3, -900.0
    y = rng.random(x.size) < 1 / (1 + np.exp(-(intercept + slope * x)))
    fit = fit_logistic(x, y)
    assert fit.converged
    assert fit.intercept == pytest.approx(intercept, abs=0.06)
    assert fit.slope == pytest.approx(slope, rel=0.06)
    # The penalised optimum is the unpenalised one to within the (tiny) penalty.
    p = fit.predict(x)
    assert abs(np.sum(p - y)) < 1e-6


def test_logistic_fit_stays_finite_on_separable_data():
    x = np.array([-3.0, -2.0, -1.0, 1.0, 2.0, 3.0]) * 1e-3
    fit = fit_logistic(x, x < 0)
    assert math.isfinite(fit.slope) and fit.slope < 0
    assert np.all((fit.predict(x) > 0.5) == (x < 0))


def test_cross_validation_beats_the_base_rate_only_with_signal():
    rng = np.random.default_rng(6)
    y = rng.random(1000) < 0.25
    informative = rng.normal(size=1000) - 1.5 * y
    cv = cross_validate(informative, y, folds=5, seed=0)
    assert cv is not None and cv["folds"] == 5
    assert cv["auroc"] > 0.75
    assert cv["log_loss"] < cv["baseline"]["log_loss"]
    assert cv["brier"] < cv["baseline"]["brier"]
    noise = cross_validate(rng.normal(size=1000), y, folds=5, seed=0)
    assert noise is not None and abs(noise["auroc"] - 0.5) < 0.1
    assert cross_validate(np.arange(3.0), np.array([True, False, False])) is None


def test_stratified_subset_keeps_both_classes_and_splits_in_table_order(findlay, subset60):
    assert len(subset60) == 60
    index = {s.notation: i for i, s in enumerate(findlay)}
    assert [index[s.notation] for s in subset60] == sorted(index[s.notation] for s in subset60)
    strata = {(s.is_lof, s.is_coding) for s in subset60}
    assert strata == {(True, True), (True, False), (False, True), (False, False)}
    n_lof = sum(s.is_lof for s in subset60)
    assert abs(n_lof - 60 * 823 / 3893) <= 1
    assert select_snvs(findlay, 60, "stratified", seed=0) == subset60
    assert select_snvs(findlay, 60, "stratified", seed=1) != subset60
    assert select_snvs(findlay, 5, "first") == findlay[:5]


# --------------------------------------------------------------------------- scoring and resume


def test_benchmark_figures_are_those_of_its_own_deltas(kmer_scorer, subset60, findlay):
    result = asyncio.run(benchmark(kmer_scorer, BenchmarkOptions(n=60, subset="stratified"), snvs=findlay))
    report, rows = result.report, result.rows
    assert [r.snv for r in rows] == subset60
    assert report["n"] == 60 and report["n_lof"] == sum(s.is_lof for s in subset60)
    deltas = [r.delta for r in rows]
    lof = [r.snv.is_lof for r in rows]
    assert report["auroc"]["overall"]["value"] == pytest.approx(brute_auroc([-d for d in deltas], lof))
    coding = [r for r in rows if r.snv.is_coding]
    assert report["auroc"]["coding"]["value"] == pytest.approx(
        brute_auroc([-r.delta for r in coding], [r.snv.is_lof for r in coding])
    )
    assert report["class_stats"]["lof"]["n"] == sum(lof)
    assert report["class_stats"]["lof"]["mean"] == pytest.approx(
        np.mean([d for d, y in zip(deltas, lof, strict=True) if y])
    )
    assert report["scoring"]["failed"] == 0
    json.dumps(report)  # the Modal entrypoint returns it


def test_rerun_skips_scored_rows_and_gives_the_same_deltas(tmp_path, kmer_scorer, findlay):
    deltas_path = tmp_path / "deltas.tsv"
    counting = CountingScorer(kmer_scorer)
    first = run_benchmark(counting, BenchmarkOptions(n=30, batch_size=8, deltas_path=deltas_path))
    assert (first["scoring"]["scored_now"], first["scoring"]["reused"]) == (30, 0)

    # What scoring rows 30..59 alone sends to the model:
    alone = CountingScorer(kmer_scorer)
    asyncio.run(benchmark(alone, BenchmarkOptions(batch_size=8), snvs=findlay[30:60]))

    counting.sequences = 0
    second = run_benchmark(counting, BenchmarkOptions(n=60, batch_size=8, deltas_path=deltas_path))
    assert (second["scoring"]["scored_now"], second["scoring"]["reused"]) == (30, 30)
    assert counting.sequences == alone.sequences > 0

    counting.sequences = 0
    third = run_benchmark(counting, BenchmarkOptions(n=60, batch_size=8, deltas_path=deltas_path))
    assert counting.sequences == 0 and third["scoring"]["reused"] == 60
    fresh = run_benchmark(kmer_scorer, BenchmarkOptions(n=60))
    assert third["auroc"] == fresh["auroc"] and third["class_stats"] == fresh["class_stats"]
    assert len(read_deltas(deltas_path)) == 60


def test_an_interrupted_last_line_is_scored_again(tmp_path, kmer_scorer):
    deltas_path = tmp_path / "deltas.tsv"
    run_benchmark(kmer_scorer, BenchmarkOptions(n=10, deltas_path=deltas_path))
    text = deltas_path.read_text()
    deltas_path.write_text(text[: text.rstrip("\n").rfind("\t")])  # cut inside the last row
    assert len(read_deltas(deltas_path)) == 9
    counting = CountingScorer(kmer_scorer)
    report = run_benchmark(counting, BenchmarkOptions(n=10, deltas_path=deltas_path))
    assert report["scoring"]["scored_now"] == 1 and report["scoring"]["reused"] == 9
    assert len(read_deltas(deltas_path)) == 10


def test_a_deltas_file_for_other_settings_is_refused(tmp_path, kmer_scorer):
    deltas_path = tmp_path / "deltas.tsv"
    run_benchmark(kmer_scorer, BenchmarkOptions(n=5, deltas_path=deltas_path))
    with pytest.raises(InvalidRequest, match="other settings"):
        run_benchmark(kmer_scorer, BenchmarkOptions(n=5, window=4096, deltas_path=deltas_path))


# --------------------------------------------------------------------------- calibration files


def oracle_for(snvs: Sequence[FindlaySnv], window: int) -> OracleScorer:
    engine = engine_for(KmerScorer.load(), BundledGenome())
    built = asyncio.run(
        engine.windows([parse_variant(s.notation) for s in snvs], DeltaOptions("hg19", window))
    )
    lof_windows = {w.alt_seq for s, w in zip(snvs, built, strict=True) if s.is_lof}  # type: ignore[union-attr]
    return OracleScorer(KmerScorer.load(), lof_windows)


def test_cli_writes_plots_report_and_a_calibration_whose_labels_follow_the_threshold(tmp_path, subset60):
    cli = load_cli()
    scorer = oracle_for(subset60, 8192)
    out, calibration_dir = tmp_path / "out", tmp_path / "calibration"
    argv = ["--model", "kmer", "--n", "60", "--subset", "stratified", "--out", str(out)]
    argv += ["--write-calibration", "--calibration-dir", str(calibration_dir), "--no-progress"]
    report = cli.main(argv, scorer=scorer)
    assert report["auroc"]["overall"]["value"] > 0.8  # the oracle's signal is seen

    for name in ("roc.png", "strip.png"):
        data = (out / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) < 150_000
    assert json.loads((out / "report.json").read_text())["n"] == 60
    assert len(read_deltas(out / "deltas.tsv")) == 60

    calibration = load_calibration("oracle-test", calibration_dir)
    data = calibration.data
    assert data["n"] == 60 and data["window"] == 8192 and data["command"].startswith("python bench/brca1.py")
    assert data["auroc"]["overall"]["value"] == report["auroc"]["overall"]["value"]
    assert data["logistic"]["cv"]["folds"] == 5
    assert calibration.usable
    threshold = calibration.threshold
    assert threshold == report["threshold"]["value"]
    rows = read_deltas(out / "deltas.tsv")
    for row in rows.values():
        delta = row.alt_score - row.ref_score
        label = calibration.label(delta)
        assert label.label == (LIKELY_PATHOGENIC if delta < threshold else LIKELY_BENIGN)
        p = 1 / (1 + math.exp(-(data["logistic"]["intercept"] + data["logistic"]["slope"] * delta)))
        assert label.probability_lof == pytest.approx(p)
        assert label.confidence == pytest.approx(p if delta < threshold else 1 - p)
    # Deltas from other windows or options are on another scale: no label, and the reason says so.
    assert calibration.label(threshold - 1, DeltaScale(window=4096)).label is None
    assert calibration.label(threshold - 1, DeltaScale(window=4096)).reason == OPTIONS_OUTSIDE
    assert calibration.label(threshold - 1, DeltaScale(reverse_complement=True)).label is None
    assert (
        calibration.label(threshold - 1, DeltaScale(window=8192, delta_method="window")).label
        == LIKELY_PATHOGENIC
    )
    # Fitted on SNVs in full 8,192-bp windows: nothing else is labelled.
    assert data["variant_kinds"] == ["snv"] and data["window_lengths"] == [8192]
    assert (
        calibration.label(threshold - 1, DeltaScale(kind="snv", window_length=8192)).label
        == LIKELY_PATHOGENIC
    )
    assert calibration.label(threshold - 1, DeltaScale(kind="deletion", window_length=8192)).label is None
    assert calibration.label(threshold - 1, DeltaScale(kind="snv", window_length=8000)).label is None
    assert "scope" in calibration.describe() and calibration.describe()["remeasured"] is True


def test_a_model_without_signal_gets_no_label(tmp_path, kmer_scorer):
    report = run_benchmark(kmer_scorer, BenchmarkOptions(n=60, subset="stratified"))
    assert report["auroc"]["overall"]["value"] < 0.6  # the k-mer baseline has no signal here
    write_calibration(calibration_record(report, command="test"), tmp_path)
    calibration = load_calibration(kmer_scorer.name, tmp_path)
    assert calibration.threshold is not None and not calibration.usable
    for delta in (-1.0, calibration.threshold - 1e-9, 0.0, 1.0):
        assert calibration.label(delta).label is None
        assert calibration.label(delta).reason == MODEL_NOT_VALIDATED
        assert calibration.label(delta).probability_lof is None


def test_a_perfect_score_on_a_tiny_subset_gives_no_labels():
    # 4 LOF with the lowest deltas, 4 FUNC: AUROC 1 and a collapsed DeLong interval, on too few rows.
    rows = [
        ScoredSnv(
            FindlaySnv("chr17", i + 1, "A", "C", "Missense", 0.0, "LOF" if i < 4 else "FUNC"), 0.0, i * 1e-4
        )
        for i in range(8)
    ]
    report = {
        "model": "lucky",
        "genome": "hg19",
        "table_rows": 3893,
        "selected": 8,
        "date": None,
        "options": BenchmarkOptions(n=8).describe(),
        **evaluate(rows),
    }
    calibration = Calibration("lucky", calibration_record(report))
    assert calibration.auroc == 1.0 and calibration.threshold is not None
    assert not calibration.usable
    assert calibration.label(-1.0).label is None


def test_packaged_kmer_calibration_is_the_measured_full_run(kmer_scorer):
    calibration = load_calibration("kmer-8")
    data = calibration.data
    assert data["n"] == 3893 and data["window"] == 8192 and data["remeasured"] is True
    assert data["command"] == ("python bench/brca1.py --model kmer --out out/brca1-kmer/ --write-calibration")
    report = run_benchmark(kmer_scorer, BenchmarkOptions())
    assert report["auroc"]["overall"]["value"] == pytest.approx(calibration.auroc, abs=1e-9)
    assert report["threshold"]["value"] == pytest.approx(calibration.threshold, rel=1e-9)
    assert calibration.auroc is not None and calibration.auroc < 0.6
    assert calibration.label(-1.0).label is None


def leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """(path, value) of every scalar in a JSON value."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from leaves(item, (*path, i))
    else:
        yield path, value


def test_a_rerun_reproduces_every_figure_of_the_packaged_kmer_calibration(kmer_scorer):
    """The packaged file was measured with a hand-written Newton/IRLS fit; scikit-learn's Newton solver
    stops elsewhere within its tolerance. Both minimise the same penalised log-likelihood, so the fit
    and the out-of-fold log-loss and Brier score computed from it may differ in the last digits: 1e-9
    relative, a change in P(LOF) below 1e-9. Every other figure (AUROCs rank the same predictions)
    must match to rounding."""
    fit = {("logistic", "intercept"), ("logistic", "slope"), ("logistic", "cv", "log_loss")}
    fit.add(("logistic", "cv", "brier"))
    packaged = dict(leaves(load_calibration("kmer-8").data))
    report = run_benchmark(kmer_scorer, BenchmarkOptions())
    fresh = dict(leaves(calibration_record(report, command=packaged[("command",)]).as_json()))
    assert fresh.keys() == packaged.keys()
    for path, old in packaged.items():
        if path == ("date",):
            continue
        if isinstance(old, float):
            assert fresh[path] == pytest.approx(old, rel=1e-9 if path in fit else 1e-12), path
        else:
            assert fresh[path] == old, path


def test_original_evo2_7b_threshold_is_kept_and_marked_not_remeasured():
    calibration = load_calibration("evo2_7b")
    info = calibration.describe()
    assert info["remeasured"] is False and calibration.auroc is None
    assert calibration.published_auroc == 0.88
    assert "not a clinical call" in info["scope"]
    below = calibration.label(-0.0009178519 - 1e-6)
    above = calibration.label(-0.0009178519 + 1e-6)
    assert (below.label, above.label) == (LIKELY_PATHOGENIC, LIKELY_BENIGN)
    assert below.probability_lof is None and below.confidence is None
    assert load_calibration("no-such-model").label(-1.0).reason == NO_CALIBRATION


# --------------------------------------------------------------------------- Evo 2 code path


def test_tiny_evo2_scores_brca1_windows_through_the_engine(findlay):
    from tests.support.evo2_cpu import tiny_scorer

    scorer = tiny_scorer()
    window = 512
    result = asyncio.run(benchmark(scorer, BenchmarkOptions(n=12, subset="stratified", window=window)))
    report, rows = result.report, result.rows
    assert report["model"] == "evo2-tiny" and report["n"] == 12 and report["scoring"]["failed"] == 0
    assert all(math.isfinite(r.delta) for r in rows)
    assert report["auroc"]["overall"] is not None
    # One delta by hand: the notebook's windows cut from the bundled hg19 slice, scored directly.
    _, hg19 = read_fasta(Path(service.__file__).parent / "data/genome/hg19_chr17_41190000-41285000.fa")
    snv = rows[0].snv
    p = snv.pos - 1 - (41_190_000 - 1)
    ref = hg19[p - window // 2 : p + window // 2]
    alt = ref[: window // 2] + snv.alt + ref[window // 2 + 1 :]
    ref_lp, alt_lp = scorer.log_probs([ref, alt])
    assert rows[0].delta == pytest.approx(float(alt_lp.mean() - ref_lp.mean()), abs=1e-6)


# --------------------------------------------------------------------------- what the report adds (issue 13)


def brute_average_precision(scores: Sequence[float], positives: Sequence[bool]) -> float:
    """Average precision: the sum over distinct thresholds (high to low) of precision × recall gained."""
    n_pos = sum(positives)
    total, recall_before = 0.0, 0.0
    for t in sorted(set(scores), reverse=True):
        called = [y for s, y in zip(scores, positives, strict=True) if s >= t]
        recall = sum(called) / n_pos
        total += (recall - recall_before) * sum(called) / len(called)
        recall_before = recall
    return total


def test_the_report_gives_auprc_medians_and_the_window_suffix_noise(kmer_scorer, findlay):
    result = asyncio.run(benchmark(kmer_scorer, BenchmarkOptions(n=120, subset="stratified"), snvs=findlay))
    report, rows = result.report, result.rows
    deltas = [r.delta for r in rows]
    lof = [r.snv.is_lof for r in rows]
    auprc = report["auprc"]["overall"]
    assert auprc["value"] == pytest.approx(brute_average_precision([-d for d in deltas], lof), abs=1e-12)
    assert auprc["baseline"] == pytest.approx(sum(lof) / len(lof))
    assert report["class_stats"]["lof"]["median"] == pytest.approx(
        float(np.median([d for d, y in zip(deltas, lof, strict=True) if y]))
    )
    noise = report["method_noise"]
    assert noise["n"] == 120
    assert all(r.window_delta == r.delta for r in rows)  # the run's method is the window mean
    gaps = [abs(r.window_delta - r.suffix_delta) for r in rows]  # type: ignore[operator]
    assert noise["max_abs_gap"] == max(gaps) < 1e-13  # the k-mer model is exact float64 and causal
    assert report["variant_kinds"] == ["snv"] and report["window_lengths"] == [8192]


def test_cadd_and_phylop_anchors_are_computed_from_the_findlay_table(findlay):
    rows = [ScoredSnv(s, 0.0, 0.0) for s in findlay]
    report = evaluate(rows)
    by_name = {item["name"]: item["auroc"]["value"] for item in report["table_predictors"]}
    lof = [s.is_lof for s in findlay]
    assert by_name["CADD v1.3"] == pytest.approx(brute_auroc([s.cadd for s in findlay], lof), abs=1e-12)
    assert by_name["phyloP (mammalian)"] == pytest.approx(
        brute_auroc([s.phylop for s in findlay], lof), abs=1e-12
    )
    # The figures published with the table's columns (Findlay et al. 2018, all 3,893 SNVs).
    assert (round(by_name["CADD v1.3"], 3), round(by_name["phyloP (mammalian)"], 3)) == (0.804, 0.781)


def test_the_printed_table_shows_the_anchors_beside_the_runs_own_numbers(tmp_path, kmer_scorer, capsys):
    cli = load_cli()
    argv = ["--model", "kmer", "--n", "80", "--subset", "stratified", "--out", str(tmp_path), "--no-progress"]
    report = cli.main(argv, scorer=kmer_scorer)
    printed = capsys.readouterr().out
    for anchor in ("evo2_1b_base", "0.730", "NVIDIA", "0.880", "CADD v1.3", "phyloP (mammalian)", "AUPRC"):
        assert anchor in printed, anchor
    assert "window vs suffix delta" in printed and "median" in printed
    assert f"{report['auroc']['overall']['value']:.3f} (overall; this run)" in printed


def test_a_deltas_file_of_the_previous_format_is_refused_by_name(tmp_path, kmer_scorer):
    deltas_path = tmp_path / "deltas.tsv"
    deltas_path.write_text("# brca1-benchmark deltas v1\n# {}\nvariant\n")
    with pytest.raises(InvalidRequest, match="older benchmark"):
        run_benchmark(kmer_scorer, BenchmarkOptions(n=5, deltas_path=deltas_path))
