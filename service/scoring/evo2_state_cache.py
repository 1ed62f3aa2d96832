"""Reference windows' prefix states kept between calls, bounded in bytes (on the model's device).

A later request at a position already scored (another allele, ``need_ref=False`` because the engine
holds the reference's log-probs) then continues from the kept state instead of running the
reference again. States are large: for the 7B at the centre of an 8,192-bp window one is 333 MiB
(``evo2_state.state_nbytes_estimate``), nearly all keys and values, so the bound is what decides how
many positions are kept; 0 turns the cache off.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from cachetools import LRUCache

from service.scoring.evo2_state import PrefixState


@dataclass
class Kept:
    lp: np.ndarray
    anchors: dict[int, np.ndarray] = field(default_factory=dict)
    states: dict[int, PrefixState] = field(default_factory=dict)

    @property
    def nbytes(self) -> int:
        anchors = sum(a.nbytes for a in self.anchors.values())
        return int(self.lp.nbytes + anchors + sum(s.nbytes for s in self.states.values()))


def _size(kept: Kept) -> int:
    return kept.nbytes


class StateCache:
    def __init__(self, max_bytes: int) -> None:
        if max_bytes < 0:
            raise ValueError("max_bytes must be ≥ 0")
        self.max_bytes = max_bytes
        self._lru: LRUCache[str, Kept] = LRUCache(maxsize=max_bytes, getsizeof=_size)
        self.hits = 0
        self.misses = 0

    def covering(self, ref: str, positions: list[int]) -> Kept | None:
        """What is kept of ``ref`` when it holds the state at every one of ``positions``."""
        kept = self._lru.get(ref)
        if kept is None or any(p not in kept.states for p in positions):
            self.misses += 1
            return None
        self.hits += 1
        return kept

    def keep(
        self, ref: str, lp: np.ndarray, anchors: dict[int, np.ndarray], states: dict[int, PrefixState]
    ) -> None:
        """Add ``ref``'s states (to those already kept); dropped when larger than the whole cache."""
        old = self._lru.pop(ref, None)
        kept = Kept(
            lp, {**(old.anchors if old else {}), **anchors}, {**(old.states if old else {}), **states}
        )
        if kept.nbytes <= self.max_bytes:
            self._lru[ref] = kept

    def __len__(self) -> int:
        return len(self._lru)

    def stats(self) -> dict[str, Any]:
        return {
            "entries": len(self._lru),
            "bytes": int(self._lru.currsize),
            "max_bytes": self.max_bytes,
            "hits": self.hits,
            "misses": self.misses,
        }
