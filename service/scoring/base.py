"""The scorer protocol and the reductions every scorer shares.

A scorer turns DNA sequences into per-position log-probabilities, defined as Evo 2 defines them
(``evo2.scoring``): for a sequence x of length L, element ``i`` of the returned array is
``log p(x[i+1] | x[:i+1])``, so the array has L - 1 elements and no BOS token is used.
The mean of that array is Evo 2's ``score_sequences(..., reduce_method="mean")``.

Scorers are synchronous and may be slow (a GPU forward pass): callers run them in a worker thread.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

_COMPLEMENT = str.maketrans("ACGTNacgtn", "TGCANtgcan")


def reverse_complement(seq: str) -> str:
    return seq.translate(_COMPLEMENT)[::-1]


@dataclass
class ScorerStats:
    """Counters every scorer keeps (read by /metrics and the benchmarks). Thread-safe."""

    sequences: int = 0
    forward_passes: int = 0
    tokens: int = 0
    seconds: float = 0.0
    #: Sequences scored by continuing from a reference's prefix state (counted in ``sequences`` too;
    #: their ``tokens`` are only the continued part).
    continued: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def record(
        self, *, sequences: int, forward_passes: int, tokens: int, seconds: float, continued: int = 0
    ) -> None:
        with self._lock:
            self.sequences += sequences
            self.forward_passes += forward_passes
            self.tokens += tokens
            self.seconds += seconds
            self.continued += continued

    def snapshot(self) -> dict[str, float]:
        with self._lock:
            return {
                "sequences": self.sequences,
                "forward_passes": self.forward_passes,
                "tokens": self.tokens,
                "seconds": self.seconds,
                "continued": self.continued,
            }


@runtime_checkable
class Scorer(Protocol):
    """What the service needs from a model."""

    #: Model name echoed in every response (``kmer-6``, ``evo2_7b``, ...).
    name: str
    #: Longest sequence (in bases) the model accepts.
    max_length: int
    stats: ScorerStats

    def log_probs(self, seqs: Sequence[str]) -> list[np.ndarray]:
        """Per-position log-probabilities (float64, length ``len(s) - 1``) for each upper-case sequence.

        Sequences may have different lengths; the scorer batches equal lengths itself. The result
        for a sequence never depends on the other sequences in the call.
        """
        ...

    def describe(self) -> dict[str, Any]:
        """Facts for ``/info``: model, device, dtype, context, requirements."""
        ...


def mean_log_likelihood(log_probs: np.ndarray) -> float:
    """Evo 2's sequence score: the mean of the per-position log-probabilities (0.0 when empty)."""
    return float(log_probs.mean()) if log_probs.size else 0.0
