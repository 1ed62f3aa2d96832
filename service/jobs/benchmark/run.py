"""The driver: score the selected SNVs through the service's ``DeltaEngine`` and evaluate them.

``run_benchmark`` is the one call the CLI (``bench/brca1.py``) and the Modal entrypoint use; ``tqdm``
is imported when a progress bar is asked for.
"""

from __future__ import annotations

import asyncio
import datetime
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from service.compose import build_parts
from service.coords import parse_variant
from service.domain.delta import DeltaEngine, VariantScore
from service.domain.options import DeltaOptions
from service.errors import ServiceError
from service.genome.base import GenomeSource
from service.jobs.benchmark.checkpoint import DeltaRow, append_rows, deltas_header, open_deltas, read_deltas
from service.jobs.benchmark.evaluation import evaluate
from service.jobs.benchmark.findlay import DATASET, GENOME, FindlaySnv, ScoredSnv, load_findlay
from service.jobs.benchmark.options import BenchmarkOptions
from service.jobs.benchmark.selection import select_snvs
from service.scoring.base import Scorer
from service.settings import Settings

Progress = bool | Callable[[int, int], None]


def _progress_callback(progress: Progress, total: int, done: int) -> tuple[Callable[[int], None], Any]:
    if callable(progress):
        state = {"done": done}

        def report(k: int) -> None:
            state["done"] += k
            progress(state["done"], total)

        return report, None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=total, initial=done, unit="SNV", desc="BRCA1", dynamic_ncols=True)
        return bar.update, bar
    return lambda k: None, None


def _batches(items: Sequence[FindlaySnv], size: int) -> Iterable[Sequence[FindlaySnv]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def score_snvs(
    scorer: Scorer,
    snvs: Sequence[FindlaySnv],
    options: BenchmarkOptions,
    *,
    genome: GenomeSource | None = None,
    progress: Progress = False,
) -> tuple[list[ScoredSnv], dict[str, Any]]:
    """Deltas of ``snvs`` (in their order) through ``DeltaEngine``, resuming from ``options.deltas_path``.

    Returns the rows and counters (scored now, reused from the file, failed with their errors).
    """
    if options.batch_size < 1:
        raise ValueError("batch_size must be positive")
    if genome is None:
        from service.genome.bundled import BundledGenome

        genome = BundledGenome()
    header = deltas_header(scorer.name, options.delta_options())
    path = options.deltas_path
    known = read_deltas(path, header) if path is not None else {}
    todo = [s for s in snvs if s.notation not in known]
    # One model call may take long on a CPU; the service's other defaults apply.
    settings = Settings(genome_sources=["bundled"], model_timeout_s=24 * 3600.0)
    engine = build_parts(settings, scorer=scorer, genome=genome).engine
    delta_options = options.delta_options()
    errors: dict[str, dict[str, Any]] = {}
    advance, bar = _progress_callback(progress, len(snvs), len(snvs) - len(todo))
    handle = open_deltas(path, header) if path is not None and todo else None
    started = time.perf_counter()
    try:
        for batch in _batches(todo, options.batch_size):
            scored = await _score_batch(engine, batch, delta_options, errors)
            known.update((r.snv.notation, _row(r)) for r in scored)
            if handle is not None:
                append_rows(handle, scored)
            advance(len(batch))
    finally:
        if handle is not None:
            handle.close()
        if bar is not None:
            bar.close()
    rows = [ScoredSnv(s, *known[s.notation]) for s in snvs if s.notation in known]
    counters = {
        "scored_now": len(todo) - len(errors),
        "reused": len(snvs) - len(todo),
        "failed": len(errors),
        "errors": dict(list(errors.items())[:20]),
        "seconds": time.perf_counter() - started,
    }
    return rows, counters


async def _score_batch(
    engine: DeltaEngine,
    batch: Sequence[FindlaySnv],
    options: DeltaOptions,
    errors: dict[str, dict[str, Any]],
) -> list[ScoredSnv]:
    """The scored rows of one batch; a variant that fails goes to ``errors`` with its error."""
    outcomes = await engine.score([parse_variant(s.notation) for s in batch], options)
    scored = []
    for snv, outcome in zip(batch, outcomes, strict=True):
        if isinstance(outcome, ServiceError):
            errors[snv.notation] = outcome.to_dict()
            continue
        assert isinstance(outcome, VariantScore)
        methods = outcome.method_deltas
        length = len(outcome.windows.ref_seq)
        scored.append(
            ScoredSnv(snv, outcome.ref_score, outcome.alt_score, length, methods["window"], methods["suffix"])
        )
    return scored


def _row(r: ScoredSnv) -> DeltaRow:
    assert r.window_length is not None and r.window_delta is not None and r.suffix_delta is not None
    return DeltaRow(r.ref_score, r.alt_score, r.window_length, r.window_delta, r.suffix_delta)


@dataclass
class BenchmarkResult:
    report: dict[str, Any]
    rows: list[ScoredSnv] = field(default_factory=list)


async def benchmark(
    scorer: Scorer,
    options: BenchmarkOptions,
    *,
    genome: GenomeSource | None = None,
    progress: Progress = False,
    snvs: Sequence[FindlaySnv] | None = None,
) -> BenchmarkResult:
    """Score the selected SNVs and evaluate them: the report and the scored rows (for plots)."""
    table = list(snvs) if snvs is not None else load_findlay()
    chosen = select_snvs(table, options.n, options.subset, options.seed)
    stats_before = scorer.stats.snapshot()
    rows, counters = await score_snvs(scorer, chosen, options, genome=genome, progress=progress)
    stats_after = scorer.stats.snapshot()
    report: dict[str, Any] = {
        "model": scorer.name,
        "dataset": DATASET,
        "genome": GENOME,
        "table_rows": len(table),
        "selected": len(chosen),
        "options": options.describe(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "scoring": {
            **counters,
            "windows_scored": int(stats_after["sequences"] - stats_before["sequences"]),
            "model_seconds": stats_after["seconds"] - stats_before["seconds"],
        },
        **evaluate(rows, folds=options.folds, seed=options.seed),
    }
    return BenchmarkResult(report, rows)


def run_benchmark(
    scorer: Scorer,
    options: BenchmarkOptions | None = None,
    *,
    progress: Progress = False,
    genome: GenomeSource | None = None,
) -> dict[str, Any]:
    """Synchronous entry point (CLI, Modal): the report dict of ``benchmark`` (JSON-serialisable).

    Must not be called from a running event loop; ``await benchmark(...)`` there instead.
    """
    result = asyncio.run(benchmark(scorer, options or BenchmarkOptions(), genome=genome, progress=progress))
    return result.report
