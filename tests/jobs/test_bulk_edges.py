"""The bulk output carries what a result needs to be weighed (issue 13): why there is no label, the N in
its windows, the sequence it was scored against and where its delta falls among the BRCA1 variants."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from clients.files import RunInfo
from service.coords import Variant
from service.domain.calibration import load_calibration
from service.domain.delta import DeltaEngine
from service.domain.options import DeltaOptions, WindowLimits
from service.genome.layered import LayeredGenome
from service.jobs import bulk
from service.scoring.kmer import KmerScorer
from service.settings import Settings
from tests.support.parts import model_runner
from tests.support.synthetic_genome import SyntheticGenome, random_bases

CHROM = random_bases(30_000, 17)


def engine(directory: Path) -> DeltaEngine:
    scorer = KmerScorer.load()
    s = Settings()
    return DeltaEngine(
        LayeredGenome([SyntheticGenome({"chrT": CHROM})]),
        model_runner(scorer),
        load_calibration(scorer.name, directory),
        windows=WindowLimits(s.default_window, s.min_window, s.max_window),
        cluster_max_bp=s.cluster_max_bp,
        max_non_acgt_fraction=s.max_non_acgt_fraction,
        fetch_concurrency=s.cluster_fetch_concurrency,
        max_remote_fetches=s.ucsc_max_fetches_per_request,
        chunk_tokens=s.request_chunk_tokens,
    )


@pytest.fixture
def calibration_dir(tmp_path: Path) -> Path:
    packaged = load_calibration("kmer-8").file.as_json()
    record = {
        **packaged,
        # A calibration that labels: the k-mer deltas all lie below this threshold.
        "threshold": 1.0,
        "auroc": {"overall": {"value": 0.9, "ci95": [0.88, 0.92], "n": 3893, "n_lof": 823}},
    }
    (tmp_path / "kmer-8.json").write_text(json.dumps(record))
    return tmp_path


def test_bulk_rows_give_label_reason_counts_source_and_context(calibration_dir: Path, tmp_path: Path) -> None:
    snv = Variant("chrT", 15_000, CHROM[14_999], "A" if CHROM[14_999] != "A" else "C")
    deletion = Variant("chrT", 16_000, CHROM[15_999:16_002], CHROM[15_999])
    source = tmp_path / "in.tsv"
    source.write_text("variant\n" + "".join(f"{v}\n" for v in (snv, deletion)))
    out = tmp_path / "out.tsv"
    job = bulk.BulkJob.open(source, out, DeltaOptions("hg38", 8192), RunInfo(model="kmer-8"))
    job.run(bulk.local_map_fn(engine(calibration_dir)), chunk_rows=10, max_span=10**6, progress=False)
    table = list(csv.DictReader(io.StringIO(out.read_text()), delimiter="\t"))
    first, second = table
    assert first["label"] == "likely_pathogenic" and first["label_reason"] == ""
    assert second["label"] == "" and second["label_reason"] == "kind_outside_calibration"
    for row in table:
        assert row["non_acgt_ref"] == "0" and row["non_acgt_alt"] == "0"
        assert row["source"] == "synthetic:hg38:v1"
        assert 0.0 <= float(row["delta_percentile"]) <= 100.0
        assert 0.0 <= float(row["lof_fraction"]) <= 1.0 and 0.0 <= float(row["func_fraction"]) <= 1.0
