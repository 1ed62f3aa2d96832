"""An LRU of reference-window scores, so repeated queries at a position do not rescore the reference.

Keys are ``RefKey(model, genome, interval, strand, source=...)``: the reference window's bases are
fixed by the sequence that served them (``source``: the genome source's identity), the build and the
0-based half-open interval (the window length is the interval's), and the scores by the model. What
is stored is the window's **per-position log-probs**, not a reduced score, because the reduction
depends on the request: ``window`` takes their mean, ``suffix`` sums from the first base where the
alternate window differs (which depends on the variant), and reverse-complement averaging needs the
other strand's array (``strand="-"``, the log-probs of the reverse complement).

Bounded in bytes (``cachetools.LRUCache`` sized by each array's ``nbytes``; 0 turns it off); arrays are
stored read-only and returned as stored (no copy).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from cachetools import LRUCache

from service.coords import Interval

Strand = Literal["+", "-"]


@dataclass(frozen=True)
class RefKey:
    model: str
    genome: str
    interval: Interval  # 0-based half-open reference window
    strand: Strand = "+"  # "-": log-probs of the window's reverse complement
    #: The identity of the sequence the window was read from (``str(SourceIdentity)``).
    source: str = field(kw_only=True)


def _nbytes(array: np.ndarray) -> int:
    return int(array.nbytes)


class _CountingLRU(LRUCache[RefKey, np.ndarray]):
    """``LRUCache`` that counts what it evicts to make room."""

    evictions = 0

    def popitem(self) -> tuple[RefKey, np.ndarray]:
        self.evictions += 1
        return super().popitem()


class ScoreCache:
    def __init__(self, max_bytes: int) -> None:
        if max_bytes < 0:
            raise ValueError("max_bytes must be ≥ 0")
        self.max_bytes = max_bytes
        self._lru = _CountingLRU(maxsize=max_bytes, getsizeof=_nbytes)
        self.hits = 0
        self.misses = 0

    def get(self, key: RefKey) -> np.ndarray | None:
        """The stored log-probs of ``key`` (length ``len(key.interval) - 1``), or ``None``."""
        entry = self._lru.get(key)
        if entry is None:
            self.misses += 1
        else:
            self.hits += 1
        return entry

    def put(self, key: RefKey, log_probs: np.ndarray) -> None:
        """Store ``log_probs`` for ``key`` (the least recently used entries make room)."""
        if log_probs.ndim != 1 or log_probs.size != max(0, len(key.interval) - 1):
            raise ValueError(
                f"{log_probs.shape} log-probs given for a {len(key.interval)}-bp window ({key.interval})"
            )
        if log_probs.nbytes > self.max_bytes:
            return  # larger than the whole cache (or the cache is off)
        stored = log_probs if not log_probs.flags.writeable else log_probs.copy()
        stored.setflags(write=False)
        self._lru[key] = stored

    def clear(self) -> None:
        self._lru.clear()

    @property
    def bytes(self) -> int:
        return int(self._lru.currsize)

    def __len__(self) -> int:
        return len(self._lru)

    def __contains__(self, key: object) -> bool:
        return key in self._lru

    def stats(self) -> dict[str, Any]:
        return {
            "entries": len(self._lru),
            "bytes": self.bytes,
            "max_bytes": self.max_bytes,
            "hits": self.hits,
            "misses": self.misses,
            "evictions": self._lru.evictions,
        }
