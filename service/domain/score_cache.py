"""LRUs of window scores, so repeated queries at a position do not rescore the reference (or the pair).

Keys are ``RefKey(model, genome, interval, strand, source=...)``: the reference window's bases are
fixed by the sequence that served them (``source``: the genome source's identity), the build and the
0-based half-open interval (the window length is the interval's), and the scores by the model. What
is stored is the window's **per-position log-probs**, not a reduced score, because the reduction
depends on the request: ``window`` takes their mean, ``suffix`` sums from the first base where the
alternate window differs (which depends on the variant), and reverse-complement averaging needs the
other strand's array (``strand="-"``, the log-probs of the reverse complement).

Bounded in bytes (``cachetools.LRUCache`` sized by each array's ``nbytes``; 0 turns it off); arrays are
stored read-only and returned as stored (no copy). The engine stores them as float32.

``PairCache`` keeps what a delta needs from an alternate window and its reference (``PairSums``: six
numbers), keyed like the reference cache plus the variant (``PairKey``): an identical request, or a
saturation repeated, scores nothing again, even after its reference arrays left the other cache.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

import numpy as np
from cachetools import LRUCache

from service.coords import Interval, Variant

Strand = Literal["+", "-"]


@dataclass(frozen=True)
class RefKey:
    model: str
    genome: str
    interval: Interval  # 0-based half-open reference window
    strand: Strand = "+"  # "-": log-probs of the window's reverse complement
    #: The identity of the sequence the window was read from (``str(SourceIdentity)``).
    source: str = field(kw_only=True)


@dataclass(frozen=True)
class PairKey:
    """An alternate window: its reference's key and the (checked) variant that makes it."""

    ref: RefKey
    variant: Variant


@dataclass(frozen=True)
class PairSums:
    """What the deltas need from a reference and alternate window pair on one strand: per-position
    log-prob sums over all ``n`` positions and from index ``start`` (the first differing base − 1)."""

    start: int
    n: int
    ref_total: float
    ref_suffix: float
    alt_total: float
    alt_suffix: float

    @classmethod
    def of(cls, ref_lp: np.ndarray, alt_lp: np.ndarray, start: int) -> PairSums:
        """Sums (in float64) of two equal-length log-prob arrays."""
        return RefSums(ref_lp).pair(alt_lp, start)

    def scores(self, suffix: bool) -> tuple[float, float]:
        """(ref, alt): means over all positions, or (``suffix``) the sums from ``start`` over the same n."""
        if self.n == 0:
            return 0.0, 0.0
        if suffix:
            return self.ref_suffix / self.n, self.alt_suffix / self.n
        return self.ref_total / self.n, self.alt_total / self.n


def _sum(values: np.ndarray) -> float:
    return float(np.sum(values, dtype=np.float64))


class RefSums:
    """A reference's sums, each taken once for all the alternates paired with it."""

    def __init__(self, ref_lp: np.ndarray) -> None:
        self.lp = ref_lp
        self.total = _sum(ref_lp)
        self._suffixes: dict[int, float] = {}

    def pair(self, alt_lp: np.ndarray, start: int) -> PairSums:
        if alt_lp.shape != self.lp.shape:
            raise ValueError(f"log-probs of different lengths: {self.lp.shape} and {alt_lp.shape}")
        if start not in self._suffixes:
            self._suffixes[start] = _sum(self.lp[start:])
        return PairSums(
            start, int(self.lp.size), self.total, self._suffixes[start], _sum(alt_lp), _sum(alt_lp[start:])
        )


#: Bytes a cached pair is counted as (its key's strings and intervals, six numbers, the LRU's links).
PAIR_BYTES = 512

K = TypeVar("K")
V = TypeVar("V")


class _CountingLRU(LRUCache[K, V]):
    """``LRUCache`` that counts what it evicts to make room."""

    evictions = 0

    def popitem(self) -> tuple[K, V]:
        self.evictions += 1
        return super().popitem()


class _Bounded(Generic[K, V]):
    """A byte-bounded LRU with hit, miss and eviction counts."""

    def __init__(self, max_bytes: int, size: Callable[[V], int]) -> None:
        if max_bytes < 0:
            raise ValueError("max_bytes must be ≥ 0")
        self.max_bytes = max_bytes
        self._size = size
        self._lru: _CountingLRU[K, V] = _CountingLRU(maxsize=max_bytes, getsizeof=size)
        self.hits = 0
        self.misses = 0

    def get(self, key: K) -> V | None:
        entry = self._lru.get(key)
        if entry is None:
            self.misses += 1
        else:
            self.hits += 1
        return entry

    def _store(self, key: K, value: V) -> None:
        if self._size(value) <= self.max_bytes:  # else larger than the whole cache (or the cache is off)
            self._lru[key] = value

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


def _nbytes(array: np.ndarray) -> int:
    return int(array.nbytes)


class ScoreCache(_Bounded[RefKey, np.ndarray]):
    """Reference windows' per-position log-probs."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(max_bytes, _nbytes)

    def put(self, key: RefKey, log_probs: np.ndarray) -> None:
        """Store ``log_probs`` for ``key`` (the least recently used entries make room)."""
        if log_probs.ndim != 1 or log_probs.size != max(0, len(key.interval) - 1):
            raise ValueError(
                f"{log_probs.shape} log-probs given for a {len(key.interval)}-bp window ({key.interval})"
            )
        stored = log_probs if not log_probs.flags.writeable else log_probs.copy()
        stored.setflags(write=False)
        self._store(key, stored)


class PairCache(_Bounded[PairKey, PairSums]):
    """Alternate windows' ``PairSums``, each counted as ``PAIR_BYTES``."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(max_bytes, _pair_bytes)

    def put(self, key: PairKey, sums: PairSums) -> None:
        self._store(key, sums)


def _pair_bytes(_sums: PairSums) -> int:
    return PAIR_BYTES
