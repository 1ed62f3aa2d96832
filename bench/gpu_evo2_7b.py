"""Throughput, memory and cost of Evo 2 7B scoring on one GPU, measured with random weights.

The real 7B architecture (evo2's ``configs/evo2-7b-8k.yml``, or ``-1m``) with random weights costs
exactly what the checkpoint costs per window, so nothing is downloaded. For each batch size the
script runs the service's own code path (``Evo2Scorer.forward_batch``: tokens in, per-position
log-probabilities out) on W-bp windows and reports windows/s, model FLOP utilisation against a
measured bf16 matmul rate, peak GPU memory, and the original pipeline's pattern (two separate
batch-1 forwards per variant) beside it; then it recommends ``max_batch_tokens`` and prices
1,000 SNVs (1 + 1/3 windows per SNV: ~3 SNVs share each reference window).

    python bench/gpu_evo2_7b.py                         # H100: batch sizes 1..32 at W = 8,192
    python bench/gpu_evo2_7b.py --kernels               # Vortex's Triton HCS/HCM/HCL kernels
    python bench/gpu_evo2_7b.py --device cpu --tiny --batch-sizes 1,2 --window 256   # smoke run

Prints a table and, last, one JSON line with every figure.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
import types
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from service.scoring.evo2 import Evo2Scorer, module_available  # noqa: E402

PRICE_PER_HOUR_H100 = 3.95
WINDOWS_PER_SNV = 1 + 1 / 3
CONFIGS = {"8k": "configs/evo2-7b-8k.yml", "1m": "configs/evo2-7b-1m.yml"}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    parser.add_argument("--tiny", action="store_true", help="tiny test config (tests.support.evo2_cpu)")
    parser.add_argument("--config", default="8k", choices=sorted(CONFIGS), help="evo2 7B config")
    parser.add_argument("--kernels", action="store_true", help="Vortex Triton kernels (use_kernels)")
    parser.add_argument("--window", type=int, default=8192, help="window length W in bp")
    parser.add_argument("--batch-sizes", default="1,2,4,8,16,32")
    parser.add_argument("--repeats", type=int, default=3, help="timed forwards per batch size")
    parser.add_argument("--variants", type=int, default=4, help="variants for the original pattern")
    parser.add_argument("--matmul-size", type=int, default=None, help="default 8192 (256 with --tiny)")
    parser.add_argument("--price-per-hour", type=float, default=PRICE_PER_HOUR_H100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.batch_sizes = [int(b) for b in args.batch_sizes.split(",") if b.strip()]
    if args.matmul_size is None:
        args.matmul_size = 256 if args.tiny else 8192
    return args


# --------------------------------------------------------------------------- model


def model_config(args: argparse.Namespace) -> dict[str, Any]:
    """The 7B config (or the tiny one) with the switches this machine supports."""
    if args.tiny:
        from tests.support.evo2_cpu import install_cpu_shim, tiny_config

        if args.device == "cpu":
            install_cpu_shim()
        config = tiny_config()
    else:
        import yaml

        if not module_available("flash_attn_2_cuda"):
            # vortex/ops/attn_interface.py imports it unguarded even with use_flash_attn off;
            # an empty stand-in is never called on that path.
            sys.modules["flash_attn_2_cuda"] = types.ModuleType("flash_attn_2_cuda")
            flash = False
        else:
            flash = True
        spec = importlib.util.find_spec("evo2")  # not imported: evo2/__init__.py imports vortex
        assert spec is not None and spec.submodule_search_locations, "evo2 is not installed"
        package_dir = Path(next(iter(spec.submodule_search_locations)))
        config = yaml.safe_load((package_dir / CONFIGS[args.config]).read_text())
        config["use_flash_attn"] = flash
        # As evo2's loader does for 7B models: FP8 only when Transformer Engine is installed.
        config["use_fp8_input_projections"] = bool(
            config.get("use_fp8_input_projections")
        ) and module_available("transformer_engine")
    for flag in ("use_hcs_kernel", "use_hcm_kernel", "use_hcl_kernel"):
        config[flag] = bool(args.kernels)
    return config


def tame_filters(model: Any, seed: int) -> None:
    """Random log_poles are half positive and overflow long IIR filters; keep them decaying."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            leaf = name.rsplit(".", 1)[-1]
            draw: torch.Tensor | None = None
            if leaf == "log_poles":
                draw = -(0.01 + 0.49 * torch.rand(param.shape, generator=gen))
            elif leaf == "residues":
                draw = 0.1 * torch.randn(param.shape, generator=gen)
            elif name.endswith("filter.h"):
                draw = 0.05 * torch.randn(param.shape, generator=gen)
            elif leaf == "short_filter_weight":
                draw = 0.3 * torch.randn(param.shape, generator=gen)
            elif name.startswith("embedding_layer."):
                draw = 0.1 * torch.randn(param.shape, generator=gen)
            if draw is not None:
                param.copy_(draw.to(device=param.device, dtype=param.dtype))


