"""The original project's per-variant pipeline against this service's batch path, same scorer, same server.

Original (Andreaswt/variant-analysis-evo2, as /work/shared/notes describe it), per variant: one blocking
UCSC request for the window ``[pos-1-4096, pos-1+4096+1)`` (8,193 bp; a new connection each time, no
cache), the reference base read from the window (never checked), then two separate batch-1 scorer
calls, ``score([ref])`` and ``score([var])``, and delta = var − ref of the mean log-likelihoods.

Batch path: ``DeltaEngine`` over ``UcscGenome`` (one fetch per cluster of nearby windows), each distinct
window scored once through the ``ModelRunner`` (micro-batcher), reference windows through the score
cache. Both sides talk to the same stand-in UCSC server (tests/support/ucsc_server.py, real sockets on
127.0.0.1) and use the same scorer object.

Sections: the 3,893 Findlay BRCA1 SNVs (hg19) with kmer; the first ``--tiny-rows`` rows with the tiny
Evo 2 model (tests/support/evo2_cpu.py) at W = 8,192; a ``--saturation-bp`` saturation region with both.
With the tiny model the original side uses 8,192-bp windows (``--tiny-original-window``), so both
sides score identical windows and only the pipeline differs; the cost of the odd 8,193-bp length
itself is measured separately (``odd_length``). Work is cut into blocks and the two sides alternate
block by block, so load from other processes hits both alike.

    python bench/original_vs_batch.py                       # everything (~25 min on 2 busy cores)
    python bench/original_vs_batch.py --tiny-rows 30 --tiny-saturation-bp 10   # quicker

Prints a table per section and, last, one JSON line with every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from service.compose import build_parts, build_ucsc  # noqa: E402
from service.coords import Interval, make_variant  # noqa: E402
from service.domain.delta import DeltaEngine, VariantScore  # noqa: E402
from service.domain.options import DeltaOptions  # noqa: E402
from service.domain.saturation import ALLELES, saturate  # noqa: E402
from service.genome.ucsc import UcscGenome  # noqa: E402
from service.jobs.benchmark.findlay import GENOME, FindlaySnv, load_findlay  # noqa: E402
from service.scoring.base import Scorer  # noqa: E402
from service.scoring.prefix import GroupLogProbs, PrefixGroup, supports_continuation  # noqa: E402
from service.settings import Settings  # noqa: E402
from tests.support.ucsc_server import SEQUENCE, UcscServer  # noqa: E402

#: 100 bp of BRCA1 (hg19, 1-based inclusive) ending at the Findlay table's first SNV position.
SATURATION_END = 41276135

Snv = tuple[str, int, str, str]  # chrom, 1-based pos, ref, alt


# --------------------------------------------------------------------------- the two pipelines


def original_variant(http: httpx.Client, scorer: Scorer, snv: Snv, length: int) -> float:
    """The original endpoint's work for one variant; ``length`` 8,193 is the original's window."""
    chrom, pos, _ref, alt = snv
    half = 8192 // 2
    start = max(0, pos - 1 - half)
    end = pos - 1 + half + (length - 8192)
    # The original called requests.get (a new connection per call, no timeout, no retry); a kept-alive
    # client is cheaper than that here (2.5 vs 3.3 ms per request), which only favours the original.
    response = http.get(f"/getData/sequence?genome={GENOME};chrom={chrom};start={start};end={end}")
    if response.status_code != 200:
        raise RuntimeError(f"UCSC answered {response.status_code}")
    window_seq = response.json().get("dna", "").upper()
    relative = pos - 1 - start
    var_seq = window_seq[:relative] + alt + window_seq[relative + 1 :]
    ref_score = float(scorer.log_probs([window_seq])[0].mean())
    var_score = float(scorer.log_probs([var_seq])[0].mean())
    return var_score - ref_score


class TimedScorer:
    """The same scorer, with the wall time of its calls added up (both sides use it); it continues
    alternates from their reference's state when the scorer can (the batch side's engine asks)."""

    def __init__(self, inner: Scorer) -> None:
        self.inner = inner
        self.name = inner.name
        self.max_length = inner.max_length
        self.stats = inner.stats
        self.continuation = supports_continuation(inner)
        self.call_s = 0.0

    def log_probs(self, seqs: Sequence[str]) -> list[np.ndarray]:
        started = time.perf_counter()
        try:
            return self.inner.log_probs(seqs)
        finally:
            self.call_s += time.perf_counter() - started

    def log_probs_continued(self, groups: Sequence[PrefixGroup]) -> list[GroupLogProbs]:
        started = time.perf_counter()
        try:
            result: list[GroupLogProbs] = self.inner.log_probs_continued(groups)  # type: ignore[attr-defined]
            return result
        finally:
            self.call_s += time.perf_counter() - started

    def describe(self) -> dict[str, Any]:
        return self.inner.describe()


@dataclass
class Service:
    """This service's parts, fresh (empty caches) for each run."""

    engine: DeltaEngine
    genome: UcscGenome

    @classmethod
    def build(cls, scorer: Scorer, base_url: str) -> Service:
        # Exact fetches (no tiles), as the original pipeline asks UCSC for each window.
        settings = Settings(ucsc_base_url=base_url, ucsc_tile_bp=0, genome_sources=["ucsc"])
        genome = build_ucsc(settings)
        return cls(build_parts(settings, scorer=scorer, genome=genome).engine, genome)


