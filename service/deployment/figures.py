"""GPU figures (seconds per window, forward-pass size, cold start) and what follows from them: bulk
chunk sizes, containers, wall time and cost.

The figures come from ``bench/results/gpu_evo2_7b-<GPU>.json`` when ``bench/gpu_evo2_7b.py`` has
measured that GPU type (``modal run modal_deploy.py::gpu_benchmark``), and are labelled ESTIMATE
otherwise. Plain data and arithmetic; the one file read is the results file, when it is there.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Where the GPU benchmark writes its results (one file per Modal GPU type).
RESULTS_DIR = Path(__file__).resolve().parents[2] / "bench" / "results"
RESULTS_PREFIX = "gpu_evo2_7b-"

#: ESTIMATE (to be replaced by bench/gpu_evo2_7b.py): GPU seconds per 8,192-bp window for evo2_7b on
#: an H100 (the FLOP floor is ~0.13 s).
ESTIMATED_SECONDS_PER_WINDOW = 0.3
#: ESTIMATE: the largest forward pass, 4 windows of 8,192 bp. Users report ~30 GB peak for four 6-7 kb
#: sequences beside ~15 GB of weights (CUDA out-of-memory still splits a batch rather than failing).
ESTIMATED_MAX_BATCH_TOKENS = 32_768
#: ESTIMATE: seconds for one cold GPU container (imports, reading ~14 GB from the volume, moving it to
#: the GPU, the warm-up forward pass), low and high.
ESTIMATED_COLD_START_S: tuple[float, float] = (30.0, 90.0)
#: Windows scored per SNV, an upper bound: a reference and an alternate window (alleles at one
#: position, and repeated reference windows, share one: the 3,893 BRCA1 SNVs need 1.34).
WINDOWS_PER_VARIANT = 2.0
#: The window the figures are for (the Evo 2 BRCA1 notebook's).
FIGURES_WINDOW = 8192


@dataclass(frozen=True)
class GpuFigures:
    gpu: str
    seconds_per_window: float
    max_batch_tokens: int
    cold_start_s: float
    #: The results file the figures were read from; ``None`` for the ESTIMATE defaults.
    source: Path | None = None

    @property
    def label(self) -> str:
        return f"measured ({self.source.name})" if self.source else "ESTIMATE"


def results_path(gpu: str, results_dir: Path = RESULTS_DIR) -> Path:
    base = gpu.partition(":")[0].rstrip("!").upper()
    return results_dir / f"{RESULTS_PREFIX}{base}.json"


def load_figures(gpu: str, results_dir: Path = RESULTS_DIR) -> GpuFigures:
    """The benchmark's figures for ``gpu`` when its results file exists, else the ESTIMATEs."""
    path = results_path(gpu, results_dir)
    if not path.is_file():
        return GpuFigures(
            gpu, ESTIMATED_SECONDS_PER_WINDOW, ESTIMATED_MAX_BATCH_TOKENS, ESTIMATED_COLD_START_S[1]
        )
    data: dict[str, Any] = json.loads(path.read_text())
    deployment = data["deployment"]
    return GpuFigures(
        gpu,
        seconds_per_window=float(deployment["seconds_per_window"]),
        max_batch_tokens=int(deployment["max_batch_tokens"]),
        cold_start_s=float(deployment["cold_start_s"]),
        source=path,
    )


# ------------------------------------------------------------------------------------------- bulk


@dataclass(frozen=True)
class BulkPlan:
    """How a bulk run is cut and what it should cost (GPU time only; CPU workers cost far less)."""

    rows: int
    chunk_rows: int
    chunks: int
    #: GPU containers (and as many CPU workers, one chunk each at a time).
    containers: int
    gpu_seconds: float
    wall_seconds: float
    cost_usd: float | None
    figures: GpuFigures


def chunk_rows_for(figures: GpuFigures, *, chunk_gpu_s: float, window: int = FIGURES_WINDOW) -> int:
    """Rows whose estimated GPU time fits ``chunk_gpu_s`` (cost per window scales with its length)."""
    per_row = WINDOWS_PER_VARIANT * figures.seconds_per_window * window / FIGURES_WINDOW
    return max(1, math.floor(chunk_gpu_s / per_row))


def plan_bulk(
    rows: int,
    figures: GpuFigures,
    *,
    containers: int,
    chunk_gpu_s: float,
    scaledown_window_s: float,
    usd_per_hour: float | None,
    gpus_per_container: int = 1,
    window: int = FIGURES_WINDOW,
) -> BulkPlan:
    """Chunks of at most ``chunk_gpu_s`` estimated GPU seconds, their number rounded up to a multiple of
    the containers so every container gets the same share; wall time = one cold start + the share;
    cost = every container's cold start, share and idle window before it stops."""
    largest = chunk_rows_for(figures, chunk_gpu_s=chunk_gpu_s, window=window)
    chunks = max(1, math.ceil(rows / largest))
    used = max(1, min(containers, chunks))
    chunks = math.ceil(chunks / used) * used
    chunk_rows = max(1, math.ceil(rows / chunks))
    chunks = max(1, math.ceil(rows / chunk_rows))
    per_row = WINDOWS_PER_VARIANT * figures.seconds_per_window * window / FIGURES_WINDOW
    gpu_seconds = rows * per_row
    share = math.ceil(chunks / used) * chunk_rows * per_row
    wall = figures.cold_start_s + share
    billed = used * (figures.cold_start_s + scaledown_window_s) + gpu_seconds
    cost = None if usd_per_hour is None else billed / 3600 * usd_per_hour * gpus_per_container
    return BulkPlan(rows, chunk_rows, chunks, used, gpu_seconds, wall, cost, figures)


def describe_plan(plan: BulkPlan, gpu: str) -> str:
    cost = "no price recorded for this GPU" if plan.cost_usd is None else f"≤ ${plan.cost_usd:.2f}"
    return (
        f"{plan.rows:,} rows in {plan.chunks} chunks of ≤ {plan.chunk_rows} on {plan.containers} × {gpu}: "
        f"{plan.gpu_seconds:,.0f} GPU-s, wall ≈ {plan.wall_seconds / 60:.1f} min, cost {cost} "
        f"[{plan.figures.label}: {plan.figures.seconds_per_window} s/window, "
        f"{WINDOWS_PER_VARIANT:g} windows/variant, cold start {plan.figures.cold_start_s:.0f} s]"
    )
