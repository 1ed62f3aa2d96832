"""The service's parts with ``Settings``'s defaults, for tests that build one part alone.

Constructors below the app factory take every option explicitly; these helpers fill in the ones a test
does not care about from ``Settings()`` (the one place defaults live), under the constructors' names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from service.compose import build_parts
from service.coords import GENOMES
from service.domain.calibration import load_calibration
from service.domain.delta import DeltaEngine
from service.domain.options import WindowLimits
from service.domain.score_cache import ScoreCache
from service.genome.base import GenomeSource
from service.genome.ucsc import UcscGenome
from service.scoring.base import Scorer
from service.scoring.batcher import MicroBatcher
from service.scoring.runner import ModelRunner
from service.settings import Settings

DEFAULTS = Settings()


def ucsc_genome(**options: Any) -> UcscGenome:
    s = DEFAULTS
    values: dict[str, Any] = {
        "base_url": s.ucsc_base_url,
        "genomes": GENOMES,
        "connect_timeout": s.ucsc_connect_timeout_s,
        "read_timeout": s.ucsc_read_timeout_s,
        "max_attempts": s.ucsc_max_attempts,
        "retry_budget_s": s.ucsc_retry_budget_s,
        "backoff_base_s": s.ucsc_backoff_base_s,
        "backoff_max_s": s.ucsc_backoff_max_s,
        "cache_bytes": s.region_cache_bytes,
        "breaker_failures": s.ucsc_breaker_failures,
        "breaker_reset_s": s.ucsc_breaker_reset_s,
        "tile_bp": 0,  # exact fetches: tests count bases and requests
        "max_concurrency": s.ucsc_max_concurrency,
        "requests_per_second": 0,  # no pacing: tests of the pacing ask for it
        "rate_burst": s.ucsc_rate_burst,
        "queue_timeout_s": s.ucsc_queue_timeout_s,
    }
    return UcscGenome(**{**values, **options})


def micro_batcher(score: Callable[[list[str]], list[np.ndarray]], **options: Any) -> MicroBatcher:
    s = DEFAULTS
    values: dict[str, Any] = {
        "wait_ms": s.merge_wait_ms,
        "max_tokens": s.max_merge_tokens,
        "timeout_s": s.model_timeout_s,
        "retry_after_s": s.queue_retry_after_s,
    }
    return MicroBatcher(score, **{**values, **options})


def model_runner(scorer: Scorer, **options: Any) -> ModelRunner:
    s = DEFAULTS
    values: dict[str, Any] = {
        "max_queue": s.max_queue,
        "timeout_s": s.model_timeout_s,
        "retry_after_s": s.queue_retry_after_s,
        "batch_wait_ms": s.merge_wait_ms,
        "batch_max_tokens": s.max_merge_tokens,
        "continuation": s.prefix_continuation,
        "trim_tokens": s.malloc_trim_tokens,
    }
    return ModelRunner(scorer, **{**values, **options})


def delta_engine(
    genome: GenomeSource,
    runner: ModelRunner,
    *,
    cache: ScoreCache | None = None,
    cluster_max_bp: int | None = None,
    max_window: int | None = None,
) -> DeltaEngine:
    """An engine with the runner's scorer's calibration and the default window limits."""
    s = DEFAULTS
    limits = WindowLimits(
        s.default_window, s.min_window, min(max_window or s.max_window, runner.scorer.max_length)
    )
    return DeltaEngine(
        genome,
        runner,
        load_calibration(runner.scorer.name, s.calibration_dir),
        windows=limits,
        cluster_max_bp=cluster_max_bp or s.cluster_max_bp,
        max_non_acgt_fraction=s.max_non_acgt_fraction,
        fetch_concurrency=s.cluster_fetch_concurrency,
        max_remote_fetches=s.ucsc_max_fetches_per_request,
        chunk_tokens=s.request_chunk_tokens,
        cache=cache,
    )


def engine_for(scorer: Scorer, genome: GenomeSource, **settings: Any) -> DeltaEngine:
    """The engine the app would build for ``scorer`` and ``genome`` under these settings."""
    return build_parts(Settings(**settings), scorer=scorer, genome=genome).engine
