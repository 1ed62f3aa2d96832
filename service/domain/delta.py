"""Variant → windows → model → delta → label: the service's one domain operation.

Variants are planned together: one genome fetch per cluster of nearby windows, each distinct window
scored once (three alternate alleles at one position share one reference window), then per-variant
deltas, each labelled by the model's calibration. A failing variant yields its error in place; the
others are still answered.

Windows go to the model as groups (a reference window with its alternates, ``PrefixGroup``), so a
scorer that can continues each alternate from its reference's prefix state; chunk by chunk
(``chunk_tokens`` bases at a time), and each window is reduced as soon as its chunk is scored to
what the deltas need (``PairSums``, six numbers per pair and strand): a request's memory is one
chunk's log-probs, whatever its size. Log-probs are kept as float32, sums taken in float64. With a
``ScoreCache`` the log-probs of reference windows are kept, so a later query at the same position
(another alt allele, another request) scores only its alternate window; with a ``PairCache`` an
alternate already scored is not scored again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from service.coords import Interval, Variant, check_genome
from service.domain.calibration import Calibration, Label
from service.domain.pairs import PairScorer, WindowPair
from service.domain.planner import cluster_spans
from service.domain.score_cache import PairCache, PairKey, PairSums, RefKey, ScoreCache, Strand
from service.domain.windows import VariantWindows, WindowPlan, build_windows, plan_window
from service.errors import LimitExceeded, ServiceError, UnknownChromosome
from service.genome.base import GenomeSource
from service.scoring.base import reverse_complement
from service.scoring.prefix import first_difference
from service.scoring.runner import ModelRunner

DeltaMethod = Literal["window", "suffix"]
#: The request defaults (the Evo 2 BRCA1 notebook's): whole-window means, forward strand only.
DEFAULT_DELTA_METHOD: DeltaMethod = "window"
DEFAULT_REVERSE_COMPLEMENT = False


@dataclass(frozen=True)
class DeltaOptions:
    genome: str
    window: int
    delta_method: DeltaMethod = DEFAULT_DELTA_METHOD
    reverse_complement: bool = DEFAULT_REVERSE_COMPLEMENT


@dataclass(frozen=True)
class WindowLimits:
    """Window lengths a request may ask for (even bp); ``default`` when it asks for none."""

    default: int
    min: int
    max: int

    def check(self, window: int | None) -> int:
        value = self.default if window is None else window
        if value % 2 or not self.min <= value <= self.max:
            raise LimitExceeded(
                f"window must be an even number of bp from {self.min} to {self.max}, got {value}",
                detail={"window": value, "min_window": self.min, "max_window": self.max},
            )
        return value


@dataclass(frozen=True)
class VariantScore:
    """A finished answer for one variant: its windows, both scores and the calibrated label."""

    windows: VariantWindows
    ref_score: float
    alt_score: float
    label: Label
    model: str
    options: DeltaOptions

    @property
    def variant(self) -> Variant:
        return self.windows.variant

    @property
    def delta(self) -> float:
        return self.alt_score - self.ref_score


#: One entry per variant asked for: its score, or the error that variant met.
Outcome = VariantScore | ServiceError


def reduce_pair(
    ref_lp: np.ndarray, alt_lp: np.ndarray, ref_seq: str, alt_seq: str, method: DeltaMethod
) -> tuple[float, float]:
    """Scores of the two windows from their per-position log-probs.

    ``window``: the mean over all positions (the Evo 2 notebook). ``suffix``: the sum over positions
    whose target is at or after the first base where the windows differ, divided by the same
    denominator (len - 1). Positions before it see identical input, so in exact arithmetic the two
    give the same delta; the suffix drops the round-off noise of the shared prefix.
    """
    return pair_sums(ref_lp, alt_lp, ref_seq, alt_seq).scores(method == "suffix")


def pair_sums(ref_lp: np.ndarray, alt_lp: np.ndarray, ref_seq: str, alt_seq: str) -> PairSums:
    """What the deltas need from a pair: sums over all positions and from the first difference − 1."""
    return PairSums.of(ref_lp, alt_lp, max(0, first_difference(ref_seq, alt_seq) - 1))


def strand_sequences(seq: str, reverse: bool) -> tuple[str, ...]:
    """``seq`` and, when ``reverse``, its reverse complement (the strands a score averages over)."""
    return (seq, reverse_complement(seq)) if reverse else (seq,)


class DeltaEngine:
    """Windows, scores, deltas and labels for variants; ``cache`` keeps reference-window log-probs,
    ``pair_cache`` what the deltas need of each scored pair; ``chunk_tokens`` bases are scored at once."""

    def __init__(
        self,
        genome: GenomeSource,
        runner: ModelRunner,
        calibration: Calibration,
        *,
        windows: WindowLimits,
        cluster_max_bp: int,
        chunk_tokens: int,
        cache: ScoreCache | None = None,
        pair_cache: PairCache | None = None,
    ) -> None:
        self.genome = genome
        self.runner = runner
        self.calibration = calibration
        self.window_limits = windows
        self.cluster_max_bp = cluster_max_bp
        self.cache = cache
        self.pair_cache = pair_cache
        self.pairs = PairScorer(runner, chunk_tokens=chunk_tokens, ref_cache=cache, pair_cache=pair_cache)

    @property
    def model(self) -> str:
        return self.runner.scorer.name

    def options(
        self,
        *,
        genome: str,
        window: int | None = None,
        delta_method: DeltaMethod = DEFAULT_DELTA_METHOD,
        reverse_complement: bool = DEFAULT_REVERSE_COMPLEMENT,
    ) -> DeltaOptions:
        """Checked options: a known genome and a window within the limits (the default when ``None``)."""
        return DeltaOptions(
            check_genome(genome), self.window_limits.check(window), delta_method, reverse_complement
        )

    async def chrom_length(self, genome: str, chrom: str) -> int:
        """Length of ``chrom`` in ``genome``; ``UnknownChromosome`` when the genome has none of that name."""
        return _length(await self.genome.chrom_sizes(genome), genome, chrom)

    async def fetch(self, genome: str, interval: Interval) -> str:
        return await self.genome.fetch(genome, interval)

    async def windows(
        self, variants: Sequence[Variant | ServiceError], options: DeltaOptions
    ) -> list[VariantWindows | ServiceError]:
        """Build (and check) both windows of every variant with one fetch per cluster."""
        sizes = await self.genome.chrom_sizes(options.genome)
        out: list[VariantWindows | ServiceError | None] = [None] * len(variants)
        plans: dict[int, tuple[Variant, WindowPlan]] = {}
        for i, variant in enumerate(variants):
            if isinstance(variant, ServiceError):
                out[i] = variant
                continue
            try:
                length = _length(sizes, options.genome, variant.chrom)
                plans[i] = (variant, plan_window(variant, options.window, length))
            except ServiceError as exc:
                out[i] = exc
        spans = [plans[i][1].span if i in plans else None for i in range(len(variants))]
        clusters = cluster_spans(spans, max_gap=options.window, max_length=self.cluster_max_bp)
        fetched = await asyncio.gather(
            *(self.genome.fetch(options.genome, c.interval) for c in clusters), return_exceptions=True
        )
        for cluster, bases in zip(clusters, fetched, strict=True):
            if isinstance(bases, BaseException) and not isinstance(bases, ServiceError):
                raise bases
            for index in cluster.members:
                out[index] = _cut(*plans[index], cluster.interval, bases)
        return [item if item is not None else ServiceError("no window was built") for item in out]

    async def score(self, variants: Sequence[Variant | ServiceError], options: DeltaOptions) -> list[Outcome]:
        """Scores of ``variants`` in order; a failing variant yields its error in place."""
        return await self.score_windows(await self.windows(variants, options), options)

    async def score_windows(
        self, built: Sequence[VariantWindows | ServiceError], options: DeltaOptions
    ) -> list[Outcome]:
        """Score built windows: each distinct window once, alternates from their reference's state where
        the scorer can, reference windows and scored pairs from the caches."""
        strands: tuple[Strand, ...] = ("+", "-") if options.reverse_complement else ("+",)
        pairs: list[WindowPair] = []
        for item in built:
            if isinstance(item, VariantWindows):
                refs = strand_sequences(item.ref_seq, options.reverse_complement)
                alts = strand_sequences(item.alt_seq, options.reverse_complement)
                for strand, ref_seq, alt_seq in zip(strands, refs, alts, strict=True):
                    key = RefKey(self.model, options.genome, item.ref_interval, strand)
                    pairs.append(WindowPair(ref_seq, alt_seq, key, PairKey(key, item.variant)))
        sums = iter(await self.pairs.sums(pairs))
        results: list[Outcome] = []
        for item in built:
            if isinstance(item, ServiceError):
                results.append(item)
                continue
            scored = [next(sums).scores(options.delta_method == "suffix") for _ in strands]
            ref_score = sum(p[0] for p in scored) / len(scored)
            alt_score = sum(p[1] for p in scored) / len(scored)
            label = self.calibration.label(
                alt_score - ref_score,
                window=options.window,
                delta_method=options.delta_method,
                reverse_complement=options.reverse_complement,
            )
            results.append(VariantScore(item, ref_score, alt_score, label, self.model, options))
        return results


def _length(sizes: Mapping[str, int], genome: str, chrom: str) -> int:
    if chrom not in sizes:
        raise UnknownChromosome(
            f"{chrom} is not a chromosome of {genome}", detail={"chrom": chrom, "genome": genome}
        )
    return sizes[chrom]


def _cut(
    variant: Variant, plan: WindowPlan, cluster: Interval, bases: str | ServiceError
) -> VariantWindows | ServiceError:
    """The variant's windows cut from its cluster's bases (or the error the fetch or the check met)."""
    if isinstance(bases, ServiceError):
        return bases
    offset = plan.span.start - cluster.start
    try:
        return build_windows(variant, plan, bases[offset : offset + len(plan.span)])
    except ServiceError as exc:
        return exc
