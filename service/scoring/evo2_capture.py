"""The prefix states of ``evo2_state``, taken from a forward pass over the reference windows.

``capture_states`` runs Vortex's own forward (its logits are exactly ``model(input_ids)``'s) with
hooks on each Hyena filter and each attention core: a hook sees the layer's input for the whole
batch and reduces it, there and then, to the state at every requested position (the FIR histories,
the long filter's modal state, the keys and values before the position). Nothing else of the pass is
kept, and the hooks are removed when the call returns. ``forward`` takes the same states from this
project's own walk (``evo2_state``), float64 throughout for a float64 model.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch

from service.scoring.evo2_state import (
    AttentionState,
    BlockState,
    HyenaState,
    PrefixState,
    block_kinds,
    gates,
    modal_parameters,
    short_fir,
    walk,
    work_dtype,
    zeros_before,
)

#: Positions of the long filter's state advanced per step (bounds memory: rows × channels × poles ×
#: this many decay factors, and rows × 3 channels × this many inputs).
STATE_STEP = 512


# --------------------------------------------------------------------------- Hyena states


def _history(z: torch.Tensor, p: int, length: int) -> torch.Tensor:
    """z (R, L, C) at positions [p - length, p), channels first, zeros before 0: (R, C, length)."""
    seg = z[:, max(0, p - length) : p].transpose(1, 2)
    return torch.cat([zeros_before(seg, length - seg.shape[-1]), seg], dim=-1)


def _x1v(f: Any, z: torch.Tensor, start: int, end: int) -> torch.Tensor:
    """x1·v at positions [start, end) from the filter's input z (R, L, 3D): (R, D, end - start)."""
    history = _history(z, start, f.short_filter_length - 1)
    _, x1, v = gates(f, short_fir(f, z[:, start:end].transpose(1, 2), history))
    return x1 * v


def _inner_history(f: Any, z: torch.Tensor, p: int) -> torch.Tensor:
    length = f.fir_inner_filter_length - 1
    x1v = _x1v(f, z, max(0, p - length), p)
    return torch.cat([zeros_before(x1v, length - x1v.shape[-1]), x1v], dim=-1)


def _modal_states(f: Any, z: torch.Tensor, stops: Sequence[int]) -> Iterator[tuple[int, torch.Tensor]]:
    """The long filter's state S(p) = Σ_{τ<p} exp(λ (p-1-τ)) x1v[τ] of every row at each stop, in one
    sweep over the positions (R, D, poles each)."""
    work = work_dtype(z.dtype)
    log_poles, _ = modal_parameters(f, work)
    state = z.new_zeros(z.shape[0], *log_poles.shape, dtype=work)
    done = 0
    for p in sorted(set(stops)):
        while done < p:
            step = min(STATE_STEP, p - done)
            x1v = _x1v(f, z, done, done + step).to(work)
            ages = torch.arange(step - 1, -1, -1, device=z.device, dtype=work)
            decay = (log_poles[..., None] * ages).exp()  # (D, poles, step)
            state = state * (log_poles * step).exp() + torch.einsum("bdt,dst->bds", x1v, decay)
            done += step
        yield p, state.clone()


def hyena_states(f: Any, z: torch.Tensor, positions: Sequence[Sequence[int]]) -> list[dict[int, HyenaState]]:
    """Each row's Hyena state at each of ``positions[row]`` from the filter's input z (B, L, 3D)."""
    by_position: dict[int, list[int]] = {}
    for row, wanted in enumerate(positions):
        for p in wanted:
            by_position.setdefault(p, []).append(row)
    out: list[dict[int, HyenaState]] = [{} for _ in positions]
    short = f.short_filter_length - 1
    if f.fir_inner_filter_length:
        for p, rows in by_position.items():
            picked = z[rows]
            inner, history = _inner_history(f, picked, p), _history(picked, p, short)
            for i, row in enumerate(rows):
                out[row][p] = HyenaState(history[i : i + 1], inner[i : i + 1], None)
        return out
    users = sorted({row for rows in by_position.values() for row in rows})
    picked = z[users]
    for p, modal in _modal_states(f, picked, list(by_position)):
        history = _history(picked, p, short)
        for i, row in enumerate(users):
            if row in by_position[p]:
                out[row][p] = HyenaState(history[i : i + 1], None, modal[i : i + 1])
    return out