async def batch_variants(service: Service, snvs: Sequence[Snv], window: int) -> list[float]:
    variants = [make_variant(c, p, r, a, genome=GENOME) for c, p, r, a in snvs]
    outcomes = await service.engine.score(variants, DeltaOptions(genome=GENOME, window=window))
    deltas = []
    for outcome in outcomes:
        if not isinstance(outcome, VariantScore):
            raise RuntimeError(f"variant failed: {outcome}")
        deltas.append(outcome.delta)
    return deltas


# --------------------------------------------------------------------------- measurement


@dataclass
class Tally:
    variants: int = 0
    wall_s: float = 0.0
    cpu_s: float = 0.0
    model_s: float = 0.0  # in forward passes (the scorer's own stats)
    call_s: float = 0.0  # in scorer calls (forward passes + tokenising, batching, freeing tensors)
    windows: int = 0
    forward_passes: int = 0
    ucsc_sequence_requests: int = 0
    ucsc_other_requests: int = 0
    blocks: int = 0
    deltas: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        n = max(1, self.variants)
        return {
            "variants": self.variants,
            "wall_s": round(self.wall_s, 3),
            "cpu_s": round(self.cpu_s, 3),
            "model_s": round(self.model_s, 3),
            "scorer_call_s": round(self.call_s, 3),
            "variants_per_s": round(self.variants / self.wall_s, 2) if self.wall_s else None,
            "windows": self.windows,
            "windows_per_variant": round(self.windows / n, 4),
            "forward_passes": self.forward_passes,
            "ucsc_sequence_requests": self.ucsc_sequence_requests,
            "ucsc_other_requests": self.ucsc_other_requests,
            "outside_model_ms_per_variant": round(1000 * (self.wall_s - self.model_s) / n, 3),
            "outside_scorer_calls_ms_per_variant": round(1000 * (self.wall_s - self.call_s) / n, 3),
        }


def measure(
    tally: Tally, scorer: TimedScorer, server: UcscServer, n: int, work: Callable[[], list[float]]
) -> None:
    stats = scorer.stats.snapshot()
    call_s = scorer.call_s
    seq_requests, all_requests = server.count(SEQUENCE), server.count()
    wall, cpu = time.perf_counter(), time.process_time()
    deltas = work()
    tally.wall_s += time.perf_counter() - wall
    tally.cpu_s += time.process_time() - cpu
    after = scorer.stats.snapshot()
    tally.model_s += after["seconds"] - stats["seconds"]
    tally.call_s += scorer.call_s - call_s
    tally.windows += int(after["sequences"] - stats["sequences"])
    tally.forward_passes += int(after["forward_passes"] - stats["forward_passes"])
    new_seq = server.count(SEQUENCE) - seq_requests
    tally.ucsc_sequence_requests += new_seq
    tally.ucsc_other_requests += server.count() - all_requests - new_seq
    tally.variants += n
    tally.blocks += 1
    tally.deltas.extend(deltas)


