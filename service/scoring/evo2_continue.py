"""``Evo2Scorer.log_probs_continued``: each reference window once, each alternate from its prefix state.

For a reference window of L bases and an alternate that first differs at base p (1 ≤ p < L), the
alternate's log-probs are the reference's before index p - 1 (identical input), the reference's
logits at p - 1 read at the alternate's base (index p - 1), and then a continuation over the
alternate's bases p .. L-2 from the reference's state at p (``evo2_state``): L - 1 - p tokens
instead of L. The last base needs no logits, so it is never fed.

Work is done in *waves*: the reference windows of one forward pass (``max_batch_tokens``), their
states captured during that pass, then the continuations of all their alternates, batched across
alleles and positions that share an offset, then the states are dropped (only one wave's states
exist at a time). An alternate that differs at base 0 (the reverse strand of an indel) has no
prefix to reuse and is a full pass; so are all the alternates of a reference the caller already holds
when a reference pass plus continuations would cost more tokens than full passes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from service.scoring.prefix import GroupLogProbs, PrefixGroup, first_difference

if TYPE_CHECKING:
    from service.scoring.evo2 import Evo2Scorer
    from service.scoring.evo2_state import PrefixState
    from service.scoring.evo2_state_cache import StateCache


#: States are kept between calls (``Evo2Scorer.state_cache``) only from waves of at most this many
#: references: a request about a few positions is followed by another allele there; a saturation or a
#: bulk chunk moves on, and keeping its states would only evict the useful ones.
KEEP_REFERENCES = 4


@dataclass
class _Ref:
    seq: str
    need: bool
    #: alternate → its first differing base
    alts: dict[str, int] = field(default_factory=dict)
    lp: np.ndarray | None = None
    #: p → log-softmax of the logits at p - 1 (the alternate's log-prob at index p - 1)
    anchors: dict[int, np.ndarray] = field(default_factory=dict)
    #: p → the model's state there (from this call's pass or from the state cache)
    states: dict[int, PrefixState] = field(default_factory=dict)
    #: the state cache holds everything the alternates need: no reference pass
    kept: bool = False

    @property
    def positions(self) -> list[int]:
        """Offsets the alternates continue from (1 ≤ p < L)."""
        return sorted({p for p in self.alts.values() if 0 < p < len(self.seq)})

    def worth_a_pass(self) -> bool:
        """Needed, kept, or cheaper in tokens than full passes of the alternates that could continue."""
        length = len(self.seq) * (not self.kept)
        reusable = [p for p in self.alts.values() if p > 0]
        cost = length + sum(max(0, len(self.seq) - 1 - p) for p in reusable)
        return self.need or self.kept or cost < len(reusable) * len(self.seq)

    def take(self, cache: StateCache | None) -> None:
        """Log-probs, anchors and states from ``cache`` when it covers every offset needed."""
        kept = cache.covering(self.seq, self.positions) if cache is not None else None
        if kept is not None:
            self.lp, self.anchors, self.states, self.kept = kept.lp, kept.anchors, kept.states, True


def _merge(
    groups: Sequence[PrefixGroup], cache: StateCache | None = None
) -> tuple[dict[str, _Ref], dict[str, None]]:
    """References (each once, alternates united) and the alternates that must be full passes."""
    refs: dict[str, _Ref] = {}
    plain: dict[str, None] = {}
    for group in groups:
        ref = refs.setdefault(group.ref, _Ref(group.ref, group.need_ref))
        ref.need = ref.need or group.need_ref
        for alt in group.alts:
            if len(alt) != len(group.ref) or len(alt) < 2:
                plain.setdefault(alt)
            else:
                ref.alts[alt] = first_difference(group.ref, alt)
    for ref in refs.values():
        ref.take(cache)
        if not ref.worth_a_pass():
            plain.update(dict.fromkeys(ref.alts))
            ref.alts.clear()
        for alt, p in list(ref.alts.items()):
            if p == 0:
                plain.setdefault(alt)
                del ref.alts[alt]
    return refs, plain


def planned_tokens(groups: Sequence[PrefixGroup], cache: StateCache | None = None) -> int:
    """Tokens ``continued_log_probs`` feeds the model for ``groups`` (no model needed): each reference
    pass whole (none where ``cache`` keeps its states), each continuation from its first differing
    base to the last but one, full passes."""
    refs, plain = _merge(groups, cache)
    total = sum(map(len, plain))
    for ref in refs.values():
        if ref.need or ref.alts:
            length = len(ref.seq)
            total += length * (not ref.kept) + sum(length - 1 - p for p in ref.alts.values() if p < length)
    return total


def continued_log_probs(scorer: Evo2Scorer, groups: Sequence[PrefixGroup]) -> list[GroupLogProbs]:
    """``log_probs_continued`` of ``scorer`` (see the module docstring)."""
    refs, plain = _merge(groups, scorer.state_cache)
    for ref in refs.values():
        scorer.check_sequences([ref.seq, *ref.alts])
    known: dict[str, np.ndarray] = {}
    for wave in _waves(scorer, [r for r in refs.values() if r.need or r.alts]):
        known.update(_run_wave(scorer, wave))
    missing = [seq for seq in plain if seq not in known]
    known.update(zip(missing, scorer.log_probs(missing), strict=True))
    return [
        GroupLogProbs(
            refs[g.ref].lp, tuple(known[a] if a in known else _same(refs[g.ref], a) for a in g.alts)
        )
        for g in groups
    ]


def _same(ref: _Ref, alt: str) -> np.ndarray:
    assert ref.lp is not None and alt == ref.seq
    return ref.lp


def _waves(scorer: Evo2Scorer, refs: Sequence[_Ref]) -> Iterator[list[_Ref]]:
    by_length: dict[int, list[_Ref]] = {}
    for ref in refs:
        by_length.setdefault(len(ref.seq), []).append(ref)
    for length, same in by_length.items():
        start = 0
        while start < len(same):
            size = scorer.batch_size(length)
            yield same[start : start + size]
            start += size


def _tokens(seqs: Sequence[str]) -> np.ndarray:
    return np.stack([np.frombuffer(s.encode("ascii"), dtype=np.uint8) for s in seqs]).astype(np.int64)


def _run_wave(scorer: Evo2Scorer, wave: list[_Ref]) -> dict[str, np.ndarray]:
    """The wave's reference pass (log-probs, anchors, states) for the references the state cache does
    not cover, then every alternate's continuation."""
    fresh = [ref for ref in wave if not ref.kept]
    if fresh:
        tokens = _tokens([r.seq for r in fresh])
        positions = [r.positions for r in fresh]

        def run(lo: int, hi: int) -> list[tuple[np.ndarray, dict[int, np.ndarray], dict[int, PrefixState]]]:
            return _reference_pass(scorer, tokens[lo:hi], positions[lo:hi])

        with scorer.lock:
            passed = scorer.split_on_oom(run, len(fresh), tokens.shape[1])
        keep = scorer.state_cache is not None and len(wave) <= KEEP_REFERENCES
        for ref, (lp, anchors, captured) in zip(fresh, passed, strict=True):
            ref.lp, ref.anchors, ref.states = lp, anchors, captured
            if keep and captured and scorer.state_cache is not None:
                scorer.state_cache.keep(ref.seq, lp, anchors, captured)
    out: dict[str, np.ndarray] = {}
    for p, items in _by_offset(wave).items():
        out.update(_continue(scorer, wave, p, items))
    return out


