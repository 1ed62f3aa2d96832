"""RemoteScorer: what the web tier and bulk workers hand to the GPU, and what they accept back."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from service.errors import InvalidSequence, ModelUnavailable
from service.scoring.kmer import KmerScorer
from service.scoring.prefix import PrefixGroup, log_probs_by_windows, supports_continuation
from service.scoring.remote import RemoteScorer


class Gpu:
    """A GPU stand-in over the k-mer model: records every call's payload."""

    def __init__(self) -> None:
        self.kmer = KmerScorer.load()
        self.sequences: list[list[str]] = []
        self.groups: list[list[Any]] = []

    def log_probs(self, seqs: list[str]) -> list[Any]:
        self.sequences.append(seqs)
        return [a.astype(np.float32) for a in self.kmer.log_probs(seqs)]

    def continued(self, groups: list[Any]) -> list[Any]:
        self.groups.append(groups)
        asked = [PrefixGroup(ref, tuple(alts), need) for ref, alts, need in groups]
        return [
            [None if r.ref is None else r.ref.astype(np.float32), [a.astype(np.float32) for a in r.alts]]
            for r in log_probs_by_windows(self.kmer.log_probs, asked)
        ]


def groups_of(length: int, count: int, alts: int = 1) -> list[PrefixGroup]:
    rng = np.random.default_rng(length + count)
    out = []
    for _ in range(count):
        ref = "".join(rng.choice(list("ACGT"), size=length))
        middle = length // 2
        variants = [ref[:middle] + ("A" if ref[middle] != "A" else "C") + ref[middle + 1 :]][:1] * alts
        out.append(PrefixGroup(ref, tuple(variants)))
    return out


def test_groups_go_to_the_gpu_in_calls_of_one_length_within_the_call_tokens() -> None:
    gpu = Gpu()
    scorer = RemoteScorer(
        "m", 4096, gpu.log_probs, call_tokens=1000, max_in_flight=2, continued_fn=gpu.continued
    )
    groups = groups_of(200, 5) + groups_of(100, 3)
    results = scorer.log_probs_continued(groups)
    assert supports_continuation(scorer) and scorer.describe()["continuation"] is True
    for call in gpu.groups:  # 400 tokens a 200-bp group (ref + alt): two per call; 100-bp: all three
        assert len({len(ref) for ref, _, _ in call}) == 1
        assert sum(len(ref) * (1 + len(alts)) for ref, alts, _ in call) <= 1000
    assert sorted(len(c) for c in gpu.groups) == [1, 2, 2, 3]
    for group, result in zip(groups, results, strict=True):
        [want_ref, want_alt] = gpu.kmer.log_probs([group.ref, group.alts[0]])
        assert result.ref is not None and np.allclose(result.ref, want_ref, atol=1e-6)
        assert np.allclose(result.alts[0], want_alt, atol=1e-6)


def test_without_a_continuation_call_groups_are_full_passes() -> None:
    gpu = Gpu()
    scorer = RemoteScorer("m", 4096, gpu.log_probs, call_tokens=1000, max_in_flight=1)
    assert not supports_continuation(scorer)
    [result] = scorer.log_probs_continued(groups_of(50, 1))
    assert gpu.groups == [] and len(gpu.sequences) == 1 and result.ref is not None


def test_bad_windows_are_refused_before_the_gpu_and_bad_answers_after_it() -> None:
    gpu = Gpu()
    scorer = RemoteScorer(
        "m", 64, gpu.log_probs, call_tokens=1000, max_in_flight=1, continued_fn=gpu.continued
    )
    with pytest.raises(InvalidSequence):
        scorer.log_probs_continued([PrefixGroup("ACGU" * 4, ("ACGT" * 4,))])
    with pytest.raises(Exception, match="64-bp context"):
        scorer.log_probs_continued(groups_of(100, 1))
    assert gpu.groups == []

    def short(groups: list[Any]) -> list[Any]:
        return [[np.zeros(3, np.float32), [np.zeros(3, np.float32)]] for _ in groups]

    broken = RemoteScorer("m", 4096, gpu.log_probs, call_tokens=1000, max_in_flight=1, continued_fn=short)
    with pytest.raises(ModelUnavailable, match="log-probs for a 40-bp sequence"):
        broken.log_probs_continued(groups_of(40, 1))
    missing = RemoteScorer(
        "m", 4096, gpu.log_probs, call_tokens=1000, max_in_flight=1, continued_fn=lambda groups: []
    )
    with pytest.raises(ModelUnavailable, match="0 results"):
        missing.log_probs_continued(groups_of(40, 1))