def compare(
    name: str,
    scorer: Scorer,
    server: UcscServer,
    blocks: Sequence[Sequence[Snv]],
    *,
    window: int,
    original_window: int,
    rounds: int,
    ours: Callable[[Service, Sequence[Snv]], Awaitable[list[float]]],
) -> dict[str, Any]:
    """Both sides over ``blocks``, alternating which goes first; fresh service parts per round."""
    timed = TimedScorer(scorer)
    sides = {"original": [Tally() for _ in range(rounds)], "batch": [Tally() for _ in range(rounds)]}
    http = httpx.Client(base_url=server.url)
    for r in range(rounds):
        service = Service.build(timed, server.url)
        loop = asyncio.new_event_loop()

        def original(block: Sequence[Snv]) -> list[float]:
            return [original_variant(http, timed, snv, original_window) for snv in block]

        def batch(block: Sequence[Snv], loop: Any = loop, service: Service = service) -> list[float]:
            result: list[float] = loop.run_until_complete(ours(service, block))
            return result

        try:
            for i, block in enumerate(blocks):
                runs: list[tuple[str, Callable[[], list[float]]]] = [
                    ("original", functools.partial(original, block)),
                    ("batch", functools.partial(batch, block)),
                ]
                if (i + r) % 2:
                    runs.reverse()
                for side, work in runs:
                    measure(sides[side][r], timed, server, len(block), work)
        finally:
            loop.run_until_complete(service.genome.aclose())
            service.engine.runner.close()
            loop.close()
    http.close()
    best = {side: min(tallies, key=lambda t: t.wall_s) for side, tallies in sides.items()}
    summary: dict[str, Any] = {side: tally.summary() for side, tally in best.items()}
    for side, tallies in sides.items():
        summary[side]["wall_s_rounds"] = [round(t.wall_s, 3) for t in tallies]
        summary[side]["wall_s_median"] = round(statistics.median(t.wall_s for t in tallies), 3)
    o, b = best["original"], best["batch"]
    summary["window_ratio"] = round(o.windows / b.windows, 4)
    summary["speedup"] = round(o.wall_s / b.wall_s, 4)
    # Round r of each side ran interleaved with the other's, block by block: a paired run.
    paired = [a.wall_s / c.wall_s for a, c in zip(sides["original"], sides["batch"], strict=True)]
    summary["speedup_rounds"] = [round(x, 4) for x in paired]
    summary["speedup_median"] = round(statistics.median(paired), 4)
    summary["speedup_range"] = [round(min(paired), 4), round(max(paired), 4)]
    summary["cpu_speedup"] = round(o.cpu_s / b.cpu_s, 4)
    summary["model_time_ratio"] = round(o.model_s / b.model_s, 4)
    if original_window == window:
        diff = np.abs(np.array(o.deltas) - np.array(b.deltas))
        summary["max_abs_delta_difference"] = float(diff.max())
    summary["window"] = window
    summary["original_window"] = original_window
    summary["blocks"] = len(blocks)
    summary["rounds"] = rounds
    print_section(name, summary)
    return summary


