"""The k-mer baseline scorer, its packaged table and the script that rebuilds it."""

from __future__ import annotations

import importlib.util
import itertools
import json
import math
import random
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.errors import LimitExceeded, ModelUnavailable
from service.scoring.base import Scorer, mean_log_likelihood
from service.scoring.kmer import DISCLAIMER, KmerScorer, KmerTable, smoothed_log_probs

ROOT = Path(__file__).resolve().parents[2]
BRCA1_HG38 = ROOT / "service" / "data" / "genome" / "hg38_chr17_43040000-43130000.fa"
TRAINING = [
    ROOT / "tests" / "data" / "hg19_chr22_20000001-21000000.fa",
    ROOT / "tests" / "data" / "hg38_chr17_42425000-43600000.fa",
]
BRCA1_EXCLUSION = "chr17:42944295-43225483"  # BRCA1 (hg38 chr17:43,044,295-43,125,483) ± 100 kb
ACGT = "ACGT"
COMPLEMENT = str.maketrans("ACGTN", "TGCAN")


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("train_kmer", ROOT / "scripts" / "train_kmer.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the script executes
    spec.loader.exec_module(module)
    return module


train_kmer = load_script()


def read_sequence(path: Path) -> str:
    return "".join(line.strip() for line in path.read_text().splitlines()[1:])


def row(context: str) -> int:
    return sum(ACGT.index(b) * 4 ** (len(context) - 1 - i) for i, b in enumerate(context))


# --- slow, obviously-correct reference implementations -------------------------------------------


def reference_prob(counts: list[np.ndarray], alpha: float, context: str, base: str) -> float:
    """p(base | context) by the smoothing recursion, from the raw counts."""
    p = 0.25
    for j in range(len(context) + 1):
        n = counts[j][row(context[len(context) - j :])]
        p = (int(n[ACGT.index(base)]) + alpha * p) / (int(n.sum()) + alpha)
    return p


def reference_log_probs(seq: str, counts: list[np.ndarray], alpha: float) -> list[float]:
    order = len(counts) - 1
    out = []
    for i in range(len(seq) - 1):
        target = seq[i + 1].upper()
        if target not in ACGT:
            out.append(math.log(0.25))
            continue
        context = seq[max(0, i + 1 - order) : i + 1].upper()
        for k in range(len(context) - 1, -1, -1):
            if context[k] not in ACGT:
                context = context[k + 1 :]
                break
        out.append(math.log(reference_prob(counts, alpha, context, target)))
    return out


def random_table(order: int, alpha: float, seed: int) -> KmerTable:
    """Random counts with many zeros, so unseen contexts and unseen bases are exercised."""
    rng = np.random.default_rng(seed)
    counts = []
    for j in range(order + 1):
        c = rng.integers(0, 50, size=(4**j, 4))
        c[rng.random(c.shape) < 0.3] = 0
        c[rng.random(4**j) < 0.2] = 0  # whole unseen contexts
        counts.append(c)
    return KmerTable.from_counts(counts, {"order": order, "smoothing": {"alpha": alpha}})


@pytest.fixture(scope="module")
def packaged() -> KmerScorer:
    return KmerScorer.load()


SMALL = KmerScorer(random_table(order=3, alpha=2.5, seed=7))
dna = st.text(alphabet="ACGTNacgtnRX", max_size=40)


# --- the model ------------------------------------------------------------------------------------


def test_every_context_of_the_packaged_table_sums_to_one(packaged: KmerScorer) -> None:
    for j, logs in enumerate(smoothed_log_probs(packaged.table.counts, packaged.table.alpha)):
        assert logs.shape == (4**j, 4)
        np.testing.assert_allclose(np.exp(logs).sum(axis=1), 1.0, rtol=0, atol=1e-12)


@pytest.mark.parametrize("scorer", [SMALL, None], ids=["random-table", "packaged"])
def test_next_base_probabilities_sum_to_one_for_random_contexts(
    scorer: KmerScorer | None, packaged: KmerScorer
) -> None:
    scorer = scorer or packaged
    rng = random.Random(1)
    for _ in range(200):
        context = "".join(rng.choice("ACGTACGTACGTNacgt") for _ in range(rng.randint(1, 12)))
        last = [scorer.log_probs([context + b])[0][-1] for b in ACGT]
        assert math.fsum(math.exp(v) for v in last) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("seq", ["", "A", "N", "AC", "NA", "AN", "an", "ACGTNNACGTAC", "acgtRYacgt"])
def test_log_probs_matches_reference_on_short_and_special_sequences(seq: str, packaged: KmerScorer) -> None:
    for scorer in (SMALL, packaged):
        (got,) = scorer.log_probs([seq])
        assert got.dtype == np.float64
        assert got.shape == (max(len(seq) - 1, 0),)
        t = scorer.table
        np.testing.assert_allclose(got, reference_log_probs(seq, list(t.counts), t.alpha), rtol=1e-12)


@settings(max_examples=150, deadline=None)
@given(seqs=st.lists(dna, max_size=4))
def test_log_probs_matches_reference_on_random_sequences(seqs: list[str]) -> None:
    t = SMALL.table
    got = SMALL.log_probs(seqs)
    assert len(got) == len(seqs)
    for seq, lp in zip(seqs, got, strict=True):
        assert lp.shape == (max(len(seq) - 1, 0),)
        np.testing.assert_allclose(lp, reference_log_probs(seq, list(t.counts), t.alpha), rtol=1e-12)


def test_packaged_order_matches_reference_on_random_sequences(packaged: KmerScorer) -> None:
    rng = random.Random(3)
    t = packaged.table
    seqs = ["".join(rng.choice("ACGTACGTACGTNacgt") for _ in range(rng.randint(0, 60))) for _ in range(40)]
    for seq, lp in zip(seqs, packaged.log_probs(seqs), strict=True):
        np.testing.assert_allclose(lp, reference_log_probs(seq, list(t.counts), t.alpha), rtol=1e-12)


def test_lower_case_scores_like_upper_case(packaged: KmerScorer) -> None:
    seq = read_sequence(BRCA1_HG38)[:500]
    upper, lower = packaged.log_probs([seq, seq.lower()])
    np.testing.assert_array_equal(upper, lower)


def test_result_for_a_sequence_does_not_depend_on_the_batch(packaged: KmerScorer) -> None:
    # Enough bases that the batch is scored in several internal chunks.
    genome = read_sequence(BRCA1_HG38)
    rng = random.Random(5)
    seqs = []
    for _ in range(40):
        start = rng.randrange(0, len(genome) - 9000)
        seqs.append(genome[start : start + rng.choice([0, 1, 2, 8192, 5000])])
    batch = packaged.log_probs(seqs)
    for seq, lp in zip(seqs, batch, strict=True):
        np.testing.assert_array_equal(lp, packaged.log_probs([seq])[0])
        assert lp.shape == (max(len(seq) - 1, 0),)


def test_only_the_last_k_bases_matter(packaged: KmerScorer) -> None:
    k = packaged.order
    a = "ACGTTGCA" * 3 + "GATTACA"
    b = "TTTTTTTT" * 3 + a[-k:]
    for base in ACGT:
        assert packaged.log_probs([a + base])[0][-1] == packaged.log_probs([b + base])[0][-1]


# --- the scorer interface -------------------------------------------------------------------------


def test_packaged_scorer_implements_the_protocol(packaged: KmerScorer) -> None:
    assert isinstance(packaged, Scorer)
    assert 6 <= packaged.order <= 8
    assert packaged.name == f"kmer-{packaged.order}"
    assert packaged.max_length >= 1_000_000
    info = packaged.describe()
    assert DISCLAIMER == "a development baseline, not a pathogenicity predictor"
    assert DISCLAIMER in json.dumps(info)
    assert info["order"] == packaged.order
    assert info["model"] == packaged.name
    assert {Path(p).name for p in TRAINING} <= set(info["training"]["files"])
    json.dumps(info)  # /info serialises it


def test_stats_count_one_forward_pass_per_call() -> None:
    scorer = KmerScorer(SMALL.table)
    scorer.log_probs(["ACGT", "AC", ""])
    scorer.log_probs(["ACGTACGT"])
    snap = scorer.stats.snapshot()
    assert (snap["sequences"], snap["forward_passes"], snap["tokens"]) == (4, 2, 14)
    assert snap["seconds"] >= 0


def test_sequences_over_max_length_are_refused() -> None:
    scorer = KmerScorer(SMALL.table)
    scorer.max_length = 10
    assert scorer.log_probs(["A" * 10])[0].shape == (9,)
    with pytest.raises(LimitExceeded):
        scorer.log_probs(["ACGT", "A" * 11])
    assert scorer.stats.snapshot()["sequences"] == 1


def test_load_is_cached_per_path_with_separate_stats(tmp_path: Path) -> None:
    a, b = KmerScorer.load(), KmerScorer.load()
    assert a.table is b.table
    assert a.stats is not b.stats
    out = tmp_path / "t.npz"
    fasta = tmp_path / "x.fa"
    fasta.write_text(">x\nACGTTGCAACGGT\n")
    train_kmer.main(["--fasta", str(fasta), "--order", "2", "--out", str(out)])
    c, d = KmerScorer.load(out), KmerScorer.load(str(out))
    assert c.table is d.table
    assert c.name == "kmer-2"


def test_missing_or_malformed_table_is_model_unavailable(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable):
        KmerScorer.load(tmp_path / "absent.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip file")
    with pytest.raises(ModelUnavailable):
        KmerScorer.load(bad)


def test_packaged_table_beats_uniform_on_held_out_brca1(packaged: KmerScorer) -> None:
    seq = read_sequence(BRCA1_HG38)
    assert len(seq) == 90_001
    per_base = mean_log_likelihood(packaged.log_probs([seq])[0])
    assert per_base > math.log(0.25) + 0.1
    (recorded,) = packaged.table.metadata["heldout"]
    assert recorded["name"] == BRCA1_HG38.name
    assert recorded["log_likelihood_per_base"] == pytest.approx(per_base, abs=1e-6)


# --- the training script --------------------------------------------------------------------------


def reference_counts(segments: list[str], order: int) -> list[Counter[str]]:
    """(j+1)-mer counts over the segments and their reverse complements."""
    counts: list[Counter[str]] = [Counter() for _ in range(order + 1)]
    for seg in segments + [s.translate(COMPLEMENT)[::-1] for s in segments]:
        for t in range(len(seg)):
            for j in range(min(order, t) + 1):
                counts[j][seg[t - j : t + 1]] += 1
    return counts


def assert_counts_equal(table: KmerTable, expected: list[Counter[str]]) -> None:
    for j, counts in enumerate(table.counts):
        assert counts.shape == (4**j, 4)
        for kmer in map("".join, itertools.product(ACGT, repeat=j + 1)):
            assert counts[row(kmer[:-1]), ACGT.index(kmer[-1])] == expected[j][kmer], kmer
        assert int(counts.sum()) == sum(expected[j].values())


def test_training_script_counts_match_an_independent_count(tmp_path: Path) -> None:
    rng = random.Random(11)
    genome = "".join(rng.choice(ACGT) for _ in range(300))
    # chr1:101-260 (1-based inclusive) with lower case and an N run; a second file with two records.
    rec1 = genome[:60].lower() + "NNNNN" + genome[65:160]
    (tmp_path / "a.fa").write_text(
        ">chr1:101-260 test\n" + "\n".join(rec1[i : i + 60] for i in range(0, 160, 60))
    )
    (tmp_path / "b.fa").write_text(f">2:1-50\n{genome[160:210]}\n>plain\n{genome[210:300]}\n")
    out1, out2 = tmp_path / "t1.npz", tmp_path / "t2.npz"
    # 1-based inclusive: chr1:121-130 is rec1[20:30]; 2:46-60 overlaps the end of the second file's record.
    args = ["--fasta", str(tmp_path / "a.fa"), "--fasta", str(tmp_path / "b.fa"), "--order", "3"]
    args += ["--exclude", "1:121-130", "--exclude", "chr2:46-60"]
    assert train_kmer.main([*args, "--out", str(out1)]) == 0
    assert train_kmer.main([*args, "--alpha", "64", "--out", str(out2)]) == 0
    assert out1.read_bytes() == out2.read_bytes()  # deterministic: no timestamps

    r1 = rec1.upper()
    segments = [r1[:20], r1[30:60], r1[65:], genome[160:205], genome[210:300]]
    table = KmerScorer.load(out1).table
    assert_counts_equal(table, reference_counts(segments, 3))
    meta = table.metadata
    assert meta["order"] == 3
    assert meta["strands"] == "both"
    assert meta["excluded"] == ["1:121-130", "chr2:46-60"]
    assert meta["training_positions"] == 2 * sum(map(len, segments))
    assert [f["name"] for f in meta["training_files"]] == ["a.fa", "b.fa"]
    assert meta["training_files"][0]["records"][0]["excluded_bases"] == 10


def test_region_must_match_the_sequence_length(tmp_path: Path) -> None:
    (tmp_path / "a.fa").write_text(">chr1:101-200\nACGT\n")
    with pytest.raises(ValueError, match="spans 100 bp"):
        train_kmer.main(["--fasta", str(tmp_path / "a.fa"), "--out", str(tmp_path / "t.npz")])


def test_packaged_table_metadata_names_its_training_data(packaged: KmerScorer) -> None:
    meta = packaged.table.metadata
    files = {f["name"]: f["sha256"] for f in meta["training_files"]}
    assert files == {p.name: train_kmer.sha256(p) for p in TRAINING}
    assert meta["excluded"] == [BRCA1_EXCLUSION]
    assert meta["order"] == packaged.order
    assert meta["training_positions"] == int(packaged.table.counts[0].sum())


def test_training_script_rebuilds_the_packaged_table(tmp_path: Path, packaged: KmerScorer) -> None:
    out = tmp_path / "table.npz"
    args = [f"--fasta={p}" for p in TRAINING]
    args += ["--exclude", BRCA1_EXCLUSION, "--order", str(packaged.order), "--heldout", str(BRCA1_HG38)]
    train_kmer.main([*args, "--alpha", str(packaged.table.alpha), "--out", str(out)])
    rebuilt = KmerScorer.load(out).table
    assert rebuilt.metadata == packaged.table.metadata
    for mine, theirs in zip(rebuilt.counts, packaged.table.counts, strict=True):
        np.testing.assert_array_equal(mine, theirs)
