"""Prefix-state continuation on and off, through the engine: model tokens and paired wall times.

Two workloads, both on the bundled genome (no network) and the service's own code path:

* ``brca1``: Findlay et al. 2018 BRCA1 SNVs (hg19, the notebook's windows), the first ``snvs`` rows;
* ``saturation``: every SNV of ``saturation_bp`` positions of BRCA1 ending at the table's first SNV.

``planned`` counts the tokens the Evo 2 scorer feeds its model without running one (``PlanningScorer``
follows the scorer's own plan, ``evo2_continue.planned_tokens``), so the whole 3,893-SNV table and a
512-bp saturation are counted in seconds. ``compare_on_off`` runs a real scorer with continuation on
and off in alternating order, ``rounds`` times, each run on fresh parts (no caches), and reports the
median and range of the paired wall-time ratios, the tokens per variant of both, and the largest
delta difference between them. Any ``Evo2Scorer`` will do: the tiny CPU model here, the 7B
architecture on a GPU (``bench/gpu_evo2_7b.py`` may call ``compare_on_off`` with its scorer).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from service.compose import build_parts
from service.coords import Interval, Variant, parse_variant
from service.domain.delta import DeltaEngine, VariantScore
from service.domain.options import DeltaOptions
from service.domain.saturation import saturate
from service.errors import ServiceError
from service.genome.bundled import BundledGenome
from service.genome.layered import LayeredGenome
from service.jobs.benchmark.findlay import GENOME, load_findlay
from service.scoring.base import Scorer, ScorerStats
from service.scoring.evo2_continue import planned_tokens
from service.scoring.prefix import GroupLogProbs, PrefixGroup
from service.settings import Settings

#: hg19 position of the Findlay table's first SNV: saturation regions end here.
SATURATION_END = 41276135


@dataclass(frozen=True)
class Workload:
    name: str  #: "brca1" or "saturation"
    variants: int  #: SNVs scored (a saturation position counts as 3)
    units: int  #: what "per" means: SNVs for brca1, positions for saturation
    window: int


def brca1_variants(count: int | None) -> list[Variant | ServiceError]:
    rows = load_findlay()
    return [parse_variant(s.notation, genome=GENOME) for s in rows[:count]]


def saturation_region(positions: int) -> Interval:
    return Interval("chr17", SATURATION_END - positions, SATURATION_END)


class PlanningScorer:
    """A scorer that runs no model: zero log-probs of the right lengths, tokens counted as the Evo 2
    scorer would feed them (continuation on: ``planned_tokens``; off: every window whole)."""

    def __init__(self, name: str = "planning", max_length: int = 1 << 20) -> None:
        self.name = name
        self.max_length = max_length
        self.stats = ScorerStats()

    def log_probs(self, seqs: Sequence[str]) -> list[np.ndarray]:
        self.stats.record(sequences=len(seqs), forward_passes=0, tokens=sum(map(len, seqs)), seconds=0.0)
        return [np.zeros(max(0, len(s) - 1)) for s in seqs]

    def log_probs_continued(self, groups: Sequence[PrefixGroup]) -> list[GroupLogProbs]:
        windows = sum(len(g.alts) + g.need_ref for g in groups)
        self.stats.record(sequences=windows, forward_passes=0, tokens=planned_tokens(groups), seconds=0.0)
        return [
            GroupLogProbs(np.zeros(len(g.ref) - 1), tuple(np.zeros(len(a) - 1) for a in g.alts))
            for g in groups
        ]

    def describe(self) -> dict[str, Any]:
        return {"model": self.name, "backend": "token plan (no model)"}


def _engine(scorer: Scorer, continuation: bool) -> DeltaEngine:
    """Fresh parts: the bundled genome, no caches, continuation on or off."""
    settings = Settings(
        genome_sources=["bundled"],
        prefix_continuation=continuation,
        ref_cache_bytes=0,
        pair_cache_bytes=0,
        merge_wait_ms=0,
    )
    return build_parts(settings, scorer=scorer, genome=LayeredGenome([BundledGenome()])).engine


async def _score(
    engine: DeltaEngine, workload: str, size: int | None, window: int
) -> tuple[list[float], int, int]:
    """Deltas, SNVs and units of one workload (``size``: SNVs, all when None; or positions)."""
    options = DeltaOptions(GENOME, window)
    if workload == "brca1":
        outcomes = await engine.score(brca1_variants(size), options)
        scored = [o for o in outcomes if isinstance(o, VariantScore)]
        return [o.delta for o in scored], len(scored), len(scored)
    positions = size or 1
    result = await saturate(engine, saturation_region(positions), options)
    deltas = [d for row in result.deltas for d in row if d is not None]
    return deltas, len(deltas), positions


def run_once(
    scorer: Scorer, workload: str, size: int | None, *, window: int, continuation: bool
) -> dict[str, Any]:
    """One run on fresh parts: wall time, model tokens and windows, deltas."""
    engine = _engine(scorer, continuation)
    before = scorer.stats.snapshot()
    started, cpu = time.perf_counter(), time.process_time()
    deltas, variants, units = asyncio.run(_score(engine, workload, size, window))
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    after = scorer.stats.snapshot()
    engine.runner.close()
    tokens = int(after["tokens"] - before["tokens"])
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "tokens": tokens,
        "windows": int(after["sequences"] - before["sequences"]),
        "continued": int(after.get("continued", 0) - before.get("continued", 0)),
        "variants": variants,
        "units": units,
        "window_equivalents_per_unit": tokens / window / units if units else None,
        "deltas": deltas,
    }


def planned(workload: str, size: int | None, *, window: int) -> dict[str, Any]:
    """Model tokens per SNV (brca1) or per position (saturation), continuation on and off, no model run."""
    out: dict[str, Any] = {"workload": workload, "window": window}
    for name, continuation in (("on", True), ("off", False)):
        run = run_once(PlanningScorer(), workload, size, window=window, continuation=continuation)
        run.pop("deltas")
        out[name] = run
    return out


def compare_on_off(
    scorer: Scorer,
    *,
    workloads: Sequence[tuple[str, int]] = (("brca1", 24), ("saturation", 8)),
    window: int = 8192,
    rounds: int = 5,
) -> dict[str, Any]:
    """Paired runs of each workload with continuation on and off, alternating which goes first.

    Returns per workload: each round's seconds, the median / min / max of off ÷ on (the speed-up; also
    of the process's CPU seconds, steadier than wall time on a shared machine),
    window-equivalents (model tokens ÷ window) per unit for both, and the largest |delta_on − delta_off|.
    """
    report: dict[str, Any] = {"model": scorer.name, "window": window, "rounds": rounds, "workloads": {}}
    for workload, size in workloads:
        pairs = []
        for r in range(rounds):
            order = (True, False) if r % 2 == 0 else (False, True)
            runs = {c: run_once(scorer, workload, size, window=window, continuation=c) for c in order}
            pairs.append((runs[True], runs[False]))
        ratios = [off["seconds"] / on["seconds"] for on, off in pairs]
        cpu_ratios = [off["cpu_seconds"] / on["cpu_seconds"] for on, off in pairs]
        on, off = pairs[0]
        report["workloads"][workload] = {
            "size": size,
            "units": on["units"],
            "variants": on["variants"],
            "seconds_on": [p[0]["seconds"] for p in pairs],
            "seconds_off": [p[1]["seconds"] for p in pairs],
            "speedup_median": statistics.median(ratios),
            "speedup_min": min(ratios),
            "speedup_max": max(ratios),
            "cpu_speedup_median": statistics.median(cpu_ratios),
            "cpu_speedup_min": min(cpu_ratios),
            "cpu_speedup_max": max(cpu_ratios),
            "tokens_on": on["tokens"],
            "tokens_off": off["tokens"],
            "window_equivalents_per_unit_on": on["window_equivalents_per_unit"],
            "window_equivalents_per_unit_off": off["window_equivalents_per_unit"],
            "max_abs_delta_difference": float(np.max(np.abs(np.subtract(on["deltas"], off["deltas"])))),
        }
    return report
