"""The GPU types Modal offers and whether Evo 2 7B can run on each. Plain data.

evo2's configs use flash-attn 2 and bfloat16, which need compute capability 8.0 (Ampere) or later;
a T4 (7.5) would deploy and then fail at the first forward pass, so :func:`check_gpu` refuses it
before anything is deployed. Memory is per GPU as CUDA reports it (GiB). Prices are Modal's list
prices seen for the types marked (USD per GPU-hour; check modal.com/pricing); ``None`` means no
price is recorded here and cost estimates say so.
"""

from __future__ import annotations

from dataclasses import dataclass

#: flash-attn 2 and bfloat16 matmuls need Ampere (sm80) or later.
MIN_COMPUTE_CAPABILITY: tuple[int, int] = (8, 0)


@dataclass(frozen=True)
class GpuType:
    name: str
    compute_capability: tuple[int, int]
    memory_gib: float
    usd_per_hour: float | None = None
    #: Dense (no sparsity) bfloat16 tensor-core peak, TFLOP/s, from NVIDIA's datasheets: the MFU
    #: denominator of bench/gpu_evo2_7b.py.
    bf16_dense_tflops: float | None = None


GPU_TYPES: dict[str, GpuType] = {
    gpu.name: gpu
    for gpu in (
        GpuType("T4", (7, 5), 15, bf16_dense_tflops=None),
        GpuType("L4", (8, 9), 22, bf16_dense_tflops=121),
        GpuType("A10", (8, 6), 22, bf16_dense_tflops=125),
        GpuType("A10G", (8, 6), 22, bf16_dense_tflops=70),
        GpuType("L40S", (8, 9), 44, 1.95, bf16_dense_tflops=362),
        GpuType("A100", (8, 0), 39, bf16_dense_tflops=312),
        GpuType("A100-40GB", (8, 0), 39, bf16_dense_tflops=312),
        GpuType("A100-80GB", (8, 0), 79, 2.50, bf16_dense_tflops=312),
        GpuType("H100", (9, 0), 79, 3.95, bf16_dense_tflops=989),
        GpuType("H200", (9, 0), 139, 4.54, bf16_dense_tflops=989),
        GpuType("B200", (10, 0), 178, bf16_dense_tflops=2250),
    )
}


def parse_gpu(text: str) -> tuple[GpuType, int]:
    """``"H100"``, ``"H100!"`` (no upgrade), ``"A100-80GB:2"`` → (type, count). ``ValueError`` if unknown."""
    name, _, count_text = text.strip().partition(":")
    name = name.rstrip("!").upper()
    gpu = GPU_TYPES.get(name)
    if gpu is None:
        raise ValueError(f"unknown GPU type {text!r}; Modal's types: {', '.join(GPU_TYPES)}")
    if count_text and not (count_text.isdigit() and 1 <= int(count_text) <= 8):
        raise ValueError(f"GPU count in {text!r} must be 1..8")
    return gpu, int(count_text or 1)


def check_gpu(text: str, *, min_memory_gib: float) -> tuple[GpuType, int]:
    """The GPU type and count, refused when flash-attn/bf16 cannot run there or the model does not fit."""
    gpu, count = parse_gpu(text)
    if gpu.compute_capability < MIN_COMPUTE_CAPABILITY:
        have = ".".join(map(str, gpu.compute_capability))
        raise ValueError(
            f"GPU {gpu.name} (compute capability {have}) cannot run Evo 2: flash-attn 2 and bfloat16 "
            "need 8.0 or later (A10, L4, L40S, A100, H100, H200, B200)"
        )
    if gpu.memory_gib * count < min_memory_gib:
        raise ValueError(
            f"{count} × {gpu.name} ({gpu.memory_gib * count:.0f} GiB) is below the model's "
            f"{min_memory_gib:.0f} GiB"
        )
    return gpu, count
