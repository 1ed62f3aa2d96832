"""The calibration file model: the packaged files read as written, nothing unknown is accepted."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pydantic
import pytest

from service.domain.calibration import CalibrationFile, load_calibration

DIRECTORY = Path(str(resources.files("service") / "data" / "calibration"))
PACKAGED = sorted(DIRECTORY.glob("*.json"))


def test_there_are_packaged_calibration_files():
    assert {p.stem for p in PACKAGED} >= {"kmer-8", "evo2_7b"}


@pytest.mark.parametrize("path", PACKAGED, ids=lambda p: p.stem)
def test_a_packaged_file_reads_back_to_the_same_json(path: Path):
    raw = json.loads(path.read_text())
    calibration = load_calibration(path.stem)
    assert calibration.data == raw
    assert {k: v for k, v in calibration.describe().items() if k in raw and k != "remeasured"} == {
        k: v for k, v in raw.items() if k != "remeasured"
    }


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
