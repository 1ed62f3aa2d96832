"""Variant → windows → model → delta → label: the service's one domain operation.

Variants are planned together: one genome fetch per cluster of nearby windows that one genome source
serves (a window inside a local source is read there whatever its neighbours need), at most
``fetch_concurrency`` fetches at a time and at most ``max_remote_fetches`` sent upstream per call (the
request's fetch budget); each distinct window is scored once (three alternate alleles at one position
share one reference window), then per-variant deltas, each labelled by the model's calibration. A
failing variant yields its error in place; the others are still answered. With a ``ScoreCache`` the
per-position log-probs of reference windows are kept, so a later query at the same position (another
alt allele, another request) scores only its alternate window. Every score names the
sequence its windows were read from (``source``), counts the N in them (windows with more than
``max_non_acgt_fraction`` are refused), and carries its label or why there is none, and its place
among the calibration's benchmark deltas (``context``).

Windows go to the model as groups (a reference window with its alternates, ``PrefixGroup``), so a
scorer that can continues each alternate from its reference's prefix state; chunk by chunk
(``chunk_tokens`` bases at a time), and each window is reduced as soon as its chunk is scored to
what the deltas need (``PairSums``, six numbers per pair and strand): a request's memory is one
chunk's log-probs, whatever its size. Log-probs are kept as float32, sums taken in float64. With a
``PairCache`` an alternate already scored is not scored again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from service.coords import Interval, Variant, check_genome, unknown_chromosome
from service.domain.calibration import Calibration, DeltaContext, DeltaScale, Label
from service.domain.hints import add_build_hints
from service.domain.options import (
    DEFAULT_DELTA_METHOD,
    DEFAULT_REVERSE_COMPLEMENT,
    DeltaMethod,
    DeltaOptions,
    WindowLimits,
)
from service.domain.pairs import PairScorer, WindowPair
from service.domain.planner import Cluster, cluster_spans
from service.domain.score_cache import PairCache, PairKey, PairSums, RefKey, ScoreCache, Strand
from service.domain.windows import VariantWindows, WindowPlan, build_windows, check_ambiguity, plan_window
from service.errors import ServiceError
from service.genome.base import GenomeSource, SourceIdentity
from service.genome.budget import fetch_budget
from service.scoring.base import reverse_complement
from service.scoring.prefix import first_difference
from service.scoring.runner import ModelRunner


@dataclass(frozen=True)
class VariantScore:
    """A finished answer for one variant: its windows, both scores and the calibrated label."""

    windows: VariantWindows
    ref_score: float
    alt_score: float
    label: Label
    model: str
    options: DeltaOptions
    #: Where the delta falls among the calibration's benchmark deltas; None with ``context_reason``.
    context: DeltaContext | None = None
    context_reason: str | None = None
    #: With ``DeltaOptions.both_methods``: the delta under each reduction (``window``, ``suffix``) of the
    #: same log-probs.
    method_deltas: Mapping[DeltaMethod, float] = field(default_factory=dict)

    @property
    def variant(self) -> Variant:
        return self.windows.variant

    @property
    def source(self) -> SourceIdentity | None:
        return self.windows.source

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
    start = max(0, first_difference(ref_seq, alt_seq) - 1)
    return PairSums.of(ref_lp, alt_lp, start).scores(method == "suffix")


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
        max_non_acgt_fraction: float,
        fetch_concurrency: int,
        max_remote_fetches: int,
        chunk_tokens: int,
        cache: ScoreCache | None = None,
        pair_cache: PairCache | None = None,
    ) -> None:
        self.genome = genome
        self.runner = runner
        self.calibration = calibration
        self.window_limits = windows
        self.cluster_max_bp = cluster_max_bp
        self.max_non_acgt_fraction = max_non_acgt_fraction
        self.fetch_concurrency = fetch_concurrency
        self.max_remote_fetches = max_remote_fetches
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
        with fetch_budget(self.max_remote_fetches):
            return await self.genome.fetch(genome, interval)

    async def windows(
        self, variants: Sequence[Variant | ServiceError], options: DeltaOptions
    ) -> list[VariantWindows | ServiceError]:
        """Build (and check) both windows of every variant with one fetch per cluster of one source."""
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
        clusters = self._plan_fetches(options.genome, spans, options.window)
        with fetch_budget(self.max_remote_fetches):
            fetched = await self._fetch_all(options.genome, clusters)
        for cluster, bases in zip(clusters, fetched, strict=True):
            if isinstance(bases, BaseException) and not isinstance(bases, ServiceError):
                raise bases
            for index in cluster.members:
                out[index] = _cut(*plans[index], cluster.interval, bases)
        await add_build_hints(self.genome, options.genome, out)
        return [item if item is not None else ServiceError("no window was built") for item in out]

    def _plan_fetches(self, genome: str, spans: Sequence[Interval | None], window: int) -> list[Cluster]:
        """Clusters of nearby spans that one source serves (two slices of one source: one fetch each)."""
        keys = [self.genome.source_name(genome, span) if span is not None else None for span in spans]
        planned: list[Cluster] = []
        for cluster in cluster_spans(spans, keys=keys, max_gap=window, max_length=self.cluster_max_bp):
            key = keys[cluster.members[0]]
            merged_elsewhere = key is not None and self.genome.source_name(genome, cluster.interval) != key
            if len(cluster.members) > 1 and merged_elsewhere:
                planned.extend(Cluster(span, [i]) for i in cluster.members if (span := spans[i]) is not None)
            else:
                planned.append(cluster)
        return planned

    async def _fetch_all(self, genome: str, clusters: Sequence[Cluster]) -> list[str | BaseException]:
        """The bases of every cluster (or its error), ``fetch_concurrency`` fetches at a time."""
        gate = asyncio.Semaphore(self.fetch_concurrency)

        async def one(interval: Interval) -> str:
            async with gate:
                return await self.genome.fetch(genome, interval)

        return await asyncio.gather(*(one(c.interval) for c in clusters), return_exceptions=True)

    async def score(self, variants: Sequence[Variant | ServiceError], options: DeltaOptions) -> list[Outcome]:
        """Scores of ``variants`` in order; a failing variant yields its error in place."""
        return await self.score_windows(await self.windows(variants, options), options)

    async def score_windows(
        self, built: Sequence[VariantWindows | ServiceError], options: DeltaOptions
    ) -> list[Outcome]:
        """Score built windows: each distinct window once, alternates from their reference's state where
        the scorer can, reference windows and scored pairs from the caches."""
        built = await self._prepare(built, options)
        strands: tuple[Strand, ...] = ("+", "-") if options.reverse_complement else ("+",)
        pairs: list[WindowPair] = []
        for item in built:
            if isinstance(item, VariantWindows):
                refs = strand_sequences(item.ref_seq, options.reverse_complement)
                alts = strand_sequences(item.alt_seq, options.reverse_complement)
                for strand, ref_seq, alt_seq in zip(strands, refs, alts, strict=True):
                    key = RefKey(
                        self.model, options.genome, item.ref_interval, strand, source=str(item.source)
                    )
                    pairs.append(WindowPair(ref_seq, alt_seq, key, PairKey(key, item.variant)))
        sums = iter(await self.pairs.sums(pairs))
        results: list[Outcome] = []
        for item in built:
            if isinstance(item, ServiceError):
                results.append(item)
                continue
            scored = [next(sums) for _ in strands]
            results.append(self._finish(item, scored, options))
        return results

    async def _prepare(
        self, built: Sequence[VariantWindows | ServiceError], options: DeltaOptions
    ) -> list[VariantWindows | ServiceError]:
        """Each window with the identity of the sequence it was read from; too many N → its error."""
        chroms = {w.ref_interval.chrom for w in built if isinstance(w, VariantWindows) and w.source is None}
        if chroms:
            await self.genome.chrom_sizes(options.genome)  # a layered genome works out its sources here
        sources = {chrom: self.genome.identity(options.genome, chrom) for chrom in chroms}
        out: list[VariantWindows | ServiceError] = []
        for item in built:
            if isinstance(item, VariantWindows):
                if item.source is None:
                    item = replace(item, source=sources[item.ref_interval.chrom])
                item = check_ambiguity(item, self.max_non_acgt_fraction) or item
            out.append(item)
        return out

    def _finish(self, item: VariantWindows, pairs: Sequence[PairSums], options: DeltaOptions) -> VariantScore:
        """The score with its label (or why none), its context and the delta under both reductions."""
        ref_score, alt_score = _mean_scores(pairs, options.delta_method == "suffix")
        delta = alt_score - ref_score
        scale = DeltaScale(
            window=options.window,
            delta_method=options.delta_method,
            reverse_complement=options.reverse_complement,
            window_length=len(item.ref_seq),
            kind=item.variant.kind,
            non_acgt=item.non_acgt_ref + item.non_acgt_alt,
        )
        label = self.calibration.label(delta, scale)
        context, reason = self.calibration.context(delta, scale)
        methods: dict[DeltaMethod, float] = {}
        if options.both_methods:
            for method in METHODS:
                ref, alt = _mean_scores(pairs, method == "suffix")
                methods[method] = alt - ref
        return VariantScore(item, ref_score, alt_score, label, self.model, options, context, reason, methods)


#: Both reductions of a pair's log-probs (``VariantScore.method_deltas``).
METHODS: tuple[DeltaMethod, ...] = ("window", "suffix")


def _mean_scores(pairs: Sequence[PairSums], suffix: bool) -> tuple[float, float]:
    """(ref, alt) scores averaged over the strands' pairs."""
    scored = [p.scores(suffix) for p in pairs]
    return sum(r for r, _ in scored) / len(scored), sum(a for _, a in scored) / len(scored)


def _length(sizes: Mapping[str, int], genome: str, chrom: str) -> int:
    if chrom not in sizes:
        raise unknown_chromosome(chrom, genome, sizes)
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
