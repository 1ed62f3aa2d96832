"""Variant → windows → model → delta: the service's one domain operation.

Variants are planned together: one genome fetch per cluster of nearby windows, each distinct window
scored once (three alternate alleles at one position share one reference window), then per-variant
deltas. A failing variant yields its error in place; the others are still answered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from service.coords import Variant
from service.errors import ServiceError, UnknownChromosome
from service.genome.base import GenomeSource
from service.planner import cluster_spans
from service.runner import ModelRunner
from service.scoring.base import reverse_complement
from service.windows import VariantWindows, WindowPlan, build_windows, plan_window

DeltaMethod = Literal["window", "suffix"]


@dataclass(frozen=True)
class DeltaOptions:
    genome: str
    window: int
    delta_method: DeltaMethod = "window"
    reverse_complement: bool = False


@dataclass(frozen=True)
class DeltaResult:
    windows: VariantWindows
    ref_score: float
    alt_score: float

    @property
    def delta(self) -> float:
        return self.alt_score - self.ref_score


def first_difference(a: str, b: str) -> int:
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        if x != y:
            return i
    return len(a)


def reduce_pair(
    ref_lp: np.ndarray, alt_lp: np.ndarray, ref_seq: str, alt_seq: str, method: DeltaMethod
) -> tuple[float, float]:
    """Scores of the two windows from their per-position log-probs.

    ``window``: the mean over all positions (the Evo 2 notebook). ``suffix``: the sum over positions
    whose target is at or after the first base where the windows differ, divided by the same
    denominator (len - 1). Positions before it see identical input, so in exact arithmetic the two
    give the same delta; the suffix drops the round-off noise of the shared prefix.
    """
    n = ref_lp.size
    if n == 0:
        return 0.0, 0.0
    if method == "window":
        return float(ref_lp.mean()), float(alt_lp.mean())
    start = max(0, first_difference(ref_seq, alt_seq) - 1)
    return float(ref_lp[start:].sum() / n), float(alt_lp[start:].sum() / n)


class DeltaEngine:
    def __init__(self, genome: GenomeSource, runner: ModelRunner, *, cluster_max_bp: int = 1_000_000):
        self.genome = genome
        self.runner = runner
        self.cluster_max_bp = cluster_max_bp

    async def windows(
        self, variants: Sequence[Variant | ServiceError], options: DeltaOptions
    ) -> list[VariantWindows | ServiceError]:
        """Build (and check) both windows of every variant with one fetch per cluster."""
        sizes = await self.genome.chrom_sizes(options.genome)
        items: list[VariantWindows | ServiceError | WindowPlan] = []
        for variant in variants:
            if isinstance(variant, ServiceError):
                items.append(variant)
                continue
            if variant.chrom not in sizes:
                items.append(
                    UnknownChromosome(
                        f"{variant.chrom} is not a chromosome of {options.genome}",
                        detail={"chrom": variant.chrom, "genome": options.genome},
                    )
                )
                continue
            try:
                items.append(plan_window(variant, options.window, sizes[variant.chrom]))
            except ServiceError as exc:
                items.append(exc)
        spans = [item.span if isinstance(item, WindowPlan) else None for item in items]
        clusters = cluster_spans(spans, max_gap=options.window, max_length=self.cluster_max_bp)
        fetched = await asyncio.gather(
            *(self.genome.fetch(options.genome, c.interval) for c in clusters), return_exceptions=True
        )
        for cluster, bases in zip(clusters, fetched, strict=True):
            for index in cluster.members:
                plan = items[index]
                assert isinstance(plan, WindowPlan)
                variant = variants[index]
                assert isinstance(variant, Variant)
                if isinstance(bases, ServiceError):
                    items[index] = bases
                    continue
                if isinstance(bases, BaseException):
                    raise bases
                offset = plan.span.start - cluster.interval.start
                try:
                    items[index] = build_windows(variant, plan, bases[offset : offset + len(plan.span)])
                except ServiceError as exc:
                    items[index] = exc
        out: list[VariantWindows | ServiceError] = []
        for item in items:
            assert not isinstance(item, WindowPlan)
            out.append(item)
        return out

    async def score(
        self, variants: Sequence[Variant | ServiceError], options: DeltaOptions
    ) -> list[DeltaResult | ServiceError]:
        built = await self.windows(variants, options)
        unique: dict[str, int] = {}
        for item in built:
            if isinstance(item, VariantWindows):
                for seq in (item.ref_seq, item.alt_seq):
                    unique.setdefault(seq, len(unique))
        seqs = list(unique)
        if options.reverse_complement:
            seqs += [reverse_complement(s) for s in seqs]
        log_probs = await self.runner.log_probs(seqs)
        count = len(unique)
        results: list[DeltaResult | ServiceError] = []
        for item in built:
            if isinstance(item, ServiceError):
                results.append(item)
                continue
            r, a = unique[item.ref_seq], unique[item.alt_seq]
            ref_score, alt_score = reduce_pair(
                log_probs[r], log_probs[a], item.ref_seq, item.alt_seq, options.delta_method
            )
            if options.reverse_complement:
                ref_rc, alt_rc = reduce_pair(
                    log_probs[count + r],
                    log_probs[count + a],
                    seqs[count + r],
                    seqs[count + a],
                    options.delta_method,
                )
                ref_score, alt_score = (ref_score + ref_rc) / 2, (alt_score + alt_rc) / 2
            results.append(DeltaResult(item, ref_score, alt_score))
        return results
