"""Alternate windows scored from their reference's prefix: the optional half of the scorer protocol.

A :class:`PrefixGroup` is a reference window and alternate windows of the same length (the windows of
one or more variants). Every alternate agrees with the reference up to its first differing base, so
a causal model's log-probs there are the reference's; a scorer that can continue the model from the
reference's state at that position (``log_probs_continued``, the Evo 2 scorer) computes only the rest.
A scorer without it (the k-mer model, a remote scorer that only has ``log_probs``) is served by
:func:`log_probs_by_windows`: every window a full pass, the same answers to round-off.

Everything here is plain data (strings in, numpy arrays out), so the call crosses a process or a
network as easily as ``log_probs``. On Modal the GPU class has ``Evo2Model.log_probs_continued`` beside
``log_probs`` (``modal_deploy.gpu_log_probs_continued``), and the CPU tiers' ``RemoteScorer`` sends
groups to it as ``[ref, [alt, ...], need_ref]`` lists (``service.scoring.remote``).

The prefix states never leave the GPU: only the windows go there and the log-probs come back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class PrefixGroup:
    """A reference window and alternate windows of its length; ``need_ref=False`` when the caller holds
    the reference's log-probs already (the scorer may still return them)."""

    ref: str
    alts: tuple[str, ...]
    need_ref: bool = True

    @property
    def tokens(self) -> int:
        """Bases the group costs as full passes (the batcher's size of a job)."""
        return len(self.ref) * self.need_ref + sum(map(len, self.alts))


@dataclass(frozen=True)
class GroupLogProbs:
    """Per-position log-probs (as ``Scorer.log_probs``) of a group's reference and of each alternate."""

    ref: np.ndarray | None
    alts: tuple[np.ndarray, ...]


@runtime_checkable
class ContinuationScorer(Protocol):
    """A scorer that scores alternate windows from their reference's state."""

    def log_probs_continued(self, groups: Sequence[PrefixGroup]) -> list[GroupLogProbs]:
        """One result per group, in order; ``ref`` is set at least where ``need_ref`` is."""
        ...


def supports_continuation(scorer: Any) -> bool:
    """Whether ``scorer`` has ``log_probs_continued`` and says it can use it (``continuation``)."""
    return isinstance(scorer, ContinuationScorer) and bool(getattr(scorer, "continuation", True))


def first_difference(a: str, b: str) -> int:
    """Index of the first position where ``a`` and ``b`` (equal lengths) differ; ``len(a)`` if none."""
    if len(a) != len(b):
        raise ValueError(f"windows of different lengths: {len(a)} and {len(b)}")
    if a == b:
        return len(a)
    x = np.frombuffer(a.encode("latin-1"), dtype=np.uint8)
    y = np.frombuffer(b.encode("latin-1"), dtype=np.uint8)
    return int(np.argmax(x != y))


def group_sequences(groups: Sequence[PrefixGroup]) -> list[str]:
    """The windows a group list needs as full passes, each once (references only where needed)."""
    wanted: dict[str, None] = {}
    for group in groups:
        if group.need_ref:
            wanted.setdefault(group.ref)
        for alt in group.alts:
            wanted.setdefault(alt)
    return list(wanted)


def regroup(groups: Sequence[PrefixGroup], known: dict[str, np.ndarray]) -> list[GroupLogProbs]:
    """Group results from per-window log-probs (``known``: window → log-probs)."""
    return [
        GroupLogProbs(known.get(g.ref) if g.need_ref else None, tuple(known[a] for a in g.alts))
        for g in groups
    ]


def log_probs_by_windows(
    log_probs: Callable[[list[str]], list[np.ndarray]], groups: Sequence[PrefixGroup]
) -> list[GroupLogProbs]:
    """``log_probs_continued`` for a scorer without it: one full pass per distinct window."""
    seqs = group_sequences(groups)
    return regroup(groups, dict(zip(seqs, log_probs(seqs), strict=True)))
