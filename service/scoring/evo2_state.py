"""Prefix-state continuation for Evo 2: a chunk scored from the state its prefix left, in parallel.

Evo 2 (a Vortex ``StripedHyena``) is causal, and each of its layer types has a small state that
carries a prefix's effect into the positions after it:

* every Hyena block's **short FIR** (length 3, on the input projections): its last two inputs;
* the **HCS / HCM inner FIR** (length 7 / 128): the last 6 / 127 values of ``x1 * v``;
* the **HCL long filter**, an IIR in modal form, ``h[t] = Σ_s R_s exp(λ_s t)``: one number per channel
  and pole, ``S_s(p) = Σ_{τ<p} exp(λ_s (p-1-τ)) x1v[τ]``; the prefix adds ``Σ_s R_s S_s exp(λ_s (k+1))``
  to output ``p + k``;
* **attention**: the keys and values of the prefix (after the rotary embedding), with the chunk's
  queries and keys rotated from position ``p``.

Vortex keeps these states for generation but advances them one token at a time. Here a whole chunk
``x[p:p+n]`` runs at once: the FIRs over ``history + chunk``, the long filter as an FFT over the chunk
plus the prefix term, attention with a causal mask shifted by ``p``. Vortex's own modules do all the
position-wise work (norms, projections, MLPs, embedding, unembedding); only the mixing along the
sequence is written here, mirroring Vortex's arithmetic (float32 FFTs and FIRs for float32 and
bfloat16 blocks) and keeping float64 all the way when the model is float64, where Vortex casts to
float32.

States come from Vortex's own forward pass over the reference (``evo2_capture``). ``walk`` from
position 0 is a full pass in this module's arithmetic (the float64 reference of the tests).

Only the configurations evo2 ships are covered (``unsupported_reason`` says why another is not).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import torch
import torch.nn.functional as F
from torch.nn.attention.bias import causal_lower_right


@dataclass
class HyenaState:
    """A Hyena block's state at position ``p`` (batch first)."""

    short: torch.Tensor  #: (B, 3D, short_len - 1): the filter's input at p - 2, p - 1 (channels first)
    inner: torch.Tensor | None  #: (B, D, inner_len - 1): x1·v before p (HCS, HCM)
    modal: torch.Tensor | None  #: (B, D, poles): the long filter's modal state at p (HCL), work dtype


@dataclass
class AttentionState:
    """Keys and values of positions 0..p-1, rotary embedding applied: (B, p, heads, head_dim)."""

    k: torch.Tensor
    v: torch.Tensor


BlockState = HyenaState | AttentionState


@dataclass
class PrefixState:
    """Every block's state after the first ``offset`` tokens, for a batch of rows."""

    offset: int
    blocks: list[BlockState]

    @property
    def rows(self) -> int:
        first = self.blocks[0]
        return int((first.short if isinstance(first, HyenaState) else first.k).shape[0])

    @property
    def nbytes(self) -> int:
        return sum(_nbytes(t) for block in self.blocks for t in _tensors(block))

    @staticmethod
    def cat(states: Sequence[PrefixState]) -> PrefixState:
        """Rows of several states with the same offset, in order."""
        offsets = {s.offset for s in states}
        if len(offsets) != 1:
            raise ValueError(f"states at different offsets cannot be batched: {sorted(offsets)}")
        blocks: list[BlockState] = []
        for parts in zip(*(s.blocks for s in states), strict=True):
            if isinstance(parts[0], HyenaState):
                hyena = [p for p in parts if isinstance(p, HyenaState)]
                blocks.append(
                    HyenaState(
                        torch.cat([p.short for p in hyena]),
                        _cat_optional([p.inner for p in hyena]),
                        _cat_optional([p.modal for p in hyena]),
                    )
                )
            else:
                attention = [p for p in parts if isinstance(p, AttentionState)]
                blocks.append(
                    AttentionState(torch.cat([p.k for p in attention]), torch.cat([p.v for p in attention]))
                )
        return PrefixState(offsets.pop(), blocks)


def _tensors(block: BlockState) -> list[torch.Tensor]:
    if isinstance(block, AttentionState):
        return [block.k, block.v]
    return [t for t in (block.short, block.inner, block.modal) if t is not None]


