"""``Evo2Scorer``'s embeddings: layer outputs caught by call-scoped forward hooks, as evo2's own
``Evo2.forward(..., return_embeddings=True, layer_names=...)`` catches them, pooled on the device."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

#: Submodules whose output is not one row per position (rotary tables, the attention cores' packed
#: inputs) are not offered.
EXCLUDED = ("rotary_emb", "inner_attn", "inner_cross_attn")
#: Tokens of the probe pass that finds each layer's width.
PROBE = "ACGTACGTACGTACGT"


def _output(value: Any) -> Any:
    return value[0] if isinstance(value, tuple) else value


@contextmanager
def _catching(model: Any, names: Sequence[str], keep: Any) -> Iterator[None]:
    handles = []
    for name in names:

        def hook(_module: Any, _args: Any, output: Any, name: str = name) -> None:
            keep(name, _output(output))

        handles.append(model.get_submodule(name).register_forward_hook(hook))
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def probe_widths(model: Any, device: str) -> dict[str, int]:
    """Every submodule whose output has one row per position → values per position (one short pass)."""
    import torch

    names = [n for n, _ in model.named_modules() if n and not set(n.split(".")) & set(EXCLUDED)]
    shapes: dict[str, tuple[int, ...]] = {}

    def keep(name: str, output: Any) -> None:
        if isinstance(output, torch.Tensor):
            shapes[name] = tuple(output.shape)

    ids = torch.tensor([list(PROBE.encode("ascii"))], dtype=torch.long, device=device)
    with torch.inference_mode(), _catching(model, names, keep):
        model(ids)
    return {name: math.prod(shape[2:]) for name, shape in shapes.items() if shape[:2] == (1, len(PROBE))}


def default_layer(widths: dict[str, int]) -> str:
    """``blocks.{7/8 of the depth}.mlp.l3`` (``blocks.28.mlp.l3`` for the 7B, evo2's README example)."""
    blocks = sorted({int(n.split(".")[1]) for n in widths if n.startswith("blocks.") and n.count(".") >= 1})
    if blocks:
        name = f"blocks.{(len(blocks) * 7) // 8}.mlp.l3"
        if name in widths:
            return name
        return f"blocks.{blocks[-1]}"
    return next(iter(widths))


def embed_batch(
    model: Any, tokens: np.ndarray, layers: Sequence[str], per_position: bool, device: str
) -> list[dict[str, np.ndarray]]:
    """One forward pass over ``tokens`` (B, L): per row, per layer, float32 means or per-position rows."""
    import torch

    caught: dict[str, np.ndarray] = {}

    def keep(name: str, output: Any) -> None:
        values = output.float().reshape(output.shape[0], output.shape[1], -1)
        if not per_position:
            values = values.mean(dim=1)
        caught[name] = values.cpu().numpy()

    with torch.inference_mode(), _catching(model, layers, keep):
        model(torch.from_numpy(np.ascontiguousarray(tokens, dtype=np.int64)).to(device))
    return [{layer: caught[layer][row] for layer in layers} for row in range(tokens.shape[0])]