def _by_offset(wave: list[_Ref]) -> dict[int, list[tuple[int, str]]]:
    jobs: dict[int, list[tuple[int, str]]] = {}
    for index, ref in enumerate(wave):
        for alt, p in ref.alts.items():
            if p < len(ref.seq):
                jobs.setdefault(p, []).append((index, alt))
    return jobs


def _reference_pass(
    scorer: Evo2Scorer, tokens: np.ndarray, positions: list[list[int]]
) -> list[tuple[np.ndarray, dict[int, np.ndarray], dict[int, PrefixState]]]:
    import torch

    from service.scoring.evo2 import picked_log_probs
    from service.scoring.evo2_capture import capture_states

    started = time.perf_counter()
    with torch.inference_mode():
        input_ids = torch.from_numpy(tokens).to(scorer.device)
        logits, states = capture_states(scorer.model, input_ids, positions)
        lp = picked_log_probs(logits[:, :-1], input_ids[:, 1:])
        anchors = [
            {p: torch.log_softmax(logits[row, p - 1].float(), -1).double().cpu().numpy() for p in wanted}
            for row, wanted in enumerate(positions)
        ]
    count, length = tokens.shape
    scorer.stats.record(
        sequences=count, forward_passes=1, tokens=count * length, seconds=time.perf_counter() - started
    )
    return list(zip(lp, anchors, states, strict=True))


