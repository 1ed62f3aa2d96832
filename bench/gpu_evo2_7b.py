"""Throughput, memory, cold start and cost of the deployed Evo 2 7B on one GPU, with random weights.

The model is exactly the deployed one (``Deployment().model``: evo2's ``configs/evo2-7b-1m.yml`` for
``evo2_7b``, inner MLP 11,264) with random weights, which cost what the checkpoint costs per window,
so nothing is downloaded. For each batch size at W = 8,192 it times several forward passes of the
service's model on tokens already on the GPU (CUDA events; no host↔device copies, no float64), and
reports the median and range of s/window, MFU against the GPU's dense bf16 peak with the attention
W² term counted, peak allocated and reserved memory and ``mem_get_info`` headroom; out-of-memory,
cuFFT allocation failures included, is recorded as such. Beside it: the original pipeline's pattern
(two batch-1 forwards per variant, through ``Evo2Scorer.forward_batch``), Vortex kernels on and off,
the cold start (imports, model build, first forward), and prefix-state continuation on and off through
the service's engine (``service.jobs.continuation.compare_on_off``: BRCA1 SNVs and a saturation at W,
paired rounds alternating which goes first, tokens per SNV / position and the speed-up's median and
range). The last JSON line (and ``--out``) holds
every figure and a ``deployment`` block that ``service/deployment/figures.py`` reads for
``max_batch_tokens``, seconds per window and cold start.

    modal run modal_deploy.py::gpu_benchmark             # in the real GPU image → bench/results/
    python bench/gpu_evo2_7b.py --modal-gpu H100 --out bench/results/gpu_evo2_7b-H100.json
    python bench/gpu_evo2_7b.py --device cpu --tiny --batch-sizes 1,2 --window 256   # smoke run
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import statistics
import sys
import time
import types
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from service.deployment.figures import WINDOWS_PER_VARIANT  # noqa: E402
from service.deployment.gpus import parse_gpu  # noqa: E402
from service.scoring.evo2 import Evo2Scorer, _is_out_of_memory, module_available  # noqa: E402
from service.scoring.evo2_models import MODELS  # noqa: E402

#: Memory left free when recommending a batch size (fragmentation, other allocations).
HEADROOM = 0.10


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    parser.add_argument("--tiny", action="store_true", help="tiny test config (tests.support.evo2_cpu)")
    parser.add_argument("--model", default="evo2_7b", help="evo2 model whose config is built")
    parser.add_argument("--kernels", default="both", choices=["off", "on", "both"], help="use_kernels")
    parser.add_argument("--window", type=int, default=8192, help="window length W in bp")
    parser.add_argument("--batch-sizes", default="1,2,4,8,16,32")
    parser.add_argument("--repeats", type=int, default=5, help="timed forwards per batch size")
    parser.add_argument("--variants", type=int, default=4, help="variants for the original pattern")
    parser.add_argument("--modal-gpu", default="H100", help="Modal GPU type (price, bf16 peak)")
    parser.add_argument("--out", type=Path, default=None, help="write the JSON here")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--continuation-snvs", type=int, default=24, help="BRCA1 SNVs, on vs off (0: skip)")
    parser.add_argument("--continuation-bp", type=int, default=8, help="saturated positions, on vs off")
    parser.add_argument("--continuation-rounds", type=int, default=3, help="paired on/off rounds")
    args = parser.parse_args(argv)
    args.batch_sizes = [int(b) for b in args.batch_sizes.split(",") if b.strip()]
    return args


# --------------------------------------------------------------------------- model


def model_config(args: argparse.Namespace, kernels: bool) -> dict[str, Any]:
    """The deployed model's evo2 config (or the tiny one) with the switches this machine supports."""
    if args.tiny:
        from tests.support.evo2_cpu import install_cpu_shim, tiny_config

        if args.device == "cpu":
            install_cpu_shim()
        config = tiny_config()
    else:
        import yaml

        flash = module_available("flash_attn_2_cuda")
        if not flash:  # vortex imports it unguarded even with use_flash_attn off; never called then
            sys.modules["flash_attn_2_cuda"] = types.ModuleType("flash_attn_2_cuda")
        spec = importlib.util.find_spec("evo2")  # not imported: evo2/__init__.py imports vortex
        assert spec is not None and spec.submodule_search_locations, "evo2 is not installed"
        package_dir = Path(next(iter(spec.submodule_search_locations)))
        config = yaml.safe_load((package_dir / MODELS[args.model].config).read_text())
        config["use_flash_attn"] = flash
        # As evo2's loader does for 7B models: FP8 only when Transformer Engine is installed.
        config["use_fp8_input_projections"] = bool(
            config.get("use_fp8_input_projections")
        ) and module_available("transformer_engine")
    for flag in ("use_hcs_kernel", "use_hcm_kernel", "use_hcl_kernel"):
        config[flag] = kernels
    return config


