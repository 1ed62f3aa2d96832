"""How far the ``window`` and ``suffix`` deltas differ, with the tiny Evo 2 in float32 and in bfloat16.

Both deltas come from the same per-position log-probs (service.domain.delta.reduce_pair): ``window`` is the
Evo 2 notebook's difference of whole-window means; ``suffix`` sums only positions from the first base
where the windows differ (same denominator). Evo 2 is causal, so in exact arithmetic the two are
equal; the difference is the round-off of the shared prefix (the FFT convolutions mix every position),
which bfloat16 makes large. The float32 ``suffix`` delta serves as the reference.

The bfloat16 model is the tiny float32 model cast to bfloat16 with its IIR poles and residues kept in
float32, as evo2 keeps the 7B model's. SNVs: the first ``--snvs`` rows of the Findlay BRCA1 table
(hg19, bundled genome), W = 8,192.

    python bench/suffix_delta.py                 # 50 SNVs (~3 min on 2 cores)
    python bench/suffix_delta.py --snvs 20 --window 2048

Prints a table and, last, one JSON line with every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from service.compose import build_parts  # noqa: E402
from service.coords import make_variant  # noqa: E402
from service.domain.delta import reduce_pair  # noqa: E402
from service.domain.options import DeltaOptions  # noqa: E402
from service.domain.windows import VariantWindows  # noqa: E402
from service.genome.bundled import BundledGenome  # noqa: E402
from service.genome.layered import LayeredGenome  # noqa: E402
from service.jobs.benchmark.findlay import GENOME, load_findlay  # noqa: E402
from service.scoring.evo2 import Evo2Scorer  # noqa: E402
from service.settings import Settings  # noqa: E402


def build_windows(count: int, window: int, scorer: Evo2Scorer) -> list[VariantWindows]:
    engine = build_parts(Settings(), scorer=scorer, genome=LayeredGenome([BundledGenome()])).engine
    variants = [make_variant(s.chrom, s.pos, s.ref, s.alt, genome=GENOME) for s in load_findlay()[:count]]
    built = asyncio.run(engine.windows(variants, DeltaOptions(genome=GENOME, window=window)))
    out = []
    for item in built:
        if not isinstance(item, VariantWindows):
            raise RuntimeError(f"window failed: {item}")
        out.append(item)
    return out


def deltas(scorer: Evo2Scorer, windows: list[VariantWindows]) -> dict[str, np.ndarray]:
    seqs = list(dict.fromkeys(s for w in windows for s in (w.ref_seq, w.alt_seq)))
    log_probs = dict(zip(seqs, scorer.log_probs(seqs), strict=True))
    out: dict[str, list[float]] = {"window": [], "suffix": []}
    for w in windows:
        for method in ("window", "suffix"):
            ref_lp, alt_lp = log_probs[w.ref_seq], log_probs[w.alt_seq]
            ref, alt = reduce_pair(ref_lp, alt_lp, w.ref_seq, w.alt_seq, method)
            out[method].append(alt - ref)
    return {k: np.array(v) for k, v in out.items()}


def compare(a: np.ndarray, b: np.ndarray, scale: np.ndarray) -> dict[str, float]:
    """|a − b|: max and median, absolute and relative to |scale| (the reference delta)."""
    diff = np.abs(a - b)
    rel = diff / np.maximum(np.abs(scale), 1e-12)
    return {
        "max_abs": float(diff.max()),
        "median_abs": float(np.median(diff)),
        "max_rel": float(rel.max()),
        "median_rel": float(np.median(rel)),
        "sign_disagreements": int(np.sum(np.sign(a) != np.sign(b))),
    }


def bfloat16_copy(scorer: Evo2Scorer) -> Evo2Scorer:
    import torch

    model = copy.deepcopy(scorer.model).to(torch.bfloat16)
    for name, param in model.named_parameters():
        if name.endswith(("log_poles", "residues")):
            param.data = param.data.float()
    return Evo2Scorer(
        model,
        scorer.tokenizer,
        name=f"{scorer.name}-bf16",
        device="cpu",
        max_batch_tokens=scorer.max_batch_tokens,
        max_length=scorer.max_length,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--snvs", type=int, default=50)
    parser.add_argument("--window", type=int, default=8192)
    args = parser.parse_args(argv)

    from tests.support.evo2_cpu import tiny_scorer

    fp32 = tiny_scorer()
    bf16 = bfloat16_copy(fp32)
    windows = build_windows(args.snvs, args.window, fp32)
    results = {"float32": deltas(fp32, windows), "bfloat16": deltas(bf16, windows)}
    reference = results["float32"]["suffix"]
    report: dict[str, Any] = {
        "cpu_count": os.cpu_count(),
        "snvs": len(windows),
        "distinct_windows": len({s for w in windows for s in (w.ref_seq, w.alt_seq)}),
        "window": args.window,
        "median_abs_delta_float32_suffix": float(np.median(np.abs(reference))),
    }
    for dtype, d in results.items():
        report[dtype] = {
            "window_vs_suffix": compare(d["window"], d["suffix"], reference),
            "window_vs_float32_suffix": compare(d["window"], reference, reference),
            "suffix_vs_float32_suffix": compare(d["suffix"], reference, reference),
        }
    print(
        f"{report['snvs']} BRCA1 SNVs, tiny Evo 2, W = {args.window:,}; "
        f"median |delta| (float32, suffix) = {report['median_abs_delta_float32_suffix']:.3e}"
    )
    columns = ("max |Δ|", 11), ("median |Δ|", 12), ("max rel", 10), ("median rel", 12), ("signs", 7)
    print(f"{'':12}{'comparison':28}" + "".join(f"{name:>{width}}" for name, width in columns))
    for dtype in results:
        for name, row in report[dtype].items():
            print(
                f"{dtype:12}{name:28}{row['max_abs']:>11.2e}{row['median_abs']:>12.2e}"
                f"{row['max_rel']:>10.2e}{row['median_rel']:>12.2e}{row['sign_disagreements']:>7}"
            )
    print(json.dumps(report))


if __name__ == "__main__":
    main()
