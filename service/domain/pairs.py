"""Reference and alternate window pairs → ``PairSums``, chunk by chunk, through the model runner.

Pairs sharing a reference window (the alleles of one position, on one strand) go to the runner as one
``PrefixGroup``, so a scorer that can continues each alternate from the reference's prefix state.
Groups are sent ``chunk_tokens`` bases at a time, and each chunk's log-probs are reduced to the pairs'
sums before the next chunk is sent: however many variants a request holds, it holds one chunk of
log-probs at a time. Log-probs are rounded to float32 on arrival (the model computes in float32 or
bfloat16; cached and fresh windows then agree exactly) and summed in float64.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from service.domain.score_cache import PairCache, PairKey, PairSums, RefKey, RefSums, ScoreCache
from service.errors import ServiceError
from service.scoring.prefix import PrefixGroup, first_difference
from service.scoring.runner import ModelRunner


@dataclass(frozen=True)
class WindowPair:
    """One strand of a variant: its reference and alternate windows (equal lengths) and their keys."""

    ref: str
    alt: str
    ref_key: RefKey
    pair_key: PairKey


@dataclass
class _Group:
    ref: str
    key: RefKey
    lp: np.ndarray | None  # cached reference log-probs
    #: alternate window → the pairs (indices) it serves
    alts: dict[str, list[int]] = field(default_factory=dict)

    @property
    def tokens(self) -> int:
        return (len(self.ref) if self.lp is None else 0) + sum(map(len, self.alts))


def as_float32(log_probs: np.ndarray) -> np.ndarray:
    """``log_probs`` as a read-only float32 array (no copy when it is one already)."""
    out = np.asarray(log_probs, dtype=np.float32)
    if out is log_probs and out.flags.writeable:
        out = out.copy()
    out.setflags(write=False)
    return out


class PairScorer:
    """``PairSums`` of window pairs; reference log-probs via ``ref_cache``, pairs via ``pair_cache``."""

    def __init__(
        self,
        runner: ModelRunner,
        *,
        chunk_tokens: int,
        ref_cache: ScoreCache | None = None,
        pair_cache: PairCache | None = None,
    ) -> None:
        if chunk_tokens < 1:
            raise ValueError("chunk_tokens must be at least 1")
        self.runner = runner
        self.chunk_tokens = chunk_tokens
        self.ref_cache = ref_cache
        self.pair_cache = pair_cache

    async def sums(self, pairs: Sequence[WindowPair]) -> list[PairSums]:
        """One ``PairSums`` per pair, in order."""
        out: list[PairSums | None] = [None] * len(pairs)
        groups: dict[str, _Group] = {}
        for index, pair in enumerate(pairs):
            cached = self.pair_cache.get(pair.pair_key) if self.pair_cache is not None else None
            if cached is not None and cached.n == max(0, len(pair.ref) - 1):
                out[index] = cached
                continue
            group = groups.get(pair.ref)
            if group is None:
                group = groups[pair.ref] = _Group(pair.ref, pair.ref_key, self._cached_ref(pair))
            group.alts.setdefault(pair.alt, []).append(index)
        for chunk in self._chunks(list(groups.values())):
            await self._score(chunk, pairs, out)
        missing = [i for i, sums in enumerate(out) if sums is None]
        if missing:
            raise ServiceError(f"no score was computed for {len(missing)} window pairs")
        return [s for s in out if s is not None]

    def _cached_ref(self, pair: WindowPair) -> np.ndarray | None:
        cached = self.ref_cache.get(pair.ref_key) if self.ref_cache is not None else None
        return cached if cached is not None and cached.size == max(0, len(pair.ref) - 1) else None

    def _chunks(self, groups: list[_Group]) -> Iterator[list[_Group]]:
        chunk: list[_Group] = []
        tokens = 0
        for group in groups:
            chunk.append(group)
            tokens += group.tokens
            if tokens >= self.chunk_tokens:
                yield chunk
                chunk, tokens = [], 0
        if chunk:
            yield chunk

    async def _score(
        self, chunk: list[_Group], pairs: Sequence[WindowPair], out: list[PairSums | None]
    ) -> None:
        asked = [PrefixGroup(g.ref, tuple(g.alts), need_ref=g.lp is None) for g in chunk]
        for group, result in zip(chunk, await self.runner.continued(asked), strict=True):
            ref_lp = group.lp
            if ref_lp is None:
                if result.ref is None:
                    raise ServiceError("the scorer returned no reference log-probs")
                ref_lp = as_float32(result.ref)
                if self.ref_cache is not None:
                    self.ref_cache.put(group.key, ref_lp)
            ref_sums = RefSums(ref_lp)
            for (alt, indices), alt_lp in zip(group.alts.items(), result.alts, strict=True):
                start = max(0, first_difference(group.ref, alt) - 1)
                sums = ref_sums.pair(as_float32(alt_lp), start)
                for index in indices:
                    out[index] = sums
                    if self.pair_cache is not None:
                        self.pair_cache.put(pairs[index].pair_key, sums)
