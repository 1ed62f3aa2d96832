"""Vortex's Triton kernels for the Hyena convolutions: on by default only where they agree with the
plain path on this machine.

``use_kernels="auto"`` (the default) scores a short fixed sequence with the kernels off and on, at
load, and keeps them on only when the largest difference of the per-position log-probs is within
``bound``; ``True`` turns them on whatever the check says (it is still run and reported), ``False``
leaves them off. The kernels need Triton and a CUDA device: elsewhere the check says so and they stay
off. The switches are Vortex's own (``use_hcs_kernel``, ``use_hcm_kernel``, ``use_hcl_kernel`` on
each Hyena block's engine, as ``Evo2(..., use_kernels=True)`` sets them through the config).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from service.scoring.evo2 import module_available

KernelSetting = bool | Literal["auto"]
FLAGS = ("use_hcs_kernel", "use_hcm_kernel", "use_hcl_kernel")
#: Bases of the check's sequence (seeded, so every load checks the same one).
CHECK_BASES = 2048


@dataclass(frozen=True)
class KernelCheck:
    requested: str  #: "auto", "on" or "off"
    enabled: bool
    reason: str
    max_abs_diff: float | None = None
    bound: float | None = None

    def describe(self) -> dict[str, Any]:
        return {
            "requested": self.requested,
            "enabled": self.enabled,
            "reason": self.reason,
            "max_abs_log_prob_diff": self.max_abs_diff,
            "bound": self.bound,
            "check_bases": CHECK_BASES if self.max_abs_diff is not None else None,
        }


def _engines(model: Any) -> list[Any]:
    return [block.filter.engine for block in getattr(model, "blocks", []) if hasattr(block, "filter")]


def set_kernels(model: Any, on: bool) -> None:
    """Vortex's three kernel switches on every Hyena block."""
    for engine in _engines(model):
        for flag in FLAGS:
            setattr(engine, flag, on)


def unavailable(model: Any, device: str) -> str | None:
    """Why the kernels cannot run here (``None`` when they can)."""
    if not _engines(model):
        return "not a Vortex model with Hyena blocks"
    if not module_available("triton"):
        return "Triton is not installed"
    if not str(device).startswith("cuda"):
        return f"the Triton kernels need a CUDA device, the model is on {device}"
    from vortex.model import engine

    if engine.hcs_conv is None or engine.hcm_fft_conv is None or engine.hcl_fft_conv is None:
        return "Vortex's kernels failed to import"
    return None


def check_sequence() -> str:
    rng = np.random.default_rng(0)
    return rng.choice(np.frombuffer(b"ACGT", dtype=np.uint8), size=CHECK_BASES).tobytes().decode("ascii")


def decide(
    requested: KernelSetting,
    model: Any,
    device: str,
    log_probs: Callable[[], np.ndarray],
    bound: float,
) -> KernelCheck:
    """Run the check (``log_probs()`` scores the check's sequence under the current switches) and leave
    the switches as decided."""
    name = "auto" if requested == "auto" else ("on" if requested else "off")
    set_kernels(model, False)
    if requested is False:
        return KernelCheck(name, False, "off by setting")
    reason = unavailable(model, device)
    if reason is not None:
        return KernelCheck(name, False, reason)
    plain = log_probs()
    set_kernels(model, True)
    try:
        fast = log_probs()
    except Exception as exc:  # a kernel that does not run here
        set_kernels(model, False)
        return KernelCheck(name, False, f"the kernels failed: {exc}"[:300])
    diff = float(np.max(np.abs(fast - plain)))
    agrees = bool(np.isfinite(diff) and diff <= bound)
    enabled = agrees or requested is True
    set_kernels(model, enabled)
    verdict = "agree with the plain path" if agrees else "differ from the plain path beyond the bound"
    return KernelCheck(name, enabled, f"the kernels {verdict}", diff, bound)
