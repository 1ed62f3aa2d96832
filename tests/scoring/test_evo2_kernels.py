"""Vortex's Triton kernels: on by default only where a check against the plain path passes at load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from service.scoring.evo2 import Evo2Scorer
from service.scoring.evo2_kernels import FLAGS, decide, set_kernels
from tests.support.evo2_cpu import build_tiny_model, save_tiny_checkpoint, tiny_loader_config


class Switchable:
    """Log-probs that drift by ``drift`` when the kernels are on (read from the model's own switches)."""

    def __init__(self, model: object, drift: float) -> None:
        self.model, self.drift = model, drift

    def __call__(self) -> np.ndarray:
        return np.full(10, -1.4) + (self.drift if engines_on(self.model) else 0.0)


@pytest.fixture
def model(monkeypatch: pytest.MonkeyPatch) -> object:
    import copy

    import service.scoring.evo2_kernels as kernels

    monkeypatch.setattr(kernels, "unavailable", lambda model, device: None)  # pretend: Triton on a GPU
    return copy.deepcopy(build_tiny_model())


def engines_on(model: object) -> bool:
    return all(getattr(b.filter.engine, f) for b in model.blocks if hasattr(b, "filter") for f in FLAGS)


def test_auto_keeps_kernels_that_agree_and_drops_ones_that_do_not(model):
    check = decide("auto", model, "cuda:0", Switchable(model, 0.01), bound=0.05)
    assert check.enabled and engines_on(model)
    assert check.max_abs_diff == pytest.approx(0.01) and check.bound == 0.05
    check = decide("auto", model, "cuda:0", Switchable(model, 0.2), bound=0.05)
    assert not check.enabled and not engines_on(model)
    assert "beyond the bound" in check.reason and check.max_abs_diff == pytest.approx(0.2)


def test_true_forces_them_on_and_false_leaves_them_off_unchecked(model):
    forced = decide(True, model, "cuda:0", Switchable(model, 0.2), bound=0.05)
    assert forced.enabled and engines_on(model) and forced.max_abs_diff == pytest.approx(0.2)
    off = decide(False, model, "cuda:0", Switchable(model, 0.0), bound=0.05)
    assert not off.enabled and not engines_on(model) and off.max_abs_diff is None


def test_a_kernel_that_fails_is_left_off(model):
    def failing() -> np.ndarray:
        if engines_on(model):
            raise RuntimeError("triton: no kernel for this GPU")
        return np.zeros(4)

    check = decide("auto", model, "cuda:0", failing, bound=0.05)
    assert not check.enabled and "no kernel" in check.reason and not engines_on(model)


def test_set_kernels_flips_vortexs_own_switches():
    import copy

    model = copy.deepcopy(build_tiny_model())
    set_kernels(model, True)
    assert engines_on(model)
    set_kernels(model, False)
    assert not any(getattr(b.filter.engine, f) for b in model.blocks if hasattr(b, "filter") for f in FLAGS)


def test_on_a_cpu_auto_reports_why_the_kernels_are_off(tmp_path: Path):
    path = save_tiny_checkpoint(tmp_path / "tiny.pt")
    with tiny_loader_config() as name:
        scorer = Evo2Scorer.load(name, local_path=path, device="cpu")
    info = scorer.describe()
    assert info["use_kernels"] is False
    check = info["kernel_check"]
    assert check["requested"] == "auto" and check["enabled"] is False
    assert "Triton" in check["reason"] or "CUDA" in check["reason"]