def tame_filters(model: Any, seed: int) -> None:
    """Random log_poles are half positive and overflow long IIR filters; keep them decaying."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    scales = {"residues": 0.1, "short_filter_weight": 0.3}
    with torch.no_grad():
        for name, param in model.named_parameters():
            leaf = name.rsplit(".", 1)[-1]
            if leaf == "log_poles":
                draw = -(0.01 + 0.49 * torch.rand(param.shape, generator=gen))
            elif leaf in scales or name.endswith("filter.h") or name.startswith("embedding_layer."):
                draw = scales.get(leaf, 0.05 if name.endswith("filter.h") else 0.1) * torch.randn(
                    param.shape, generator=gen
                )
            else:
                continue
            param.copy_(draw.to(device=param.device, dtype=param.dtype))


def build_model(config: dict[str, Any], *, low_precision: bool, seed: int) -> Any:
    import torch
    from vortex.model.model import StripedHyena
    from vortex.model.utils import dotdict

    torch.manual_seed(seed)
    model = StripedHyena(dotdict(config))
    if low_precision:  # the dtypes evo2's loader leaves: bf16, float32 poles, residues, HCM filters
        model.to_bfloat16_except_pr_lc(to_float32=True)
    else:
        model = model.float()
    tame_filters(model, seed)
    return model.eval()


def forward_flops(params: int, config: dict[str, Any], window: int) -> float:
    """2 · params · W for the dense layers, plus the causal attention scores and values
    (QKᵀ and AV: 2 · 2 · W² · hidden / 2 per attention layer)."""
    attention_layers = len(config.get("attn_layer_idxs") or [])
    return 2.0 * params * window + 2.0 * attention_layers * window**2 * int(config["hidden_size"])


# --------------------------------------------------------------------------- measurements


def _sync(device: Any) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def memory(device: Any) -> dict[str, float | None]:
    import torch

    if device.type != "cuda":
        return {"peak_allocated_gib": None, "peak_reserved_gib": None, "free_gib": None}
    free, _ = torch.cuda.mem_get_info(device)
    return {
        "peak_allocated_gib": torch.cuda.max_memory_allocated(device) / 2**30,
        "peak_reserved_gib": torch.cuda.max_memory_reserved(device) / 2**30,
        "free_gib": free / 2**30,
    }


def _reset(device: Any) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)


def timed_forwards(model: Any, input_ids: Any, repeats: int) -> list[float]:
    """Seconds of each forward pass (logits on the device; CUDA events when on a GPU)."""
    import torch

    times = []
    with torch.inference_mode():
        model(input_ids)  # warm-up: kernels, FFT plans, allocator
        for _ in range(repeats):
            if input_ids.device.type == "cuda":
                start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                start.record()
                model(input_ids)
                end.record()
                torch.cuda.synchronize(input_ids.device)
                times.append(start.elapsed_time(end) / 1000)
            else:
                started = time.perf_counter()
                model(input_ids)
                times.append(time.perf_counter() - started)
    return times


def measure_batch(
    model: Any, device: Any, batch: int, args: argparse.Namespace, flops: float, peak: float | None
) -> dict[str, Any]:
    import torch

    rng = np.random.default_rng(args.seed + batch)
    tokens = rng.choice(np.frombuffer(b"ACGT", dtype=np.uint8), size=(batch, args.window)).astype(np.int64)
    input_ids = torch.from_numpy(tokens).to(device)
    _reset(device)
    try:
        times = timed_forwards(model, input_ids, args.repeats)
    except Exception as exc:
        if not _is_out_of_memory(exc):
            raise
        error = str(exc).splitlines()[0][:200]
    else:
        per_window = [t / batch for t in times]
        median = statistics.median(per_window)
        row = {"batch_size": batch, "oom": False, "seconds_per_window": median}
        row |= {"min_seconds_per_window": min(per_window), "max_seconds_per_window": max(per_window)}
        row["mfu"] = flops / median / (peak * 1e12) if peak else None
        return row | memory(device)
    del input_ids
    _reset(device)
    return {"batch_size": batch, "oom": True, "error": error}


def measure_original(scorer: Evo2Scorer, window: int, variants: int, seed: int) -> dict[str, float]:
    """The original pipeline: per variant, ref and alt windows as two batch-1 forwards (with copies)."""
    rng = np.random.default_rng(seed)
    refs = rng.choice(np.frombuffer(b"ACGT", dtype=np.uint8), size=(variants, window))
    alts = refs.copy()
    alts[:, window // 2] = np.where(alts[:, window // 2] == ord("A"), ord("G"), ord("A"))
    scorer.forward_batch(refs[:1])
    started = time.perf_counter()
    for ref, alt in zip(refs, alts, strict=True):
        scorer.forward_batch(ref[None])
        scorer.forward_batch(alt[None])
    elapsed = time.perf_counter() - started
    return {"variants_per_s": variants / elapsed, "seconds_per_window": elapsed / (2 * variants)}


def measure_continuation(scorer: Evo2Scorer, args: argparse.Namespace) -> dict[str, Any] | None:
    """Prefix-state continuation on and off through the engine, on this scorer (None when skipped)."""
    from service.jobs.continuation import compare_on_off

    workloads = [("brca1", args.continuation_snvs), ("saturation", args.continuation_bp)]
    workloads = [(name, size) for name, size in workloads if size > 0]
    if not workloads or args.continuation_rounds < 1:
        return None
    return compare_on_off(scorer, workloads=workloads, window=args.window, rounds=args.continuation_rounds)


def recommend(rows: list[dict[str, Any]], window: int, total_gib: float | None) -> dict[str, Any] | None:
    """Smallest batch within 5% of the best s/window whose reserved peak leaves HEADROOM free."""
    fitting = [r for r in rows if not r["oom"]]
    if total_gib is not None:
        fitting = [r for r in fitting if r["peak_reserved_gib"] <= (1 - HEADROOM) * total_gib]
    if not fitting:
        return None
    best = min(r["seconds_per_window"] for r in fitting)
    chosen = min(
        (r for r in fitting if r["seconds_per_window"] <= 1.05 * best), key=lambda r: r["batch_size"]
    )
    return {"max_batch_tokens": chosen["batch_size"] * window, **chosen}


# --------------------------------------------------------------------------- main


def run_config(
    args: argparse.Namespace, kernels: bool, device_name: str, peak: float | None
) -> dict[str, Any]:
    import torch

    started = time.perf_counter()
    config = model_config(args, kernels)  # before any vortex import (CPU shim, flash-attn stand-in)
    from vortex.model.tokenizer import CharLevelTokenizer

    import_s = time.perf_counter() - started
    started = time.perf_counter()
    model = build_model(config, low_precision=not args.tiny, seed=args.seed)
    device = next(model.parameters()).device
    _sync(device)
    build_s = time.perf_counter() - started
    scorer = Evo2Scorer(
        model, CharLevelTokenizer(512), name=args.model, device=str(device),
        max_batch_tokens=max(args.batch_sizes) * args.window, max_length=args.window, use_kernels=kernels,
    )  # fmt: skip
    started = time.perf_counter()
    first = scorer.forward_batch(np.full((1, args.window), ord("A"), dtype=np.uint8))
    first_s = time.perf_counter() - started
    params = sum(p.numel() for p in model.parameters())
    flops = forward_flops(params, config, args.window)
    rows = []
    for batch in args.batch_sizes:
        rows.append(measure_batch(model, device, batch, args, flops, peak))
        if rows[-1]["oom"]:
            break  # larger batches cannot fit either
    total = torch.cuda.get_device_properties(device).total_memory / 2**30 if device.type == "cuda" else None
    result = {
        "kernels": kernels,
        "params": params,
        "flops_per_window": flops,
        "finite": bool(np.isfinite(first).all()),
        "cold_start": {"import_s": import_s, "build_s": build_s, "first_forward_s": first_s},
        "rows": rows,
        "original": measure_original(scorer, args.window, args.variants, args.seed),
        "continuation": measure_continuation(scorer, args),
        "recommended": recommend(rows, args.window, total),
        "gpu_memory_gib": total,
        "device": device_name,
    }
    del model, scorer
    _reset(device)
    return result


def versions(device: Any) -> dict[str, Any]:
    import torch

    out: dict[str, Any] = {"python": platform.python_version(), "torch": torch.__version__}
    out["cuda"] = torch.version.cuda
    if device.type == "cuda":
        out["gpu_name"] = torch.cuda.get_device_name(device)
        out["capability"] = ".".join(map(str, torch.cuda.get_device_capability(device)))
        out["driver"] = _driver_version()
    return out


def _driver_version() -> str | None:
    import subprocess

    try:
        done = subprocess.run(
            ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=10, check=True,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip().splitlines()[0] if done.stdout.strip() else None


def deployment_block(
    result: dict[str, Any], window: int, usd_per_hour: float | None
) -> dict[str, Any] | None:
    """What the deployment reads: the configuration the service runs (kernels off unless faster)."""
    chosen = [r for r in result["configs"] if r["recommended"]]
    if not chosen:
        return None
    best = min(chosen, key=lambda r: r["recommended"]["seconds_per_window"])
    rec, cold = best["recommended"], best["cold_start"]
    cost = None
    if usd_per_hour is not None:
        cost = 1000 * WINDOWS_PER_VARIANT * rec["seconds_per_window"] / 3600 * usd_per_hour
    return {
        "max_batch_tokens": rec["max_batch_tokens"],
        "seconds_per_window": rec["seconds_per_window"] * 8192 / window,
        "use_kernels": best["kernels"],
        # Import and first forward measured here; reading ~14 GB of weights is not (random weights).
        "cold_start_s": cold["import_s"] + cold["build_s"] + cold["first_forward_s"],
        "cost_per_1000_variants_usd": cost,
        "windows_per_variant": WINDOWS_PER_VARIANT,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("CUDA is not available (use --device cpu --tiny for a smoke run)")
    gpu, _ = parse_gpu(args.modal_gpu)
    device = torch.device("cuda:0" if args.device == "cuda" else "cpu")
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    peak = gpu.bf16_dense_tflops if device.type == "cuda" else None
    choices = {"off": [False], "on": [True], "both": [False, True]}[args.kernels]
    if args.tiny:
        choices = [False]  # Triton kernels need a GPU
    result: dict[str, Any] = {
        "bench": "gpu_evo2_7b",
        "date": time.strftime("%Y-%m-%d"),
        "model": "tiny" if args.tiny else args.model,
        "config": "tiny" if args.tiny else MODELS[args.model].config,
        "window": args.window,
        "modal_gpu": gpu.name,
        "usd_per_hour": gpu.usd_per_hour,
        "bf16_dense_tflops": peak,
        "versions": versions(device),
        "configs": [run_config(args, kernels, name, peak) for kernels in choices],
    }
    result["deployment"] = deployment_block(result, args.window, gpu.usd_per_hour)
    print_report(result)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))
    return result


def print_report(result: dict[str, Any]) -> None:
    print(f"{result['versions']} {result['model']} W={result['window']} on {result['modal_gpu']}")
    for config in result["configs"]:
        cold = config["cold_start"]
        print(
            f"kernels={config['kernels']} params={config['params']:,} cold start: "
            f"import {cold['import_s']:.1f} s, build {cold['build_s']:.1f} s, "
            f"first forward {cold['first_forward_s']:.2f} s"
        )
        print(
            f"{'batch':>5} {'s/window':>9} {'range':>17} {'MFU':>6} {'alloc':>6} {'resv':>6} {'free':>6} GiB"
        )
        for row in config["rows"]:
            if row["oom"]:
                print(f"{row['batch_size']:>5} out of memory: {row['error']}")
                continue
            mfu = "-" if row["mfu"] is None else f"{row['mfu']:.1%}"
            mem = [row[k] for k in ("peak_allocated_gib", "peak_reserved_gib", "free_gib")]
            shown = " ".join("     -" if m is None else f"{m:6.1f}" for m in mem)
            span = f"{row['min_seconds_per_window']:.4f}-{row['max_seconds_per_window']:.4f}"
            print(f"{row['batch_size']:>5} {row['seconds_per_window']:>9.4f} {span:>17} {mfu:>6} {shown}")
        orig = config["original"]
        print(f"original pattern (2 × batch 1 per variant): {orig['seconds_per_window']:.4f} s/window")
        for workload, c in ((config.get("continuation") or {}).get("workloads") or {}).items():
            print(
                f"continuation {workload}: {c['window_equivalents_per_unit_on']:.2f} vs "
                f"{c['window_equivalents_per_unit_off']:.2f} windows per unit, speed-up "
                f"{c['speedup_median']:.2f}x ({c['speedup_min']:.2f}-{c['speedup_max']:.2f}), "
                f"max |delta on - off| {c['max_abs_delta_difference']:.2e}"
            )
    print(f"deployment: {result['deployment']}")


if __name__ == "__main__":
    main()
