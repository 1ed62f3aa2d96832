"""The layering of ARCHITECTURE.md holds: imports run one way (import-linter contracts, pyproject.toml)."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[1]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


def test_imports_run_the_way_the_layers_say(capsys: pytest.CaptureFixture[str]) -> None:
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        code = lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True)
    finally:
        os.chdir(cwd)
    report = capsys.readouterr().out
    assert code == 0, report
    assert "0 broken" in report


def test_every_room_of_service_is_in_a_layer() -> None:
    """A new package or module under service/ must be placed in the layers, or nothing checks it."""
    [layers] = [c for c in CONFIG["contracts"] if c["type"] == "layers"]
    named = {name.strip() for layer in layers["layers"] for name in layer.split("|")}
    rooms = {
        f"service.{p.stem}"
        for p in (ROOT / "service").iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").is_file()
    }
    assert rooms == named
