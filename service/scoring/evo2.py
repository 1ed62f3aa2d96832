"""The Evo 2 scorer: per-position log-probabilities from a Vortex ``StripedHyena`` model.

Runs on a GPU in production (``Evo2Scorer.load``) and on a CPU in tests (a tiny random-weight
model handed to the constructor). torch, evo2 and vortex are imported inside functions only.

Scoring follows ``evo2.scoring`` exactly (no BOS; element ``i`` is ``log p(x[i+1] | x[:i+1])``),
but the reduction is done here from the logits: evo2's ``score_sequences`` runs batch size 1 by
default and, in a batch of unequal lengths, folds ``log p(PAD)`` into shorter sequences' means.
Here sequences are batched by equal length only, so padding never happens.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import numpy as np

from service.errors import InvalidSequence, LimitExceeded, ModelUnavailable, UnknownLayer
from service.scoring.base import ScorerStats
from service.scoring.embed import EmbedJob
from service.scoring.evo2_models import (
    DEFAULT_MODEL,
    FP8_MIN_COMPUTE_CAPABILITY,
    MODELS,
    Evo2ModelSpec,
    get_model_spec,
)
from service.scoring.prefix import GroupLogProbs, PrefixGroup, log_probs_by_windows

#: Retry-After (seconds) of a GPU out-of-memory answer: a retry helps only if other work held the
#: memory at the time; a smaller window is the real fix.
OOM_RETRY_AFTER_S = 30.0

#: Bases the scorer accepts (upper case; one byte per token, as evo2's ``CharLevelTokenizer``).
ALPHABET = "ACGTN"
_ALLOWED = frozenset(ALPHABET)

_OOM_MARKERS = ("out of memory", "cufft_alloc_failed")

T = TypeVar("T")

if TYPE_CHECKING:
    from service.scoring.evo2_kernels import KernelCheck
    from service.scoring.evo2_state_cache import StateCache


def encode_dna(seq: str) -> np.ndarray:
    """Token ids of ``seq``: one uint8 per base (A=65, C=67, G=71, T=84, N=78), no BOS.

    Raises :class:`InvalidSequence` for anything but upper-case A, C, G, T and N.
    """
    bad = sorted(set(seq) - _ALLOWED)
    if bad:
        raise InvalidSequence(
            f"sequence contains characters other than A, C, G, T, N: {''.join(bad[:10])!r}",
            detail={"invalid_characters": bad[:10]},
        )
    return np.frombuffer(seq.encode("ascii"), dtype=np.uint8)


def module_available(name: str) -> bool:
    """Whether ``name`` can be imported here (without importing it)."""
    if name in sys.modules:
        return True
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def unmet_requirements(spec: Evo2ModelSpec, *, device: str, use_kernels: bool = False) -> list[str]:
    """Why ``spec`` cannot be loaded on ``device`` here (empty when it can). Imports torch."""
    problems: list[str] = []
    if not (module_available("evo2") and module_available("vortex")):
        return ["evo2 and vtx are not installed (pip install 'evo2==0.6.0' 'vtx==1.1.0')"]
    if spec.requires_transformer_engine and not module_available("transformer_engine"):
        problems.append(
            f"{spec.name} needs FP8 through NVIDIA Transformer Engine, which is not installed "
            "(the 7B models run without it)"
        )
    if not module_available("flash_attn_2_cuda"):
        problems.append(f"evo2's config for {spec.name} uses flash-attn, which is not installed")
    if use_kernels and not module_available("triton"):
        problems.append("use_kernels needs Triton, which is not installed")

    import torch

    target = torch.device(device)
    if target.type != "cuda":
        return problems
    if not torch.cuda.is_available():
        problems.append(f"device {device!r} requested but CUDA is not available")
        return problems
    if target.index not in (None, 0):
        problems.append(
            "Vortex always places the model on cuda:0 (and spreads it over the other visible GPUs); "
            "choose GPUs with CUDA_VISIBLE_DEVICES instead of device='cuda:N'"
        )
    count = torch.cuda.device_count()
    total_gib = sum(torch.cuda.get_device_properties(i).total_memory for i in range(count)) / 2**30
    if total_gib < spec.min_gpu_memory_gib:
        problems.append(
            f"{spec.name} needs about {spec.min_gpu_memory_gib} GiB of GPU memory "
            f"({spec.gpu_hint}); {count} visible GPU(s) have {total_gib:.0f} GiB"
        )
    if spec.requires_transformer_engine:
        capability = min(torch.cuda.get_device_capability(i) for i in range(count))
        if capability < FP8_MIN_COMPUTE_CAPABILITY:
            need = ".".join(map(str, FP8_MIN_COMPUTE_CAPABILITY))
            have = ".".join(map(str, capability))
            problems.append(f"{spec.name} needs FP8 (compute capability {need}+, Ada/Hopper); GPU has {have}")
    return problems


def picked_log_probs(logits: Any, targets: Any) -> np.ndarray:
    """``log_softmax(logits)[target]`` per position (float32 arithmetic, as float64), without the full
    log-softmax: logits (B, n, vocab), targets (B, n) → (B, n)."""
    logits = logits.float()
    picked = logits.gather(-1, targets.unsqueeze(-1)).squeeze(-1) - logits.logsumexp(dim=-1)
    result: np.ndarray = picked.double().cpu().numpy()
    return result


def _continuation_problem(model: Any) -> str | None:
    try:
        from service.scoring.evo2_state import unsupported_reason
    except ImportError as exc:  # torch missing: no model either
        return str(exc)
    return unsupported_reason(model)


def _is_out_of_memory(exc: BaseException) -> bool:
    import torch

    if isinstance(exc, torch.cuda.OutOfMemoryError):
        return True
    return isinstance(exc, RuntimeError) and any(m in str(exc).lower() for m in _OOM_MARKERS)


class Evo2Scorer:
    """:class:`service.scoring.base.Scorer` backed by an Evo 2 (Vortex ``StripedHyena``) model.

    ``model(input_ids)`` must return ``(logits, ...)`` (or logits) with logits of shape
    ``(batch, length, vocab)``. One lock serialises all model work; ``log_probs`` may be called
    from several threads.
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        name: str,
        device: str,
        max_batch_tokens: int = 65536,
        max_length: int,
        use_kernels: bool = False,
        continuation: bool = True,
        state_cache_bytes: int = 0,
    ) -> None:
        if max_batch_tokens < 1:
            raise ValueError("max_batch_tokens must be at least 1")
        if max_length < 1:
            raise ValueError("max_length must be at least 1")
        self.model = model
        self.tokenizer = tokenizer
        self.name = name
        self.device = str(device)
        self.max_batch_tokens = int(max_batch_tokens)
        self.max_length = int(max_length)
        self.use_kernels = use_kernels
        #: What the kernel check at load found (``None``: the scorer was built around a model directly).
        self.kernel_check: KernelCheck | None = None
        self.stats = ScorerStats()
        #: Serialises all model work (``log_probs`` may be called from several threads).
        self.lock = threading.Lock()
        #: Per sequence length, the largest batch known to fit after an out-of-memory split.
        self._batch_caps: dict[int, int] = {}
        #: Why alternates cannot continue from a reference's state (``None``: they can).
        self.continuation_unavailable = _continuation_problem(model) if continuation else "turned off"
        self.continuation = self.continuation_unavailable is None
        #: References' prefix states kept between calls (``evo2_state_cache``; ``None``: off).
        self.state_cache: StateCache | None = None
        if self.continuation and state_cache_bytes > 0:
            from service.scoring.evo2_state_cache import StateCache

            self.state_cache = StateCache(state_cache_bytes)
        self._widths: dict[str, int] | None = None

    # ------------------------------------------------------------------ construction

    @classmethod
    def load(
        cls,
        model_name: str = DEFAULT_MODEL,
        *,
        local_path: str | os.PathLike[str] | None = None,
        device: str = "cuda:0",
        max_batch_tokens: int = 65536,
        use_kernels: bool | Literal["auto"] = "auto",
        kernel_bound: float = 0.05,
        state_cache_bytes: int = 0,
    ) -> Evo2Scorer:
        """Load ``evo2.models.Evo2(model_name, local_path=...)`` once and wrap it.

        Without ``local_path`` evo2 consults the Hugging Face hub. Requirements (Transformer
        Engine, flash-attn, CUDA, GPU memory, compute capability, Triton for ``use_kernels=True``)
        are checked first: :class:`ModelUnavailable` says what is missing. On CUDA the model keeps
        evo2's dtypes (bfloat16, float32 poles and residues); on a CPU it is cast to float32.
        Vortex's Triton kernels are then checked against the plain path (``evo2_kernels``):
        ``"auto"`` keeps them on only when the log-probs agree within ``kernel_bound``.
        """
        spec = get_model_spec(model_name)
        problems = unmet_requirements(spec, device=device, use_kernels=use_kernels is True)
        if problems:
            raise ModelUnavailable(
                f"{model_name} cannot be loaded here: " + "; ".join(problems),
                detail={"model": model_name, "device": device, "problems": problems},
            )
        if local_path is not None and not os.path.isfile(local_path):
            raise ModelUnavailable(
                f"checkpoint not found: {os.fspath(local_path)}",
                detail={"model": model_name, "path": os.fspath(local_path)},
            )
        try:
            from evo2.models import Evo2
        except ImportError as exc:
            raise ModelUnavailable(f"evo2 cannot be imported: {exc}", detail={"model": model_name}) from exc

        kwargs: dict[str, Any] = {"use_kernels": False}  # switched on below when they pass the check
        if local_path is not None:
            kwargs["local_path"] = os.fspath(local_path)
        try:
            evo = Evo2(model_name, **kwargs)
        except (ImportError, OSError, RuntimeError, ValueError) as exc:
            # A corrupt or mismatched checkpoint, out of memory while loading, a hub failure.
            raise ModelUnavailable(
                f"loading {model_name} failed: {exc}", detail={"model": model_name}
            ) from exc
        model = evo.model.eval()
        first = next(model.parameters()).device
        if first.type != "cuda":
            model = model.float()
        scorer = cls(
            model,
            evo.tokenizer,
            name=model_name,
            device=str(first),
            max_batch_tokens=max_batch_tokens,
            max_length=spec.context_length,
            state_cache_bytes=state_cache_bytes,
        )
        scorer.check_kernels(use_kernels, kernel_bound)
        return scorer

    def check_kernels(self, requested: bool | Literal["auto"], bound: float) -> None:
        """Vortex's Triton kernels on or off as ``evo2_kernels.decide`` finds (reported by describe)."""
        from service.scoring.evo2_kernels import check_sequence, decide

        tokens = encode_dna(check_sequence())[None]
        with self.lock:
            self.kernel_check = decide(
                requested, self.model, self.device, lambda: self._forward(tokens, record=False), bound
            )
        self.use_kernels = self.kernel_check.enabled

    # ------------------------------------------------------------------ Scorer protocol

    def check_sequences(self, seqs: Sequence[str]) -> list[np.ndarray]:
        """Token ids of ``seqs``; ``InvalidSequence`` / ``LimitExceeded`` for one the model cannot take."""
        tokens = [encode_dna(seq) for seq in seqs]
        for seq_tokens in tokens:
            if seq_tokens.size > self.max_length:
                raise LimitExceeded(
                    f"a {seq_tokens.size}-bp sequence exceeds the {self.max_length}-bp context "
                    f"of {self.name}",
                    detail={"length": int(seq_tokens.size), "max_length": self.max_length},
                )
        return tokens

    def log_probs(self, seqs: Sequence[str]) -> list[np.ndarray]:
        """Per-position log-probabilities (float64, length ``len(s) - 1``), in input order.

        Sequences are grouped by length; each group is cut into batches of at most
        ``max_batch_tokens`` tokens (at least one sequence), one forward pass per batch.
        """
        tokens = self.check_sequences(seqs)
        scored: list[np.ndarray] = self._batched([t for t in tokens if t.size >= 2], self._forward_rows)
        rows = iter(scored)
        return [next(rows) if t.size >= 2 else np.zeros(0, dtype=np.float64) for t in tokens]

    def _batched(self, tokens: list[np.ndarray], run: Callable[[np.ndarray], Sequence[T]]) -> list[T]:
        """``run`` over batches of equal-length token arrays (``batch_size`` rows at most, halved on
        out-of-memory), one result per array, in input order."""
        results: dict[int, T] = {}
        groups: dict[int, list[int]] = {}
        for index, seq_tokens in enumerate(tokens):
            groups.setdefault(int(seq_tokens.size), []).append(index)
        for length, indices in groups.items():
            start = 0
            while start < len(indices):
                with self.lock:
                    chunk = indices[start : start + self.batch_size(length)]
                    rows = self._rows(run, np.stack([tokens[i] for i in chunk]))
                results.update(zip(chunk, rows, strict=True))
                start += len(chunk)
        return [results[i] for i in range(len(tokens))]

    def _rows(self, run: Callable[[np.ndarray], Sequence[T]], batch: np.ndarray) -> list[T]:
        count, length = batch.shape
        return self.split_on_oom(lambda lo, hi: list(run(batch[lo:hi])), count, length)

    def log_probs_continued(self, groups: Sequence[PrefixGroup]) -> list[GroupLogProbs]:
        """Alternate windows from their reference's prefix state (``service.scoring.prefix``); every
        window a full pass when continuation is unavailable or off. Same results to round-off."""
        if not self.continuation:
            return log_probs_by_windows(self.log_probs, groups)
        from service.scoring.evo2_continue import continued_log_probs

        return continued_log_probs(self, groups)

    # ------------------------------------------------------------------ embeddings

    def layer_widths(self) -> dict[str, int]:
        """Layers with one output row per position → values per position (found once, by a short pass)."""
        if self._widths is None:
            from service.scoring.evo2_embed import probe_widths

            with self.lock:
                self._widths = probe_widths(self.model, self.device)
        return self._widths

    def default_layer(self) -> str:
        from service.scoring.evo2_embed import default_layer

        return default_layer(self.layer_widths())

    def embed(self, job: EmbedJob) -> list[dict[str, np.ndarray]]:
        """Hidden states of ``job.layers`` for each sequence (``service.scoring.embed``), in order."""
        from service.scoring.evo2_embed import embed_batch

        tokens = self.check_sequences(job.seqs)
        missing = [layer for layer in job.layers if layer not in self.layer_widths()]
        if missing:
            raise UnknownLayer(
                f"{self.name} has no layer {missing[0]!r}; /info lists the layers (model.embeddings)",
                detail={"unknown": missing, "default": self.default_layer()},
            )
        return self._batched(
            tokens, lambda batch: embed_batch(self.model, batch, job.layers, job.per_position, self.device)
        )

    def _embeddings_facts(self) -> dict[str, Any]:
        try:
            widths = self.layer_widths()
        except Exception as exc:  # a model that is not a Vortex StripedHyena (tests' wrappers)
            return {"available": False, "reason": str(exc)[:200]}
        return {"available": True, "default_layer": self.default_layer(), "layers": widths}

    def describe(self) -> dict[str, Any]:
        spec = MODELS.get(self.name)
        return {
            "model": self.name,
            "backend": "evo2",
            "device": self.device,
            "dtype": self._dtype(),
            "context_length": self.max_length,
            "max_batch_tokens": self.max_batch_tokens,
            "use_kernels": self.use_kernels,
            "kernel_check": self.kernel_check.describe() if self.kernel_check is not None else None,
            "continuation": {
                "enabled": self.continuation,
                "unavailable": self.continuation_unavailable,
                "state_cache": self.state_cache.stats() if self.state_cache is not None else None,
            },
            "embeddings": self._embeddings_facts(),
            "parameters": self._parameter_count(),
            "requirements": spec.requirements() if spec is not None else {},
        }

    # ------------------------------------------------------------------ batches

    def forward_batch(self, tokens: np.ndarray) -> np.ndarray:
        """One forward pass over an ``(n, L)`` array of token ids: ``(n, L - 1)`` float64 log-probs.

        No batching and no out-of-memory handling (the benchmark uses it to find what fits).
        """
        if tokens.ndim != 2 or tokens.shape[1] < 2:
            raise ValueError("tokens must be a 2-D array with at least two columns")
        with self.lock:
            return self._forward(tokens)

    def split_on_oom(self, run: Callable[[int, int], list[T]], count: int, length: int) -> list[T]:
        """``run(0, count)``; on out-of-memory, halved ranges down to one sequence, remembering per
        ``length`` the largest batch that fits. Callers hold the lock."""
        return self._split(run, 0, count, length)

    def _split(self, run: Callable[[int, int], list[T]], lo: int, hi: int, length: int) -> list[T]:
        try:
            return run(lo, hi)
        except Exception as exc:
            if not _is_out_of_memory(exc):
                raise
        # Outside the except block, so the failed attempt's tensors (held by the traceback) are freed.
        self._release_cache()
        if hi - lo == 1:
            raise ModelUnavailable(
                f"GPU out of memory scoring a {length}-bp sequence; use a smaller window",
                detail={"model": self.name, "length": int(length)},
                retry_after=OOM_RETRY_AFTER_S,
            )
        half = (hi - lo + 1) // 2
        self._batch_caps[length] = min(self._batch_caps.get(length, half), half)
        return self._split(run, lo, lo + half, length) + self._split(run, lo + half, hi, length)

    def batch_size(self, length: int) -> int:
        """Sequences of ``length`` tokens per forward pass (``max_batch_tokens``, OOM-learnt caps)."""
        per_batch = max(1, self.max_batch_tokens // max(1, length))
        return min(per_batch, self._batch_caps.get(length, per_batch))

    def _forward_rows(self, tokens: np.ndarray) -> list[np.ndarray]:
        return list(self._forward(tokens))

    def _forward(self, tokens: np.ndarray, record: bool = True) -> np.ndarray:
        import torch

        count, length = tokens.shape
        started = time.perf_counter()
        with torch.inference_mode():
            input_ids = torch.from_numpy(np.ascontiguousarray(tokens, dtype=np.int64)).to(self.device)
            output = self.model(input_ids)
            logits = output[0] if isinstance(output, tuple) else output
            result = picked_log_probs(logits[:, :-1], input_ids[:, 1:])
        if not record:
            return result
        self.stats.record(
            sequences=count,
            forward_passes=1,
            tokens=count * length,
            seconds=time.perf_counter() - started,
        )
        return result

    @staticmethod
    def _release_cache() -> None:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    # ------------------------------------------------------------------ facts

    def _dtype(self) -> str | None:
        layer = getattr(self.model, "embedding_layer", None)
        weight = getattr(layer, "weight", None)
        if weight is None:
            params = getattr(self.model, "parameters", None)
            weight = next(iter(params()), None) if callable(params) else None
        return None if weight is None else str(weight.dtype).removeprefix("torch.")

    def _parameter_count(self) -> int | None:
        params = getattr(self.model, "parameters", None)
        return int(sum(p.numel() for p in params())) if callable(params) else None