def print_section(name: str, s: dict[str, Any]) -> None:
    print(
        f"\n== {name}  (W = {s['window']:,}; original W = {s['original_window']:,}; "
        f"{s['blocks']} block(s) × {s['rounds']} round(s); the table shows the best round)"
    )
    rows = [
        ("variants", "variants", "{}"),
        ("windows scored / variant", "windows_per_variant", "{:.4f}"),
        ("forward passes", "forward_passes", "{}"),
        ("UCSC sequence requests", "ucsc_sequence_requests", "{}"),
        ("UCSC other requests", "ucsc_other_requests", "{}"),
        ("wall s", "wall_s", "{:.3f}"),
        ("process CPU s", "cpu_s", "{:.3f}"),
        ("in forward passes s", "model_s", "{:.3f}"),
        ("in scorer calls s", "scorer_call_s", "{:.3f}"),
        ("variants / s", "variants_per_s", "{}"),
        ("outside forward passes ms / variant", "outside_model_ms_per_variant", "{:.3f}"),
        ("outside scorer calls ms / variant", "outside_scorer_calls_ms_per_variant", "{:.3f}"),
    ]
    print(f"{'':38}{'original':>12}{'batch':>12}")
    for label, key, fmt in rows:
        print(f"{label:38}{fmt.format(s['original'][key]):>12}{fmt.format(s['batch'][key]):>12}")
    extra = f", max |Δ delta| {s['max_abs_delta_difference']:.2e}" if "max_abs_delta_difference" in s else ""
    print(
        f"window ratio {s['window_ratio']:.3f}; wall speed-up median {s['speedup_median']:.3f} "
        f"(range {s['speedup_range'][0]:.3f}–{s['speedup_range'][1]:.3f} over {s['rounds']} paired rounds); "
        f"CPU speed-up {s['cpu_speedup']:.3f} (best rounds); "
        f"scorer-time ratio {s['model_time_ratio']:.3f}{extra}"
    )


# --------------------------------------------------------------------------- sections


def findlay_snvs(rows: int | None = None) -> list[Snv]:
    table: list[FindlaySnv] = load_findlay()
    return [(s.chrom, s.pos, s.ref, s.alt) for s in table[:rows]]


def saturation_snvs(bases: str, start: int) -> list[Snv]:
    """Every SNV of a region whose 1-based first position is ``start``."""
    return [("chr17", start + i, ref, alt) for i, ref in enumerate(bases) for alt in ALLELES if alt != ref]