def _nbytes(tensor: torch.Tensor) -> int:
    return tensor.numel() * tensor.element_size()


def _cat_optional(parts: Sequence[torch.Tensor | None]) -> torch.Tensor | None:
    present = [p for p in parts if p is not None]
    return torch.cat(present) if present else None


def work_dtype(dtype: torch.dtype) -> torch.dtype:
    """The arithmetic dtype of the sequence mixing: float32 for float32 / bfloat16 blocks (as Vortex),
    float64 for float64 blocks."""
    return torch.promote_types(dtype, torch.float32)


# --------------------------------------------------------------------------- which models


def block_kinds(model: Any) -> list[str]:
    from vortex.model.model import AttentionBlock, HyenaCascade, ParallelGatedConvBlock

    kinds = []
    for block in model.blocks:
        if isinstance(block, AttentionBlock):
            kinds.append("attention")
        elif isinstance(block, ParallelGatedConvBlock) and isinstance(block.filter, HyenaCascade):
            kinds.append("fir" if block.filter.fir_inner_filter_length else "iir")
        else:
            kinds.append(type(block).__name__)
    return kinds


def unsupported_reason(model: Any) -> str | None:
    """Why continuation cannot run on ``model`` exactly (``None`` when it can)."""
    try:
        kinds = block_kinds(model)
    except (AttributeError, ImportError) as exc:
        return f"not a Vortex StripedHyena model ({exc})"
    for block, kind in zip(model.blocks, kinds, strict=True):
        if kind == "attention":
            reason = _attention_unsupported(block.inner_mha_cls)
        elif kind in ("fir", "iir"):
            reason = _hyena_unsupported(block.filter, kind)
        else:
            reason = f"block type {kind} is not covered"
        if reason is not None:
            return f"block {block.layer_idx}: {reason}"
    return None


def _attention_unsupported(mha: Any) -> str | None:
    if mha.cross_attn or mha.dwconv or mha.num_heads_kv != mha.num_heads:
        return "attention with cross-attention, dwconv or grouped keys"
    if mha.rotary_emb_dim <= 0 or getattr(mha.rotary_emb, "scale", None) is not None:
        return "attention without a plain rotary embedding"
    return None


def _hyena_unsupported(f: Any, kind: str) -> str | None:
    if f.column_split_hyena:
        return "column_split_hyena"
    if kind == "iir" and (f.long_fir_threshold is not None or f.num_systems != f.hidden_size):
        return "a long filter truncated (long_fir_threshold) or shared across channels"
    return None


# --------------------------------------------------------------------------- Hyena pieces


#: Filters with at least this many taps run as an FFT convolution (as Vortex runs its 128-tap HCM
#: filter); shorter ones as shifted multiply-adds (conv1d is slow for depthwise filters on CPUs).
FFT_TAPS = 32


def causal_fir(extended: torch.Tensor, taps: torch.Tensor) -> torch.Tensor:
    """Depthwise causal FIR, valid outputs only: extended (B, C, K - 1 + n) holds K - 1 inputs of history,
    taps (C, K) with tap 0 on the current input; returns (B, C, n) in ``extended``'s dtype."""
    k = taps.shape[-1]
    n = extended.shape[-1] - (k - 1)
    if k >= FFT_TAPS:
        size = 2 * extended.shape[-1]
        spectrum = torch.fft.rfft(taps, n=size) / size
        y: torch.Tensor = torch.fft.irfft(torch.fft.rfft(extended, n=size) * spectrum, n=size, norm="forward")
        return y[..., k - 1 : k - 1 + n]
    y = taps[:, :1] * extended[..., k - 1 :]
    for j in range(1, k):
        y = y + taps[:, j : j + 1] * extended[..., k - 1 - j : k - 1 - j + n]
    return y


def short_fir(f: Any, z: torch.Tensor, history: torch.Tensor) -> torch.Tensor:
    """The short FIR over ``history + z``: (B, 3D, n) for z (B, 3D, n), history (B, 3D, len - 1)."""
    work = work_dtype(z.dtype)
    extended = torch.cat([history.to(z.dtype), z], dim=-1).to(work)
    # Vortex runs it through conv1d, whose weight puts its last tap on the current input.
    out = causal_fir(extended, f.short_filter_weight[:, 0].flip(-1).to(work)).to(z.dtype)
    if f.short_filter_bias is not None:
        out = out + f.short_filter_bias[None, :, None]
    return out


