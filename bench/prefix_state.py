"""Prefix-state continuation on and off: model tokens per SNV / saturation position, and wall time.

1. Tokens (window-equivalents = model tokens ÷ window) the Evo 2 scorer feeds its model, from its own
   plan without running a model: all 3,893 BRCA1 SNVs (the notebook's 8,192-bp hg19 windows) and a
   ``--plan-saturation-bp`` (512) saturation of BRCA1, continuation on and off.
2. The tiny Evo 2 model (real Vortex code, tests/support/evo2_cpu.py) at W = ``--window`` (8,192):
   the first ``--snvs`` BRCA1 SNVs and a ``--saturation-bp`` saturation, continuation on and off in
   the same process, ``--rounds`` paired runs alternating which goes first; the speed-up (off ÷ on)
   as median and range, the measured tokens (which must equal the plan) and the largest delta
   difference between the two.

    python bench/prefix_state.py                       # ~30 min on 2 busy cores
    python bench/prefix_state.py --rounds 3 --snvs 12 --saturation-bp 4

On a GPU the same comparison runs on any Evo2Scorer with ``service.jobs.continuation.compare_on_off``.
Prints tables and, last, one JSON line with every figure.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from service.jobs.continuation import compare_on_off, planned  # noqa: E402


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--window", type=int, default=8192)
    parser.add_argument("--plan-saturation-bp", type=int, default=512)
    parser.add_argument("--snvs", type=int, default=24, help="BRCA1 SNVs scored with the tiny model")
    parser.add_argument(
        "--saturation-bp", type=int, default=8, help="positions saturated with the tiny model"
    )
    parser.add_argument("--rounds", type=int, default=5, help="paired on/off runs per workload")
    parser.add_argument("--no-model", action="store_true", help="the token plan only")
    return parser.parse_args(argv)


def plan_table(plans: list[dict[str, Any]]) -> str:
    lines = ["window-equivalents (model tokens / window) per unit, from the scorer's plan"]
    lines.append(f"  {'workload':<34} {'off':>8} {'on':>8}")
    for plan in plans:
        unit = "SNV" if plan["workload"] == "brca1" else "position"
        what = f"{plan['workload']} ({plan['on']['units']:,} {unit}s, W={plan['window']:,})"
        lines.append(
            f"  {what:<34} {plan['off']['window_equivalents_per_unit']:>8.4f} "
            f"{plan['on']['window_equivalents_per_unit']:>8.4f}"
        )
    return "\n".join(lines)


def measured_table(report: dict[str, Any]) -> str:
    lines = [f"{report['model']}, W={report['window']:,}, {report['rounds']} paired rounds (off ÷ on)"]
    for name, w in report["workloads"].items():
        lines.append(
            f"  {name:<10} {w['units']:>3} units: speed-up median {w['speedup_median']:.2f}× "
            f"(range {w['speedup_min']:.2f}–{w['speedup_max']:.2f}), CPU time {w['cpu_speedup_median']:.2f}× "
            f"({w['cpu_speedup_min']:.2f}–{w['cpu_speedup_max']:.2f}); window-equivalents per unit "
            f"{w['window_equivalents_per_unit_off']:.4f} → {w['window_equivalents_per_unit_on']:.4f}; "
            f"max |Δdelta| {w['max_abs_delta_difference']:.1e}"
        )
    return "\n".join(lines)


def state_sizes(offset: int) -> dict[str, Any]:
    """Bytes of one reference's prefix state at ``offset``: the tiny model's as captured, the 7B's from
    its config (bfloat16 values, float32 modal states), checked against each other by the tests."""
    import torch
    import yaml

    from service.scoring.evo2_capture import capture_states
    from service.scoring.evo2_state import state_nbytes_estimate
    from tests.support.evo2_cpu import _evo2_dir, build_tiny_model, random_dna

    seq = random_dna(2 * offset, 0)
    with torch.inference_mode():
        _, [states] = capture_states(build_tiny_model(), torch.tensor([list(seq.encode())]), [[offset]])
    seven = yaml.safe_load((_evo2_dir() / "configs" / "evo2-7b-1m.yml").read_text())
    return {
        "offset": offset,
        "tiny_bytes": states[offset].nbytes,
        "evo2_7b_bytes": state_nbytes_estimate(seven, offset),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    plans = [
        planned("brca1", None, window=args.window),
        planned("saturation", args.plan_saturation_bp, window=args.window),
    ]
    print(plan_table(plans))
    sizes = state_sizes(args.window // 2)
    print(
        f"\none reference's prefix state at {sizes['offset']:,} positions: tiny model "
        f"{sizes['tiny_bytes'] / 2**20:.2f} MiB (captured), evo2_7b {sizes['evo2_7b_bytes'] / 2**20:.1f} MiB "
        "(its config, bfloat16; keys and values are 320 MiB of it)"
    )
    result: dict[str, Any] = {"plan": plans, "state_sizes": sizes}
    if not args.no_model:
        from tests.support.evo2_cpu import tiny_scorer

        report = compare_on_off(
            tiny_scorer(),
            workloads=(("brca1", args.snvs), ("saturation", args.saturation_bp)),
            window=args.window,
            rounds=args.rounds,
        )
        for name, w in report["workloads"].items():
            plan = planned(name, args.snvs if name == "brca1" else args.saturation_bp, window=args.window)
            w["tokens_match_plan"] = (w["tokens_on"], w["tokens_off"]) == (
                plan["on"]["tokens"],
                plan["off"]["tokens"],
            )
        print()
        print(measured_table(report))
        result["measured"] = report
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
