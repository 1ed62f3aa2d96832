"""An LRU of reference-window scores, so repeated queries at a position do not rescore the reference.

Keys are ``RefKey(model, genome, interval, strand)``: the reference window's bases are fixed by the
genome build and the 0-based half-open interval (the window length is the interval's), and the scores
by the model. What is stored is the window's **per-position log-probs**, not a reduced score, because
the reduction depends on the request: ``window`` takes their mean, ``suffix`` sums from the first base
where the alternate window differs (which depends on the variant), and reverse-complement averaging
needs the other strand's array (``strand="-"``, the log-probs of the reverse complement).

Bounded by entries and by bytes; arrays are stored read-only and returned as stored (no copy).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from service.coords import Interval

Strand = Literal["+", "-"]


@dataclass(frozen=True)
class RefKey:
    model: str
    genome: str
    interval: Interval  # 0-based half-open reference window
    strand: Strand = "+"  # "-": log-probs of the window's reverse complement


class ScoreCache:
    def __init__(self, max_entries: int = 1024, max_bytes: int = 256 * 2**20) -> None:
        if max_entries < 0 or max_bytes < 0:
            raise ValueError("max_entries and max_bytes must be ≥ 0")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[RefKey, np.ndarray] = OrderedDict()
        self._bytes = 0
        self.hits = 0
        self.misses = 0
        self.evictions = 0

    def get(self, key: RefKey) -> np.ndarray | None:
        """The stored log-probs of ``key`` (length ``len(key.interval) - 1``), or ``None``."""
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry

    def put(self, key: RefKey, log_probs: np.ndarray) -> None:
        """Store ``log_probs`` for ``key`` (the least recently used entries make room)."""
        if log_probs.ndim != 1 or log_probs.size != max(0, len(key.interval) - 1):
            raise ValueError(
                f"{log_probs.shape} log-probs given for a {len(key.interval)}-bp window ({key.interval})"
            )
        size = log_probs.nbytes
        if self.max_entries == 0 or size > self.max_bytes:
            return
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= old.nbytes
        stored = log_probs if not log_probs.flags.writeable else log_probs.copy()
        stored.setflags(write=False)
        self._entries[key] = stored
        self._bytes += size
        while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self._bytes -= evicted.nbytes
            self.evictions += 1

    def clear(self) -> None:
        self._entries.clear()
        self._bytes = 0

    @property
    def bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def stats(self) -> dict[str, Any]:
        return {
            "entries": len(self._entries),
            "bytes": self._bytes,
            "max_entries": self.max_entries,
            "max_bytes": self.max_bytes,
            "hits": self.hits,
            "misses": self.misses,
            "evictions": self.evictions,
        }