def gates(f: Any, z_pre: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """x2, x1, v from the short FIR's output (after Vortex's channel interleave)."""
    from vortex.model.utils import interleave

    if f.config.interleave:
        z_pre = interleave(z_pre)
    x2, x1, v = z_pre.chunk(3, dim=1)  # hidden_size channels each
    if f.hyena_flip_x1x2:
        x1, x2 = x2, x1
    return x2, x1, v


def _inner_fir(f: Any, x1v: torch.Tensor, history: torch.Tensor) -> torch.Tensor:
    """HCS / HCM: the inner FIR of ``x1v`` (B, D, n) continued from ``history`` (B, D, len - 1)."""
    h = f.h[:, 0].repeat_interleave(f.hidden_size // f.hyena_filter_groups, 0)
    # Vortex runs filters of 128+ taps as an FFT convolution (tap 0 on the current input, a gated
    # bias) and shorter ones through conv1d (the last tap on the current input).
    long = f.fir_inner_filter_length >= 128
    work = work_dtype(x1v.dtype)
    extended = torch.cat([history.to(x1v.dtype), x1v], dim=-1).to(work)
    y = causal_fir(extended, (h if long else h.flip(-1)).to(work))
    bias = f.D
    if long:
        gated: torch.Tensor = (y + x1v.to(work) * bias.to(work)[:, None]).to(x1v.dtype)
        return gated
    y = y.to(x1v.dtype)
    if bias is not None:
        y = y + bias[None, :, None]
    return y


def modal_parameters(f: Any, work: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """The long filter's log-poles and residues, (D, poles) each, in ``work``."""
    return f.log_poles[..., 0].to(work), f.residues.to(work)


def _long_filter(f: Any, x1v: torch.Tensor, state: torch.Tensor | None) -> torch.Tensor:
    """HCL: the long filter over ``x1v`` (B, D, n), plus the prefix's modal ``state`` (B, D, poles)."""
    n = x1v.shape[-1]
    work = work_dtype(x1v.dtype)
    log_poles, residues = modal_parameters(f, work)
    t = torch.arange(n + 1, device=x1v.device, dtype=work)
    decay = (log_poles[..., None] * t).exp()  # (D, poles, n + 1)
    h = (residues[..., None] * decay[..., :n]).sum(1)  # Vortex's compute_filter
    fft_size = 2 * n
    spectrum = torch.fft.rfft(h, n=fft_size) / fft_size
    x_spectrum = torch.fft.fft(x1v.to(work), n=fft_size)[..., : spectrum.shape[-1]]
    y = torch.fft.irfft(x_spectrum * spectrum, n=fft_size, norm="forward")[..., :n]
    if state is not None:
        y = y + torch.einsum("bds,dsn->bdn", state.to(work) * residues, decay[..., 1:])
    out: torch.Tensor = y.to(x1v.dtype)
    return out


def _hyena_mix(f: Any, z: torch.Tensor, state: HyenaState | None) -> torch.Tensor:
    """The Hyena filter (Vortex's ``HyenaCascade``) over z (B, n, 3D) from ``state``: (B, n, D)."""
    zc = z.permute(0, 2, 1)
    short = state.short if state is not None else zeros_before(zc, f.short_filter_length - 1)
    x2, x1, v = gates(f, short_fir(f, zc, short))
    x1v = x1 * v
    if f.fir_inner_filter_length:
        inner = state.inner if state is not None and state.inner is not None else None
        if inner is None:
            inner = zeros_before(x1v, f.fir_inner_filter_length - 1)
        y = x2 * _inner_fir(f, x1v, inner)
    else:
        modal = state.modal if state is not None else None
        y = (_long_filter(f, x1v, modal) + x1v * f.D[:, None]) * x2
    return y.permute(0, 2, 1)


def zeros_before(like: torch.Tensor, length: int) -> torch.Tensor:
    return like.new_zeros(*like.shape[:-1], length)


# --------------------------------------------------------------------------- attention


def _rotate(mha: Any, x: torch.Tensor, offset: int) -> torch.Tensor:
    """Vortex's rotary embedding of x (B, n, H, d) at positions offset.., computed in the work dtype."""
    rotary = mha.rotary_emb
    n = x.shape[1]
    rotary._update_cos_sin_cache(offset + n, device=x.device, dtype=x.dtype)
    work = work_dtype(x.dtype)
    cos = rotary._cos_cached[offset : offset + n].to(work)[:, None]
    sin = rotary._sin_cached[offset : offset + n].to(work)[:, None]
    half = cos.shape[-1]
    xr = x[..., : 2 * half].to(work)
    if rotary.interleaved:
        x0, x1 = xr[..., 0::2], xr[..., 1::2]
        rotated = torch.stack((x0 * cos - x1 * sin, x0 * sin + x1 * cos), dim=-1).flatten(-2)
    else:
        x0, x1 = xr[..., :half], xr[..., half:]
        rotated = torch.cat((x0 * cos - x1 * sin, x0 * sin + x1 * cos), dim=-1)
    return torch.cat([rotated.to(x.dtype), x[..., 2 * half :]], dim=-1)


def _qkv(mha: Any, x: torch.Tensor, offset: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    qkv = mha.Wqkv(x)
    qkv = qkv.reshape(*qkv.shape[:-1], 3, mha.num_heads, mha.head_dim)
    q, k, v = qkv.unbind(dim=-3)
    return _rotate(mha, q, offset), _rotate(mha, k, offset), v


def _attend(mha: Any, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, offset: int) -> torch.Tensor:
    """Causal attention of queries at offset.. over keys 0..: q (B, n, H, d), k, v (B, offset+n, H, d).

    Every query sees all prefix keys and the chunk's keys up to its own: a causal mask aligned to the
    bottom right. On a GPU with flash-attn that is Vortex's own ``FlashCrossAttention`` (flash-attn 2
    aligns causal masks so); on a CPU the prefix (no mask) and the chunk (causal) are two fused
    attentions merged by their log-sum-exps, as a full pass's causal attention costs per query."""
    if offset > 0 and q.is_cuda and mha.use_flash_attn and q.dtype in (torch.float16, torch.bfloat16):
        context: torch.Tensor = mha.inner_cross_attn(q, torch.stack([k, v], dim=2))
        return context
    qh, kh, vh = (t.transpose(1, 2) for t in (q, k, v))
    if offset == 0:
        return F.scaled_dot_product_attention(qh, kh, vh, is_causal=True).transpose(1, 2)
    fused = getattr(torch.ops.aten, "_scaled_dot_product_flash_attention_for_cpu", None)
    if q.is_cuda or fused is None:
        bias = causal_lower_right(q.shape[1], k.shape[1])
        return F.scaled_dot_product_attention(qh, kh, vh, attn_mask=bias).transpose(1, 2)
    before, before_lse = fused(qh, kh[:, :, :offset], vh[:, :, :offset], 0.0, False)[:2]
    within, within_lse = fused(qh, kh[:, :, offset:], vh[:, :, offset:], 0.0, True)[:2]
    top = torch.maximum(before_lse, within_lse)
    w_before, w_within = (before_lse - top).exp()[..., None], (within_lse - top).exp()[..., None]
    merged: torch.Tensor = (before * w_before + within * w_within) / (w_before + w_within)
    return merged.to(q.dtype).transpose(1, 2)


def _after(prefix: torch.Tensor, chunk: torch.Tensor, rows: Sequence[int] | None) -> torch.Tensor:
    """Row ``rows[i]`` of the prefix's keys (or values) followed by row i of the chunk's: one copy."""
    p = prefix.shape[1]
    out = chunk.new_empty(chunk.shape[0], p + chunk.shape[1], *chunk.shape[2:])
    for i in range(chunk.shape[0]):
        out[i, :p] = prefix[rows[i] if rows is not None else i]
    out[:, p:] = chunk
    return out


def _attention_mix(
    mha: Any,
    x: torch.Tensor,
    state: AttentionState | None,
    offset: int,
    rows: Sequence[int] | None = None,
    keep: Any = None,
) -> torch.Tensor:
    """Vortex's MHA over x (B, n, D) at positions offset.. after the prefix's keys and values."""
    q, k, v = _qkv(mha, x, offset)
    if keep is not None:
        keep(k, v)
    if state is not None:
        k, v = _after(state.k, k, rows), _after(state.v, v, rows)
    context = _attend(mha, q, k, v, offset)
    out: torch.Tensor = mha.out_proj(context.reshape(*context.shape[:2], -1))
    return out


# --------------------------------------------------------------------------- the walk


def _device(model: Any, index: int) -> Any:
    devices = getattr(model, "block_idx_to_device", None)
    return devices[index] if devices else None


def walk(
    model: Any,
    input_ids: torch.Tensor,
    state: PrefixState | None,
    rows: Sequence[int] | None = None,
    capture: Any = None,
) -> torch.Tensor:
    """Logits of ``input_ids`` (B, n) continued from ``state`` (offset 0 when None): (B, n, vocab).
    Input row i continues state row ``rows[i]`` (row i without ``rows``)."""
    offset = state.offset if state is not None else 0
    index_rows = None if rows is None else torch.as_tensor(list(rows), device=input_ids.device)
    kinds = block_kinds(model)
    x = model.embedding_layer(input_ids)
    for index, (block, kind) in enumerate(zip(model.blocks, kinds, strict=True)):
        device = _device(model, index)
        if device is not None:
            x = x.to(device)
        block_state = state.blocks[index] if state is not None else None
        if kind == "attention":
            assert block_state is None or isinstance(block_state, AttentionState)
            keep = partial(capture.attention, index) if capture is not None else None
            x = _attention_mix(block.inner_mha_cls, block.pre_norm(x), block_state, offset, rows, keep) + x
            x = block.mlp(block.post_norm(x)) + x
        else:
            assert block_state is None or isinstance(block_state, HyenaState)
            if block_state is not None and index_rows is not None:
                block_state = _select(block_state, index_rows.to(block_state.short.device))
            z = block.proj_norm(x)
            if capture is not None:
                capture.hyena(index, block.filter, z)
            x = block.res_mlp_norm(block.out_filter_dense(_hyena_mix(block.filter, z, block_state)) + x)
    x = x.to(_device(model, 0) or x.device)
    if model.norm is not None:
        x = model.norm(x)
    logits: torch.Tensor = model.unembed(x)
    return logits


def _select(state: HyenaState, rows: torch.Tensor) -> HyenaState:
    def pick(t: torch.Tensor | None) -> torch.Tensor | None:
        return None if t is None else t.index_select(0, rows)

    return HyenaState(state.short.index_select(0, rows), pick(state.inner), pick(state.modal))


def continue_from(
    model: Any, input_ids: torch.Tensor, state: PrefixState, rows: Sequence[int] | None = None
) -> torch.Tensor:
    """Logits of positions ``state.offset ..`` given their tokens (B, n) and the prefix's ``state``:
    input row i continues state row ``rows[i]`` (several alleles share one reference's state)."""
    wanted = list(rows) if rows is not None else list(range(input_ids.shape[0]))
    if len(wanted) != input_ids.shape[0] or not all(0 <= r < state.rows for r in wanted):
        raise ValueError(f"rows {wanted} do not map {input_ids.shape[0]} sequences onto {state.rows} states")
    return walk(model, input_ids, state, wanted)


def state_nbytes_estimate(config: Any, offset: int, *, dtype_bytes: int = 2) -> int:
    """Bytes of one row's state at ``offset`` for a Vortex config whose blocks hold ``dtype_bytes``-byte
    values (2: bfloat16); the modal states are float32 (float64 for a float64 model)."""
    hidden = int(config["hidden_size"])
    hyena = [len(config[k]) for k in ("hcs_layer_idxs", "hcm_layer_idxs", "hcl_layer_idxs")]
    values = len(config["attn_layer_idxs"]) * 2 * offset * hidden
    values += sum(hyena) * (int(config["short_filter_length"]) - 1) * 3 * hidden
    values += hyena[0] * (int(config["hcs_filter_length"]) - 1) * hidden
    values += hyena[1] * (int(config["hcm_filter_length"]) - 1) * hidden
    modal = hyena[2] * hidden * int(config["state_size"]) * max(4, dtype_bytes)
    return values * dtype_bytes + modal