def _continue(
    scorer: Evo2Scorer, wave: list[_Ref], p: int, items: list[tuple[int, str]]
) -> dict[str, np.ndarray]:
    """The alternates continuing from offset ``p`` (several references, several alleles), batched."""
    length = len(wave[0].seq)
    n = length - 1 - p  # tokens p .. L-2 are fed; their logits predict bases p+1 .. L-1
    suffixes: list[np.ndarray] = []
    if n > 0:
        tokens = _tokens([alt[p : length - 1] for _, alt in items])
        targets = _tokens([alt[p + 1 :] for _, alt in items])
        refs = [index for index, _ in items]

        start = 0
        while start < len(items):

            def run(lo: int, hi: int, at: int = start) -> list[np.ndarray]:
                rows = slice(at + lo, at + hi)
                return _continuation_pass(scorer, tokens[rows], targets[rows], wave, refs[rows], p)

            size = min(scorer.batch_size(n), len(items) - start)
            with scorer.lock:
                suffixes += scorer.split_on_oom(run, size, n)
            start += size
    out = {}
    for k, (index, alt) in enumerate(items):
        ref = wave[index]
        assert ref.lp is not None
        lp = np.empty(length - 1, dtype=np.float64)
        lp[: p - 1] = ref.lp[: p - 1]
        lp[p - 1] = ref.anchors[p][ord(alt[p])]
        if n > 0:
            lp[p:] = suffixes[k]
        out[alt] = lp
    return out


def _continuation_pass(
    scorer: Evo2Scorer,
    tokens: np.ndarray,
    targets: np.ndarray,
    wave: list[_Ref],
    refs: list[int],
    p: int,
) -> list[np.ndarray]:
    import torch

    from service.scoring.evo2 import picked_log_probs
    from service.scoring.evo2_state import PrefixState, continue_from

    started = time.perf_counter()
    used = list(dict.fromkeys(refs))
    state = PrefixState.cat([wave[i].states[p] for i in used])
    rows = [used.index(i) for i in refs]
    with torch.inference_mode():
        input_ids = torch.from_numpy(tokens).to(scorer.device)
        logits = continue_from(scorer.model, input_ids, state, rows)
        result = picked_log_probs(logits, torch.from_numpy(targets).to(scorer.device))
    count, n = tokens.shape
    scorer.stats.record(
        sequences=count,
        forward_passes=1,
        tokens=count * n,
        seconds=time.perf_counter() - started,
        continued=count,
    )
    return list(result)


def describe_state(model: Any, offset: int) -> dict[str, Any]:
    """Bytes of one reference's state at ``offset`` (for ``/info`` and the benchmarks)."""
    from service.scoring.evo2_state import state_nbytes_estimate

    config = getattr(model, "config", None)
    if config is None:
        return {}
    return {"offset": offset, "bytes": state_nbytes_estimate(config, offset)}
