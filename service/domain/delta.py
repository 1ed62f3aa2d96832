"""Variant → windows → model → delta: the service's one domain operation.

Variants are planned together: one genome fetch per cluster of nearby windows, each distinct window
scored once (three alternate alleles at one position share one reference window), then per-variant
deltas. A failing variant yields its error in place; the others are still answered. With a
``ScoreCache`` the per-position log-probs of reference windows are kept, so a later query at the same
position (another alt allele, another request) scores only its alternate window.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from service.coords import Variant
from service.domain.planner import cluster_spans
from service.domain.score_cache import RefKey, ScoreCache, Strand
from service.domain.windows import VariantWindows, WindowPlan, build_windows, plan_window
from service.errors import ServiceError, UnknownChromosome
from service.genome.base import GenomeSource
from service.scoring.base import reverse_complement
from service.scoring.runner import ModelRunner

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
    """Index of the first position where ``a`` and ``b`` (equal lengths) differ; ``len(a)`` if none."""
    if len(a) != len(b):
        raise ValueError(f"windows of different lengths: {len(a)} and {len(b)}")
    if a == b:
        return len(a)
    x = np.frombuffer(a.encode("latin-1"), dtype=np.uint8)
    y = np.frombuffer(b.encode("latin-1"), dtype=np.uint8)
    return int(np.argmax(x != y))


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
    """Windows, scores and deltas for variants; ``cache`` keeps reference-window log-probs."""

    def __init__(
        self,
        genome: GenomeSource,
        runner: ModelRunner,
        *,
        cluster_max_bp: int = 1_000_000,
        cache: ScoreCache | None = None,
    ):
        self.genome = genome
        self.runner = runner
        self.cluster_max_bp = cluster_max_bp
        self.cache = cache

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
        """Deltas of ``variants`` in order; a failing variant yields its error in place."""
        return await self.score_windows(await self.windows(variants, options), options)

    async def score_windows(
        self, built: Sequence[VariantWindows | ServiceError], options: DeltaOptions
    ) -> list[DeltaResult | ServiceError]:
        """Score built windows: each distinct sequence once, reference windows from the cache if there."""
        model = self.runner.scorer.name
        strands: tuple[Strand, ...] = ("+", "-") if options.reverse_complement else ("+",)
        known: dict[str, np.ndarray] = {}
        wanted: dict[str, RefKey | None] = {}  # sequences to score → cache key (reference windows)
        for item in built:
            if isinstance(item, ServiceError):
                continue
            for strand in strands:
                ref_seq = item.ref_seq if strand == "+" else reverse_complement(item.ref_seq)
                alt_seq = item.alt_seq if strand == "+" else reverse_complement(item.alt_seq)
                if ref_seq not in known and ref_seq not in wanted:
                    key = RefKey(model, options.genome, item.ref_interval, strand)
                    cached = self.cache.get(key) if self.cache is not None else None
                    if cached is not None and cached.size == max(0, len(ref_seq) - 1):
                        known[ref_seq] = cached
                    else:
                        wanted[ref_seq] = key
                if alt_seq not in known:
                    wanted.setdefault(alt_seq, None)
        seqs = list(wanted)
        for seq, log_probs in zip(seqs, await self.runner.log_probs(seqs), strict=True):
            known[seq] = log_probs
            ref_key = wanted[seq]
            if ref_key is not None and self.cache is not None:
                self.cache.put(ref_key, log_probs)
        results: list[DeltaResult | ServiceError] = []
        for item in built:
            if isinstance(item, ServiceError):
                results.append(item)
                continue
            ref_score, alt_score = reduce_pair(
                known[item.ref_seq], known[item.alt_seq], item.ref_seq, item.alt_seq, options.delta_method
            )
            if options.reverse_complement:
                ref_rc, alt_rc = reverse_complement(item.ref_seq), reverse_complement(item.alt_seq)
                rc_scores = reduce_pair(known[ref_rc], known[alt_rc], ref_rc, alt_rc, options.delta_method)
                ref_score, alt_score = (ref_score + rc_scores[0]) / 2, (alt_score + rc_scores[1]) / 2
            results.append(DeltaResult(item, ref_score, alt_score))
        return results
