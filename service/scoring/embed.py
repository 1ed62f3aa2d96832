"""Hidden states of named layers: the optional embedding half of the scorer protocol.

A scorer that can (the Evo 2 scorer) names the layers whose output has one row per position
(``layer_widths``: name → values per position, e.g. ``blocks.28.mlp.l3`` → 4,096 for the 7B) and
returns, for each sequence and each asked layer, the layer's output mean-pooled over the positions
(``(width,)``) or per position (``(length, width)``), as float32. Names are Vortex module names
(``model.named_modules()``), the names ``evo2.Evo2.forward(..., layer_names=...)`` takes.

The request is an ``EmbedJob`` (plain, hashable data), so it queues through the model runner with the
other model work and crosses a process boundary as easily as ``log_probs``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class EmbedJob:
    seqs: tuple[str, ...]
    layers: tuple[str, ...]
    per_position: bool = False

    @property
    def tokens(self) -> int:
        return sum(map(len, self.seqs))


@runtime_checkable
class EmbeddingScorer(Protocol):
    def layer_widths(self) -> dict[str, int]:
        """Layers with one output row per position → values per position."""
        ...

    def default_layer(self) -> str:
        """The layer ``/embed`` uses when none is named."""
        ...

    def embed(self, job: EmbedJob) -> list[dict[str, np.ndarray]]:
        """Per sequence, per layer: float32 ``(width,)`` (mean over positions) or ``(length, width)``."""
        ...


def supports_embeddings(scorer: Any) -> bool:
    return isinstance(scorer, EmbeddingScorer)


def embed_values(job: EmbedJob, widths: dict[str, int]) -> int:
    """Numbers the answer to ``job`` holds (the cost of sending it back)."""
    per_seq = sum(widths[layer] for layer in job.layers)
    return sum((len(s) if job.per_position else 1) * per_seq for s in job.seqs)


def check_layers(layers: Sequence[str], widths: dict[str, int]) -> list[str]:
    """The names in ``layers`` the scorer does not have."""
    return [layer for layer in layers if layer not in widths]