def blocks_of(items: Sequence[Snv], size: int) -> list[list[Snv]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def odd_length_cost(scorer: Scorer, server: UcscServer, repeats: int) -> dict[str, Any]:
    """Seconds per batch-1 window at 8,192 and at the original's 8,193 bp (alternating)."""
    snv = findlay_snvs(1)[0]
    times: dict[int, list[float]] = {8192: [], 8193: []}
    with httpx.Client(base_url=server.url) as http:
        for i in range(repeats):
            for length in (8192, 8193) if i % 2 == 0 else (8193, 8192):
                seconds = scorer.stats.snapshot()["seconds"]
                original_variant(http, scorer, snv, length)
                times[length].append((scorer.stats.snapshot()["seconds"] - seconds) / 2)
    out = {f"s_per_window_{w}": round(statistics.median(t), 4) for w, t in times.items()}
    out["ratio_8193_over_8192"] = round(out["s_per_window_8193"] / out["s_per_window_8192"], 3)
    print(
        f"\n== the original's 8,193-bp window with the tiny Evo 2 (batch 1, median of {repeats}): "
        f"{out['s_per_window_8192']:.3f} s at 8,192 vs {out['s_per_window_8193']:.3f} s at 8,193 "
        f"(×{out['ratio_8193_over_8192']:.2f})"
    )
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kmer-rounds", type=int, default=3)
    parser.add_argument(
        "--tiny-rows", type=int, default=300, help="first rows of the Findlay table (0: skip)"
    )
    parser.add_argument("--tiny-block", type=int, default=50, help="rows per alternating block")
    parser.add_argument("--tiny-rounds", type=int, default=3, help="paired rounds of the tiny sections")
    parser.add_argument("--tiny-original-window", type=int, default=8192, choices=[8192, 8193])
    parser.add_argument("--saturation-bp", type=int, default=100, help="kmer saturation region length")
    parser.add_argument("--tiny-saturation-bp", type=int, default=100, help="0: skip")
    parser.add_argument("--odd-length-repeats", type=int, default=6, help="0: skip")
    args = parser.parse_args(argv)

    from service.scoring.kmer import KmerScorer

    report: dict[str, Any] = {"cpu_count": os.cpu_count(), "load_average_start": os.getloadavg()}
    window = 8192
    with UcscServer() as server:
        kmer = KmerScorer.load()
        sat_start = SATURATION_END - args.saturation_bp + 1
        sat_bases = asyncio.run(_fetch(server.url, sat_start, SATURATION_END))

        def variants(service: Service, block: Sequence[Snv]) -> Any:
            return batch_variants(service, block, window)

        def saturation(service: Service, block: Sequence[Snv]) -> Any:
            return _saturation(service, block, window)

        report["kmer_brca1"] = compare(
            f"kmer, all {len(findlay_snvs()):,} Findlay SNVs",
            kmer, server, [findlay_snvs()], window=window, original_window=8193,
            rounds=args.kmer_rounds, ours=variants,
        )  # fmt: skip
        report["kmer_saturation"] = compare(
            f"kmer, saturation of {args.saturation_bp} bp (chr17:{sat_start}-{SATURATION_END}, hg19)",
            kmer, server, [saturation_snvs(sat_bases, sat_start)], window=window, original_window=8193,
            rounds=args.kmer_rounds, ours=saturation,
        )  # fmt: skip
        if args.tiny_rows or args.tiny_saturation_bp or args.odd_length_repeats:
            from tests.support.evo2_cpu import tiny_scorer

            tiny = tiny_scorer()
            tiny.max_length = 8193  # the original's window is one base longer than the model's 8,192
            tiny.log_probs(["ACGT" * 2048])  # warm-up
            if args.tiny_rows:
                report["tiny_brca1"] = compare(
                    f"tiny Evo 2, first {args.tiny_rows} Findlay SNVs",
                    tiny, server, blocks_of(findlay_snvs(args.tiny_rows), args.tiny_block), window=window,
                    original_window=args.tiny_original_window, rounds=args.tiny_rounds, ours=variants,
                )  # fmt: skip
            if args.tiny_saturation_bp:
                start = SATURATION_END - args.tiny_saturation_bp + 1
                snvs = saturation_snvs(sat_bases[start - sat_start :], start)
                region = f"chr17:{start}-{SATURATION_END}"
                report["tiny_saturation"] = compare(
                    f"tiny Evo 2, saturation of {args.tiny_saturation_bp} bp ({region})",
                    tiny, server, blocks_of(snvs, 75), window=window,
                    original_window=args.tiny_original_window, rounds=args.tiny_rounds, ours=saturation,
                )  # fmt: skip
            if args.odd_length_repeats:
                report["odd_length"] = odd_length_cost(tiny, server, args.odd_length_repeats)
    report["load_average_end"] = os.getloadavg()
    print()
    print(json.dumps(report))


async def _saturation(service: Service, block: Sequence[Snv], window: int) -> list[float]:
    """The /saturation path over the positions of ``block`` (whole positions: 3 SNVs each)."""
    positions = sorted({pos for _, pos, _, _ in block})
    region = Interval("chr17", positions[0] - 1, positions[-1])
    result = await saturate(service.engine, region, DeltaOptions(genome=GENOME, window=window))
    by_cell = {
        (pos, alt): delta
        for pos, row in zip(result.positions, result.deltas, strict=True)
        for alt, delta in zip(ALLELES, row, strict=True)
    }
    out = []
    for _, pos, _, alt in block:
        delta = by_cell[(pos, alt)]
        assert delta is not None
        out.append(delta)
    return out


async def _fetch(base_url: str, start: int, end: int) -> str:
    genome = build_ucsc(Settings(ucsc_base_url=base_url, ucsc_tile_bp=0))
    try:
        return await genome.fetch(GENOME, Interval("chr17", start - 1, end))
    finally:
        await genome.aclose()


if __name__ == "__main__":
    main()