# --------------------------------------------------------------------------- collecting


class _Capture:
    """Collects, per row, each block's state at the row's positions as the layers' inputs go by."""

    def __init__(self, positions: Sequence[Sequence[int]], num_blocks: int) -> None:
        self.positions = [sorted(set(p)) for p in positions]
        self.blocks: list[list[dict[int, BlockState]]] = [[{} for _ in range(num_blocks)] for _ in positions]

    def hyena(self, index: int, f: Any, z: torch.Tensor) -> None:
        if any(self.positions):
            for row, states in enumerate(hyena_states(f, z, self.positions)):
                self.blocks[row][index] = dict(states)

    def attention(self, index: int, k: torch.Tensor, v: torch.Tensor) -> None:
        for row, wanted in enumerate(self.positions):
            if wanted:
                # One copy up to the last position; the states at earlier positions are views of it.
                keys, values = k[row : row + 1, : wanted[-1]].clone(), v[row : row + 1, : wanted[-1]].clone()
                self.blocks[row][index] = {p: AttentionState(keys[:, :p], values[:, :p]) for p in wanted}

    def states(self) -> list[dict[int, PrefixState]]:
        return [
            {p: PrefixState(p, [block[p] for block in per_block]) for p in wanted}
            for wanted, per_block in zip(self.positions, self.blocks, strict=True)
        ]


@contextmanager
def _hooks(model: Any, capture: _Capture) -> Iterator[None]:
    handles = []
    for index, (block, kind) in enumerate(zip(model.blocks, block_kinds(model), strict=True)):
        if kind == "attention":

            def on_attention(_module: Any, args: tuple[Any, ...], index: int = index) -> None:
                qkv = args[0]  # (B, L, 3, H, d), rotary embedding applied
                capture.attention(index, qkv[:, :, 1], qkv[:, :, 2])

            handles.append(block.inner_mha_cls.inner_attn.register_forward_pre_hook(on_attention))
        else:

            def on_filter(module: Any, args: tuple[Any, ...], index: int = index) -> None:
                capture.hyena(index, module, args[0])

            handles.append(block.filter.register_forward_pre_hook(on_filter))
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def _check(input_ids: torch.Tensor, positions: Sequence[Sequence[int]]) -> None:
    if len(positions) != input_ids.shape[0]:
        raise ValueError(f"{len(positions)} position lists for {input_ids.shape[0]} rows")
    for row, wanted in enumerate(positions):
        bad = [p for p in wanted if not 0 < p < input_ids.shape[1]]
        if bad:
            raise ValueError(f"row {row}: positions {bad} outside 1..{input_ids.shape[1] - 1}")


def capture_states(
    model: Any, input_ids: torch.Tensor, positions: Sequence[Sequence[int]]
) -> tuple[torch.Tensor, list[dict[int, PrefixState]]]:
    """Vortex's own forward pass over ``input_ids`` (B, L) (logits exactly as ``model(input_ids)``) and,
    per row, every block's state at each of ``positions[row]`` (1 ≤ p < L)."""
    _check(input_ids, positions)
    capture = _Capture(positions, len(model.blocks))
    with _hooks(model, capture):
        output = model(input_ids)
    logits: torch.Tensor = output[0] if isinstance(output, tuple) else output
    return logits, capture.states()


def forward(
    model: Any, input_ids: torch.Tensor, positions: Sequence[Sequence[int]] | None = None
) -> tuple[torch.Tensor, list[dict[int, PrefixState]]]:
    """This project's full pass from position 0 (logits (B, L, vocab)) and, per row, the state at each of
    ``positions[row]``. In float64 it is float64 throughout (the reference of the exactness tests)."""
    wanted = positions if positions is not None else [[] for _ in range(input_ids.shape[0])]
    _check(input_ids, wanted)
    capture = _Capture(wanted, len(model.blocks))
    logits = walk(model, input_ids, None, capture=capture)
    return logits, capture.states()
