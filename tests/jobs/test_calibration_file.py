"""Writing the calibration file: a rerun that measures the same figures leaves the tracked file alone."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from service.domain.calibration import load_calibration
from service.jobs.benchmark import BenchmarkOptions, run_benchmark
from service.jobs.benchmark.calibration_file import calibration_record, write_calibration
from tests.jobs.test_benchmark import load_cli

LONG_AGO_NS = 1_000_000_000 * 10**9  # 2001-09-09


@pytest.fixture(scope="module")
def report(kmer_scorer: Any) -> dict[str, Any]:
    return run_benchmark(kmer_scorer, BenchmarkOptions(n=60, subset="stratified"))


def age(path: Path) -> tuple[bytes, int]:
    """Backdate ``path``; its bytes and (backdated) mtime."""
    os.utime(path, ns=(LONG_AGO_NS, LONG_AGO_NS))
    return path.read_bytes(), path.stat().st_mtime_ns


def test_a_record_that_differs_only_in_date_and_command_is_not_written(tmp_path, report):
    first = calibration_record({**report, "date": "2026-01-01T00:00:00+00:00"}, command="python a.py")
    path, changed = write_calibration(first, tmp_path)
    assert changed
    before = age(path)
    again = calibration_record({**report, "date": "2026-02-02T00:00:00+00:00"}, command="python b.py")
    assert write_calibration(again, tmp_path) == (path, False)
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    assert load_calibration(report["model"], tmp_path).data["date"] == "2026-01-01T00:00:00+00:00"


def test_a_record_with_another_figure_is_written(tmp_path, report):
    path, _ = write_calibration(calibration_record(report, command="c"), tmp_path)
    _, mtime = age(path)
    moved = {**report, "threshold": {**report["threshold"], "value": report["threshold"]["value"] / 2}}
    assert write_calibration(calibration_record(moved, command="c"), tmp_path) == (path, True)
    assert path.stat().st_mtime_ns != mtime
    assert json.loads(path.read_text())["threshold"] == report["threshold"]["value"] / 2


def test_a_damaged_file_is_replaced(tmp_path, report):
    path = tmp_path / f"{report['model']}.json"
    path.write_text("{not json")
    assert write_calibration(calibration_record(report, command="c"), tmp_path) == (path, True)
    assert load_calibration(report["model"], tmp_path).threshold == report["threshold"]["value"]


def test_the_cli_run_twice_leaves_the_calibration_file_alone(tmp_path, kmer_scorer, capsys):
    cli = load_cli()
    calibration_dir = tmp_path / "calibration"
    argv = ["--model", "kmer", "--n", "60", "--subset", "stratified", "--out", str(tmp_path / "out")]
    argv += ["--write-calibration", "--calibration-dir", str(calibration_dir), "--no-progress"]
    cli.main(argv, scorer=kmer_scorer)
    before = age(calibration_dir / f"{kmer_scorer.name}.json")
    report = cli.main(argv, scorer=kmer_scorer)
    path = Path(report["calibration_file"])
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    assert "calibration unchanged" in capsys.readouterr().out
