"""Test-only: run the real Evo 2 / Vortex code on a CPU with a tiny random-weight model.

Vortex (``vtx``) cannot be imported on a CPU-only machine, for three reasons this module works
around before the first vortex import (see ``notes/evo2.md``):

1. ``vortex/ops/attn_interface.py`` imports ``flash_attn_2_cuda`` unguarded: an empty stand-in
   module is registered when the real one is absent (it is never called: the tiny model uses
   ``use_flash_attn: False``).
2. ``vortex/ops/embedding/rotary.py`` is a Triton kernel: :func:`apply_rotary` below does the same
   rotation in plain torch and is registered as ``vortex.ops.embedding.rotary``.
3. Vortex wraps block forwards in ``torch.cuda.device(x.device)`` and the HCM filter in
   ``torch.autocast("cuda")``; both are made no-ops for CPU devices, but only as seen from Vortex's
   own modules (they get a thin ``torch`` proxy), never for the rest of the process. Through the
   same proxy Vortex sees no GPU, so it builds models on the CPU even where CUDA is available.

Importing Vortex also configures the root logger and opens ``activations_debug.log`` in the
working directory; the import happens in a temporary directory and both are undone.

Nothing here is used by the service: tests and ``bench/gpu_evo2_7b.py --tiny`` only.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import importlib.util
import logging
import os
import sys
import tempfile
import threading
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from service.scoring.evo2 import Evo2Scorer, module_available

#: Tiny-model sizes (everything else is copied from evo2's ``configs/evo2-7b-8k.yml``).
TINY_SIZES: dict[str, Any] = {
    "hidden_size": 64,
    "num_filters": 64,
    "num_attention_heads": 4,
    "hcl_filter_groups": 64,
    "hcm_filter_groups": 16,
    "hcs_filter_groups": 16,
    "inner_mlp_size": 128,
    "num_layers": 4,
    "hcs_layer_idxs": [0],
    "hcm_layer_idxs": [1],
    "hcl_layer_idxs": [2],
    "attn_layer_idxs": [3],
    "max_seqlen": 8192,
}

#: The 7B's striping in miniature, from ``configs/evo2-7b-1m.yml`` (the service's default model): two of
#: each block in the 7B's order (HCS, HCM, HCL, attention), the interpolated rotary embedding
#: (``use_interpolated_rotary_pos_emb``, scaling factor 128), channel interleave, a 128-tap HCM filter.
STRIPED_SIZES: dict[str, Any] = {
    **TINY_SIZES,
    "num_layers": 8,
    "hcs_layer_idxs": [0, 4],
    "hcm_layer_idxs": [1, 5],
    "hcl_layer_idxs": [2, 6],
    "attn_layer_idxs": [3, 7],
}

#: Tiny layouts: the evo2 config each starts from, and the sizes that replace its own.
LAYOUTS: dict[str, tuple[str, dict[str, Any]]] = {
    "8k": ("evo2-7b-8k.yml", TINY_SIZES),
    "7b-1m": ("evo2-7b-1m.yml", STRIPED_SIZES),
}

#: Switches for a CPU run (no flash-attn, no Transformer Engine, no fused or Triton kernels).
#: ``column_split: False`` makes a save/load round trip through evo2's loader exact (with it,
#: the loader permutes the attention projection rows).
TINY_SWITCHES: dict[str, Any] = {
    "use_flash_attn": False,
    "use_fp8_input_projections": False,
    "use_flashfft": False,
    "use_flash_depthwise": False,
    "use_flash_rmsnorm": False,
    "use_hcs_kernel": False,
    "use_hcm_kernel": False,
    "use_hcl_kernel": False,
    "column_split": False,
    "model_name": "evo2-tiny-cpu-test",
}

_DTYPE_KEYS = ("attn_block_dtype", "hyena_block_dtype", "mlp_dtype", "params_dtype")

#: The evo2 model name the tiny checkpoint borrows when loaded through ``Evo2(name, local_path=...)``.
TINY_LOADER_NAME = "evo2_7b_base"

_install_lock = threading.Lock()
_installed = False


# --------------------------------------------------------------------------- rotary (item 2)


def apply_rotary(
    x: torch.Tensor,
    cos: torch.Tensor,
    sin: torch.Tensor,
    seqlen_offsets: int | torch.Tensor = 0,
    cu_seqlens: torch.Tensor | None = None,
    max_seqlen: int | None = None,
    interleaved: bool = False,
    inplace: bool = False,
    conjugate: bool = False,
) -> torch.Tensor:
    """Plain-torch version of Vortex's Triton ``apply_rotary`` (same signature and semantics).

    x: (batch, seqlen, nheads, headdim), or (total_seqlen, nheads, headdim) with ``cu_seqlens``.
    cos, sin: (seqlen_ro, rotary_dim / 2). Only the first ``rotary_dim`` channels are rotated;
    positions at or beyond ``seqlen_ro`` are left unrotated (the kernel's masked loads).
    The rotation is computed in float32 and stored in ``x.dtype``, as the kernel does.
    """
    half = cos.shape[-1]
    ro_dim = 2 * half
    if ro_dim > x.shape[-1]:
        raise ValueError("rotary_dim must be <= headdim")
    if cos.shape != sin.shape:
        raise ValueError("cos and sin must have the same shape")
    seqlen_ro = cos.shape[0]
    device = x.device

    if cu_seqlens is None:
        batch, seqlen = x.shape[0], x.shape[1]
        base = torch.arange(seqlen, device=device)[None, :].expand(batch, seqlen)
        if isinstance(seqlen_offsets, torch.Tensor):
            positions = base + seqlen_offsets.to(device=device, dtype=torch.long)[:, None]
        else:
            positions = base + int(seqlen_offsets)
    else:
        bounds = cu_seqlens.tolist()
        offsets = (
            seqlen_offsets.tolist()
            if isinstance(seqlen_offsets, torch.Tensor)
            else [int(seqlen_offsets)] * (len(bounds) - 1)
        )
        positions = torch.cat(
            [
                torch.arange(end - start, device=device) + offset
                for start, end, offset in zip(bounds[:-1], bounds[1:], offsets, strict=True)
            ]
        )

    inside = positions < seqlen_ro
    index = positions.clamp(max=seqlen_ro - 1)
    c = torch.where(inside[..., None], cos.float()[index], torch.ones((), device=device))
    s = torch.where(inside[..., None], sin.float()[index], torch.zeros((), device=device))
    c, s = c.unsqueeze(-2), s.unsqueeze(-2)  # broadcast over heads
    if conjugate:
        s = -s

    xf = x[..., :ro_dim].float()
    if interleaved:
        x0, x1 = xf[..., 0::2], xf[..., 1::2]
        rotated = torch.stack((x0 * c - x1 * s, x0 * s + x1 * c), dim=-1).flatten(-2)
    else:
        x0, x1 = xf[..., :half], xf[..., half:]
        rotated = torch.cat((x0 * c - x1 * s, x0 * s + x1 * c), dim=-1)

    out = x if inplace else x.clone()
    out[..., :ro_dim] = rotated.to(x.dtype)
    return out


# --------------------------------------------------------------------------- torch proxy (item 3)


def _is_cpu_device(device: Any) -> bool:
    if isinstance(device, torch.device):
        return device.type != "cuda"
    if isinstance(device, str):
        return torch.device(device).type != "cuda"
    return False  # an int or None: a CUDA ordinal


class _CpuTolerantCudaDevice:
    """``torch.cuda.device`` that does nothing for a CPU device and delegates otherwise."""

    def __init__(self, device: Any) -> None:
        self._inner = None if _is_cpu_device(device) else torch.cuda.device(device)

    def __enter__(self) -> None:
        if self._inner is not None:
            self._inner.__enter__()

    def __exit__(self, *exc: object) -> None:
        if self._inner is not None:
            self._inner.__exit__(*exc)


def _cpu_tolerant_autocast(device_type: str, *args: Any, **kwargs: Any) -> Any:
    if device_type == "cuda" and not torch.cuda.is_available():
        return contextlib.nullcontext()
    return torch.autocast(device_type, *args, **kwargs)


class _ProxyModule(types.ModuleType):
    """A module that overrides a few attributes and delegates the rest to ``target``."""

    def __init__(self, name: str, target: types.ModuleType, **overrides: Any) -> None:
        super().__init__(name)
        self._target = target
        self.__dict__.update(overrides)

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._target, attr)


def _vortex_torch() -> types.ModuleType:
    # Vortex also sees no GPU, so the tiny model is built on the CPU even on a machine with one.
    cuda = _ProxyModule("torch.cuda", torch.cuda, device=_CpuTolerantCudaDevice, is_available=lambda: False)
    return _ProxyModule("torch", torch, cuda=cuda, autocast=_cpu_tolerant_autocast)


# --------------------------------------------------------------------------- install


@contextlib.contextmanager
def _quiet_vortex_import() -> Iterator[None]:
    """Import-time side effects of ``vortex.logging``: undo the root logger setup, keep no log file."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="vortex-import-") as tmp:
        os.chdir(tmp)
        try:
            yield
        finally:
            os.chdir(cwd)
            for handler in list(root.handlers):
                if handler not in handlers:
                    root.removeHandler(handler)
                    handler.close()
            root.setLevel(level)
    for name in ("StripedHyena", "vortex"):
        logging.getLogger(name).setLevel(logging.WARNING)


def install_cpu_shim() -> None:
    """Make ``vortex`` and ``evo2.models`` importable and runnable on a CPU. Idempotent."""
    global _installed
    with _install_lock:
        if _installed:
            return
        if not module_available("flash_attn_2_cuda"):
            sys.modules["flash_attn_2_cuda"] = types.ModuleType("flash_attn_2_cuda")
        with _quiet_vortex_import():
            import vortex.logging  # the import with side effects
            import vortex.ops.embedding as embedding_pkg

            rotary = types.ModuleType("vortex.ops.embedding.rotary")
            rotary.__doc__ = "Plain-torch rotary embedding (tests.support.evo2_cpu)."
            rotary.apply_rotary = apply_rotary  # type: ignore[attr-defined]
            sys.modules["vortex.ops.embedding.rotary"] = rotary
            embedding_pkg.rotary = rotary

            import vortex.model.engine
            import vortex.model.model
            import vortex.model.utils

            proxy = _vortex_torch()
            for module in (vortex.model.engine, vortex.model.model, vortex.model.utils):
                module.torch = proxy
        _installed = True


# --------------------------------------------------------------------------- tiny model


def _evo2_dir() -> Path:
    """The installed evo2 package directory, found without importing evo2 (its __init__ imports vortex)."""
    spec = importlib.util.find_spec("evo2")
    assert spec is not None and spec.submodule_search_locations, "evo2 is not installed"
    return Path(next(iter(spec.submodule_search_locations)))


def tiny_config(layout: str = "8k") -> dict[str, Any]:
    """evo2's config of ``layout`` (``LAYOUTS``) with only sizes changed, CPU switches, float32 blocks."""
    import yaml

    source, sizes = LAYOUTS[layout]
    config: dict[str, Any] = yaml.safe_load((_evo2_dir() / "configs" / source).read_text())
    config.update(copy.deepcopy(sizes))
    config.update(TINY_SWITCHES)
    for key in _DTYPE_KEYS:
        config[key] = torch.float32
    return config


def tame_random_init(model: torch.nn.Module, seed: int = 0) -> None:
    """Vortex's random init lets half the IIR poles grow; redraw the filters so L = 8,192 stays finite.

    log_poles in (-0.5, 0), residues ~ 0.1 N(0,1), HCM/HCS filters ~ 0.05 N, short filters ~ 0.3 N,
    embeddings ~ 0.1 N (logits of order 1). Finally every parameter is rounded to a bfloat16 value,
    so that evo2's loader (which stores most weights in bfloat16) round-trips the model exactly.
    """
    gen = torch.Generator().manual_seed(seed + 1)

    def normal(like: torch.Tensor, scale: float) -> torch.Tensor:
        return (scale * torch.randn(like.shape, generator=gen)).to(like.dtype)

    with torch.no_grad():
        for name, param in model.named_parameters():
            leaf = name.rsplit(".", 1)[-1]
            if leaf == "log_poles":
                draw = -(0.01 + 0.49 * torch.rand(param.shape, generator=gen))
                param.copy_(draw.to(param.dtype))
            elif leaf == "residues":
                param.copy_(normal(param, 0.1))
            elif name.endswith("filter.h"):
                param.copy_(normal(param, 0.05))
            elif leaf == "short_filter_weight":
                param.copy_(normal(param, 0.3))
            elif name.startswith("embedding_layer."):
                param.copy_(normal(param, 0.1))
            param.copy_(param.to(torch.bfloat16).to(param.dtype))


def _build_tiny(seed: int, layout: str) -> torch.nn.Module:
    install_cpu_shim()
    from vortex.model.model import StripedHyena
    from vortex.model.utils import dotdict

    torch.manual_seed(seed)
    with _quiet_stderr():
        model = StripedHyena(dotdict(tiny_config(layout)))
    model = model.float().eval()
    tame_random_init(model, seed)
    return model


@functools.lru_cache(maxsize=4)
def build_tiny_model(seed: int = 0, layout: str = "8k") -> torch.nn.Module:
    """The tiny StripedHyena, float32, eval mode: ``8k``: 4 layers (HCS, HCM, HCL, attention; hidden 64);
    ``7b-1m``: the 7B's layer types and striping in 8 layers (``STRIPED_SIZES``).

    Cached per process, seed and layout: treat the returned module as read-only.
    """
    return _build_tiny(seed, layout)


def tiny_scorer(seed: int = 0, max_batch_tokens: int = 65536) -> Evo2Scorer:
    """An :class:`Evo2Scorer` around the (shared, cached) tiny model, on the CPU."""
    model = build_tiny_model(seed)
    from vortex.model.tokenizer import CharLevelTokenizer

    return Evo2Scorer(
        model,
        CharLevelTokenizer(512),
        name="evo2-tiny",
        device="cpu",
        max_batch_tokens=max_batch_tokens,
        max_length=int(TINY_SIZES["max_seqlen"]),
    )


# --------------------------------------------------------------------------- checkpoints


def save_tiny_checkpoint(path: str | os.PathLike[str], seed: int = 0) -> Path:
    """Save the tiny model's state dict where ``Evo2(name, local_path=path)`` can load it."""
    path = Path(path)
    state = {k: v.detach().clone() for k, v in build_tiny_model(seed).state_dict().items()}
    torch.save(state, path)
    return path


def write_tiny_yaml(path: str | os.PathLike[str]) -> Path:
    """The tiny config as evo2's loader reads it (YAML cannot hold torch dtypes: they are left out)."""
    import yaml

    config = {k: v for k, v in tiny_config().items() if k not in _DTYPE_KEYS}
    path = Path(path)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


@contextlib.contextmanager
def tiny_loader_config(name: str = TINY_LOADER_NAME) -> Iterator[str]:
    """Point ``evo2.models.CONFIG_MAP[name]`` at the tiny YAML while the block runs; yields ``name``.

    evo2 reads configs with ``pkgutil.get_data("evo2.models", path)``, which only accepts a path
    relative to the evo2 package, so the tiny YAML is referenced by a relative path.
    """
    install_cpu_shim()
    import evo2.models

    with tempfile.TemporaryDirectory(prefix="evo2-tiny-config-") as tmp:
        yaml_path = write_tiny_yaml(Path(tmp) / "evo2-tiny.yml")
        relative = os.path.relpath(yaml_path.resolve(), Path(evo2.models.__file__).resolve().parent)
        config_map = evo2.models.CONFIG_MAP
        previous = config_map[name]
        config_map[name] = relative
        try:
            yield name
        finally:
            config_map[name] = previous


def load_tiny_evo2(path: str | os.PathLike[str]) -> Any:
    """Load a tiny checkpoint through evo2's real ``Evo2(name, local_path=...)``; blocks made float32."""
    with tiny_loader_config() as name:
        import evo2.models

        with _quiet_stderr(), contextlib.redirect_stdout(_Sink()):
            evo = evo2.models.Evo2(name, local_path=str(path))
    evo.model = evo.model.float().eval()
    return evo


# --------------------------------------------------------------------------- helpers


class _Sink:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Vortex draws a tqdm bar over the layers while building; keep it off the test output."""
    with contextlib.redirect_stderr(_Sink()):
        yield


def random_dna(length: int, seed: int, alphabet: str = "ACGT") -> str:
    """A reproducible random DNA string."""
    rng = np.random.default_rng(seed)
    letters = np.frombuffer(alphabet.encode("ascii"), dtype=np.uint8)
    return rng.choice(letters, size=length).tobytes().decode("ascii")
