"""The calibration file model: the packaged files read as written, nothing unknown is accepted."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pydantic
import pytest

from service.domain.calibration import (
    CONTEXT_REASONS,
    LABEL_REASONS,
    LIKELY_PATHOGENIC,
    Calibration,
    CalibrationFile,
    DeltaScale,
    load_calibration,
)

DIRECTORY = Path(str(resources.files("service") / "data" / "calibration"))
PACKAGED = sorted(DIRECTORY.glob("*.json"))


def test_there_are_packaged_calibration_files():
    assert {p.stem for p in PACKAGED} >= {"kmer-8", "evo2_7b"}


@pytest.mark.parametrize("path", PACKAGED, ids=lambda p: p.stem)
def test_a_packaged_file_reads_back_to_the_same_json(path: Path):
    raw = json.loads(path.read_text())
    calibration = load_calibration(path.stem)
    assert calibration.data == raw
    # /info shows every field as written, but the distribution's thousands of deltas only as counts.
    shown = {"remeasured", "distribution"}
    assert {k: v for k, v in calibration.describe().items() if k in raw and k not in shown} == {
        k: v for k, v in raw.items() if k not in shown
    }
    if "distribution" in raw:
        summary = calibration.describe()["distribution"]
        assert summary["n_lof"] == len(raw["distribution"]["lof"])
        assert summary["n_func"] == len(raw["distribution"]["func"])


def test_a_file_with_an_unknown_or_mistyped_field_is_refused(tmp_path: Path):
    (tmp_path / "m.json").write_text(json.dumps({"model": "m", "treshold": -1e-3}))
    with pytest.raises(pydantic.ValidationError, match="treshold"):
        load_calibration("m", tmp_path)
    (tmp_path / "m.json").write_text(json.dumps({"model": "m", "threshold": "low"}))
    with pytest.raises(pydantic.ValidationError, match="threshold"):
        load_calibration("m", tmp_path)


def test_a_file_for_another_model_is_refused(tmp_path: Path):
    (tmp_path / "a.json").write_text(json.dumps({"model": "b"}))
    with pytest.raises(ValueError, match="calibration for 'b'"):
        load_calibration("a", tmp_path)


def test_no_file_gives_an_uncalibrated_record_with_a_note(tmp_path: Path):
    calibration = load_calibration("nothing", tmp_path)
    assert calibration.data == {"model": "nothing", "note": "no calibration file for this model"}
    assert calibration.threshold is None and not calibration.usable


def test_the_model_serialises_as_json_values():
    file = CalibrationFile.model_validate_json((DIRECTORY / "kmer-8.json").read_text())
    ci95 = file.as_json()["auroc"]["overall"]["ci95"]
    assert isinstance(ci95, list) and len(ci95) == 2


# --- labels only inside the calibration, context for every delta (issue 13) ----------------------------


def labelling(tmp_path: Path, **fields: object) -> Calibration:
    record = {
        "model": "m",
        "n": 3893,
        "n_lof": 823,
        "window": 8192,
        "variant_kinds": ["snv"],
        "window_lengths": [8192],
        "options": {"delta_method": "window", "reverse_complement": False},
        "threshold": -1e-3,
        "auroc": {"overall": {"value": 0.9, "ci95": [0.88, 0.92]}},
        "distribution": {"lof": [-3e-3, -2e-3, -1e-3, 0.0], "func": [-1e-3, 0.0, 1e-4, 2e-4, 3e-4, 4e-4]},
        **fields,
    }
    (tmp_path / "m.json").write_text(json.dumps(record))
    return load_calibration("m", tmp_path)


def test_every_reason_for_no_label_is_named(tmp_path: Path):
    c = labelling(tmp_path)
    inside = {"window": 8192, "delta_method": "window", "reverse_complement": False}
    assert c.label(-2e-3, DeltaScale(kind="snv", window_length=8192, **inside)).label == LIKELY_PATHOGENIC  # type: ignore[arg-type]
    cases = {
        "kind_outside_calibration": {"kind": "mnv", "window_length": 8192},
        "window_length_outside_calibration": {"kind": "snv", "window_length": 8191},
        "options_outside_calibration": {"kind": "snv", "window_length": 8192, "window": 4096},
        "window_has_n": {"kind": "snv", "window_length": 8192, "non_acgt": 1},
    }
    for reason, options in cases.items():
        label = c.label(-2e-3, DeltaScale(**{**inside, **options}))  # type: ignore[arg-type]
        assert (label.label, label.probability_lof, label.reason) == (None, None, reason)
    assert set(LABEL_REASONS) >= {label for label in cases}
    assert c.label(float("nan")).reason == "non_finite_delta"


def test_context_counts_the_benchmark_deltas_at_least_as_low(tmp_path: Path):
    c = labelling(tmp_path)
    context, reason = c.context(-1e-3, DeltaScale(window=8192, window_length=8192))
    assert reason is None and context is not None
    assert (context.lof_fraction, context.func_fraction) == (3 / 4, 1 / 6)  # ties count as at least as low
    assert context.percentile == pytest.approx(100 * 4 / 10)
    low, _ = c.context(-1.0)
    high, _ = c.context(1.0)
    assert low is not None and high is not None
    assert (low.percentile, high.percentile) == (0.0, 100.0)
    assert c.context(0.0, DeltaScale(window=1024)) == (None, "options_outside_calibration")
    assert c.context(0.0, DeltaScale(window_length=4000)) == (None, "window_length_outside_calibration")
    assert labelling(tmp_path, distribution=None).context(0.0) == (None, "no_distribution")


def test_a_distribution_out_of_order_is_refused(tmp_path: Path):
    with pytest.raises(pydantic.ValidationError, match="sorted"):
        labelling(tmp_path, distribution={"lof": [0.0, -1.0], "func": [0.0]})


def test_the_wire_names_every_reason():
    from typing import get_args

    from service.api.schemas import ContextReason, LabelReason

    assert set(get_args(LabelReason)) == set(LABEL_REASONS)
    assert set(get_args(ContextReason)) == set(CONTEXT_REASONS)