def build_model(config: dict[str, Any], *, low_precision: bool, seed: int) -> Any:
    import torch
    from vortex.model.model import StripedHyena
    from vortex.model.utils import dotdict

    torch.manual_seed(seed)
    model = StripedHyena(dotdict(config))
    if low_precision:
        # The dtypes evo2's loader leaves: bf16, with float32 poles, residues and HCM filters.
        model.to_bfloat16_except_pr_lc(to_float32=True)
    else:
        model = model.float()
    tame_filters(model, seed)
    return model.eval()


# --------------------------------------------------------------------------- measurements


def _sync(device: Any) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_rate(device: Any, size: int, repeats: int = 10) -> tuple[float, str]:
    """Dense matmul FLOP/s on ``device`` (bf16 on CUDA, float32 on a CPU): the MFU reference."""
    import torch

    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)
    for _ in range(2):
        torch.matmul(a, b)
    _sync(device)
    started = time.perf_counter()
    for _ in range(repeats):
        torch.matmul(a, b)
    _sync(device)
    elapsed = time.perf_counter() - started
    return 2 * size**3 * repeats / elapsed, str(dtype).removeprefix("torch.")


def _is_oom(exc: BaseException) -> bool:
    import torch

    return isinstance(exc, torch.cuda.OutOfMemoryError) or (
        isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()
    )


def _reset_peak(device: Any) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)


def _peak_gib(device: Any) -> float | None:
    import torch

    return torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None


def random_windows(count: int, window: int, rng: np.random.Generator) -> np.ndarray:
    return rng.choice(np.frombuffer(b"ACGT", dtype=np.uint8), size=(count, window))


def measure_batch(scorer: Evo2Scorer, device: Any, batch: int, window: int, repeats: int, rng: Any) -> dict:
    tokens = random_windows(batch, window, rng)
    _reset_peak(device)
    try:
        first = scorer.forward_batch(tokens)  # warm-up (kernels, FFT plans, allocator)
        _sync(device)
        started = time.perf_counter()
        for _ in range(repeats):
            scorer.forward_batch(tokens)
        _sync(device)
        elapsed = time.perf_counter() - started
    except Exception as exc:
        if not _is_oom(exc):
            raise
        oom = True
    else:
        oom = False
    if oom:
        _reset_peak(device)
        return {"batch_size": batch, "oom": True}
    return {
        "batch_size": batch,
        "oom": False,
        "windows_per_s": batch * repeats / elapsed,
        "seconds_per_forward": elapsed / repeats,
        "peak_gib": _peak_gib(device),
        "finite": bool(np.isfinite(first).all()),
    }


