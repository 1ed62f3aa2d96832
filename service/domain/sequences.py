"""Raw sequence scores (``/score``): checked sequences in, Evo 2's sequence log-likelihoods out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from service.domain.delta import strand_sequences
from service.errors import InvalidSequence, LimitExceeded
from service.scoring.base import mean_log_likelihood
from service.scoring.runner import ModelRunner

_VALID_BASES = frozenset("ACGTN")


@dataclass(frozen=True)
class SequenceLimits:
    max_sequences: int
    max_length: int
    max_total_bases: int


@dataclass(frozen=True)
class SequenceLikelihood:
    length: int
    mean: float  #: mean of the L - 1 per-position log-probs (averaged over strands when asked)
    total: float  #: their sum (likewise)
    log_probs: np.ndarray  #: forward strand, L - 1 values


def check_sequences(raw: Sequence[str], limits: SequenceLimits) -> list[str]:
    """Upper-cased sequences; ``LimitExceeded`` / ``InvalidSequence`` naming the first bad one."""
    if len(raw) > limits.max_sequences:
        raise LimitExceeded(
            f"{len(raw)} sequences; at most {limits.max_sequences} per request",
            detail={"max_sequences": limits.max_sequences},
        )
    seqs = []
    for i, text in enumerate(raw):
        seq = text.strip().upper()
        if not 2 <= len(seq) <= limits.max_length:
            raise LimitExceeded(
                f"sequence {i} has {len(seq)} bases; each must have 2 to {limits.max_length}",
                detail={"index": i, "length": len(seq), "max_sequence_length": limits.max_length},
            )
        if not set(seq) <= _VALID_BASES:
            bad = sorted(set(seq) - _VALID_BASES)[:5]
            raise InvalidSequence(
                f"sequence {i} contains characters other than A, C, G, T, N: {''.join(bad)!r}",
                detail={"index": i},
            )
        seqs.append(seq)
    total = sum(map(len, seqs))
    if total > limits.max_total_bases:
        raise LimitExceeded(
            f"{total} bases in total; at most {limits.max_total_bases} per request",
            detail={"max_total_bases": limits.max_total_bases},
        )
    return seqs


async def score_sequences(
    runner: ModelRunner, seqs: Sequence[str], *, reverse_complement: bool
) -> list[SequenceLikelihood]:
    """Mean and sum log-likelihood of each sequence (both strands averaged when asked), in order."""
    strands = [strand_sequences(seq, reverse_complement) for seq in seqs]
    flat = [s for both in strands for s in both]
    log_probs = dict(zip(flat, await runner.log_probs(flat), strict=True))
    results = []
    for seq, both in zip(seqs, strands, strict=True):
        arrays = [log_probs[s] for s in both]
        results.append(
            SequenceLikelihood(
                length=len(seq),
                mean=sum(mean_log_likelihood(a) for a in arrays) / len(arrays),
                total=sum(float(a.sum()) for a in arrays) / len(arrays),
                log_probs=arrays[0],
            )
        )
    return results