def measure_original(scorer: Evo2Scorer, device: Any, window: int, variants: int, rng: Any) -> dict:
    """The original pipeline: per variant, ref and alt windows as two separate batch-1 forwards."""
    refs = random_windows(variants, window, rng)
    alts = refs.copy()
    alts[:, window // 2] = np.where(alts[:, window // 2] == ord("A"), ord("G"), ord("A"))
    scorer.forward_batch(refs[:1])  # warm-up
    _sync(device)
    started = time.perf_counter()
    for ref, alt in zip(refs, alts, strict=True):
        scorer.forward_batch(ref[None])
        scorer.forward_batch(alt[None])
    _sync(device)
    elapsed = time.perf_counter() - started
    return {"variants_per_s": variants / elapsed, "windows_per_s": 2 * variants / elapsed}


def recommend(rows: list[dict], window: int, total_gib: float | None) -> dict | None:
    """Smallest batch within 5% of the best throughput whose peak memory leaves 15% headroom."""
    fitting = [r for r in rows if not r["oom"]]
    if total_gib is not None:
        fitting = [r for r in fitting if r["peak_gib"] is None or r["peak_gib"] <= 0.85 * total_gib]
    if not fitting:
        return None
    best = max(r["windows_per_s"] for r in fitting)
    chosen = min((r for r in fitting if r["windows_per_s"] >= 0.95 * best), key=lambda r: r["batch_size"])
    return {"batch_size": chosen["batch_size"], "max_batch_tokens": chosen["batch_size"] * window, **chosen}


def cost_per_1000_snvs(snvs_per_s: float, price_per_hour: float) -> float:
    return 1000 / snvs_per_s / 3600 * price_per_hour


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("CUDA is not available (use --device cpu --tiny for a smoke run)")
    config = model_config(args)  # before any vortex import (CPU shim, flash-attn stand-in)
    from vortex.model.tokenizer import CharLevelTokenizer

    started = time.perf_counter()
    model = build_model(config, low_precision=not args.tiny, seed=args.seed)
    build_s = time.perf_counter() - started
    device = next(model.parameters()).device
    params = sum(p.numel() for p in model.parameters())
    scorer = Evo2Scorer(
        model,
        CharLevelTokenizer(512),
        name="evo2_7b-random" if not args.tiny else "evo2-tiny-random",
        device=str(device),
        max_batch_tokens=max(args.batch_sizes) * args.window,
        max_length=int(config.get("max_seqlen") or args.window),
        use_kernels=args.kernels,
    )
    rate, rate_dtype = matmul_rate(device, args.matmul_size)
    flops_per_window = 2 * params * args.window
    rng = np.random.default_rng(args.seed)

    rows: list[dict] = []
    for batch in args.batch_sizes:
        row = measure_batch(scorer, device, batch, args.window, args.repeats, rng)
        if not row["oom"]:
            row["mfu"] = row["windows_per_s"] * flops_per_window / rate
        rows.append(row)
        if row["oom"]:
            break  # larger batches cannot fit either
    original = measure_original(scorer, device, args.window, args.variants, rng)
    total_gib = None
    if device.type == "cuda":
        total_gib = torch.cuda.get_device_properties(device).total_memory / 2**30
    chosen = recommend(rows, args.window, total_gib)

    batched_snvs_per_s = chosen["windows_per_s"] / WINDOWS_PER_SNV if chosen else None
    batched_cost = cost_per_1000_snvs(batched_snvs_per_s, args.price_per_hour) if batched_snvs_per_s else None
    result: dict[str, Any] = {
        "bench": "gpu_evo2_7b",
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "config": "tiny" if args.tiny else CONFIGS[args.config],
        "window": args.window,
        "params": params,
        "build_seconds": build_s,
        "flash_attn": bool(config.get("use_flash_attn")),
        "fp8": bool(config.get("use_fp8_input_projections")),
        "kernels": bool(args.kernels),
        "matmul": {"size": args.matmul_size, "dtype": rate_dtype, "tflops": rate / 1e12},
        "flops_per_window": flops_per_window,
        "floor_seconds_per_window": flops_per_window / rate,
        "gpu_memory_gib": total_gib,
        "rows": rows,
        "original": original,
        "recommended_max_batch_tokens": chosen["max_batch_tokens"] if chosen else None,
        "recommended_batch_size": chosen["batch_size"] if chosen else None,
        "price_per_hour": args.price_per_hour,
        "windows_per_snv": WINDOWS_PER_SNV,
        "cost_per_1000_snvs_usd": {
            "batched": batched_cost,
            "original": cost_per_1000_snvs(original["variants_per_s"], args.price_per_hour),
        },
    }
    print_report(result)
    print(json.dumps(result))
    return result


def print_report(result: dict[str, Any]) -> None:
    print(
        f"{result['device']}  config={result['config']}  W={result['window']}  "
        f"params={result['params']:,}  flash_attn={result['flash_attn']}  fp8={result['fp8']}  "
        f"kernels={result['kernels']}"
    )
    mm = result["matmul"]
    print(
        f"matmul {mm['size']}² {mm['dtype']}: {mm['tflops']:.1f} TFLOP/s -> floor "
        f"{result['floor_seconds_per_window']:.3f} s/window ({result['flops_per_window']:.2e} FLOPs/window)"
    )
    print(f"{'batch':>5} {'windows/s':>10} {'s/forward':>10} {'MFU':>6} {'peak GiB':>9}")
    for row in result["rows"]:
        if row["oom"]:
            print(f"{row['batch_size']:>5} {'out of memory':>10}")
            continue
        peak = "-" if row["peak_gib"] is None else f"{row['peak_gib']:.1f}"
        print(
            f"{row['batch_size']:>5} {row['windows_per_s']:>10.2f} {row['seconds_per_forward']:>10.3f} "
            f"{row['mfu']:>6.1%} {peak:>9}"
        )
    orig = result["original"]
    print(
        f"original pattern (2 x batch-1 forwards per variant): {orig['variants_per_s']:.2f} variants/s, "
        f"{orig['windows_per_s']:.2f} windows/s"
    )
    cost = result["cost_per_1000_snvs_usd"]
    print(f"recommended max_batch_tokens: {result['recommended_max_batch_tokens']}")
    if cost["batched"] is not None:
        print(
            f"cost per 1,000 SNVs at ${result['price_per_hour']}/h: batched ${cost['batched']:.4f} "
            f"({result['windows_per_snv']:.2f} windows/SNV), original ${cost['original']:.4f}"
        )


if __name__ == "__main__":
    main()
