"""Prefix-state continuation on the real Vortex code: the tiny model and the 7B's striping in miniature.

The claim under test: the log-probs of an alternate window scored by continuing the model from its
reference's state at the first differing base equal a full forward pass over the alternate, at every
position, for SNVs, MNVs and indels at the window's start, middle and end, on both strands, batched;
to float32 round-off against Vortex's own forward, and to ~1e-12 in float64 (where this project's
walk keeps float64 and Vortex would cast its FFTs to float32).
"""

from __future__ import annotations

import copy
import functools

import numpy as np
import pytest
import torch
import yaml

from service.scoring.base import reverse_complement
from service.scoring.evo2 import Evo2Scorer
from service.scoring.evo2_capture import capture_states, forward
from service.scoring.evo2_continue import planned_tokens
from service.scoring.evo2_state import PrefixState, continue_from, state_nbytes_estimate, unsupported_reason
from service.scoring.prefix import PrefixGroup, first_difference
from tests.support.evo2_cpu import _evo2_dir, build_tiny_model, random_dna, tiny_config

LAYOUTS = ["8k", "7b-1m"]
#: float32 round-off of the tiny model's log-probs (FFT sizes differ between the two passes).
F32 = 2e-5
F64 = 1e-12


def scorer_for(layout: str, **options: object) -> Evo2Scorer:
    from vortex.model.tokenizer import CharLevelTokenizer

    return Evo2Scorer(
        build_tiny_model(0, layout),
        CharLevelTokenizer(512),
        name=f"evo2-tiny-{layout}",
        device="cpu",
        max_length=8192,
        **options,  # type: ignore[arg-type]
    )


def other(base: str) -> str:
    return "A" if base != "A" else "C"


def variants(ref: str) -> dict[str, str]:
    """Alternate windows of ``ref`` as build_windows makes them (equal length; indels refilled)."""
    n = len(ref)
    mid = n // 2
    snv = {f"snv@{p}": ref[:p] + other(ref[p]) + ref[p + 1 :] for p in (0, 1, 2, mid, n - 2, n - 1)}
    mnv = {"mnv@mid": ref[:mid] + "".join(other(b) for b in ref[mid : mid + 3]) + ref[mid + 3 :]}
    # A deletion pulls the bases after the window in (here: a fixed tail), an insertion drops the last.
    deletion = {"del@mid": ref[:mid] + ref[mid + 4 :] + "GATT", "del@start": ref[3:] + "CCA"}
    insertion = {"ins@mid": ref[:mid] + "TTGA" + ref[mid : n - 4], "ins@end": ref[: n - 2] + "AC"}
    return {**snv, **mnv, **deletion, **insertion}


@functools.lru_cache(maxsize=4)
def model64(layout: str) -> torch.nn.Module:
    return copy.deepcopy(build_tiny_model(0, layout)).double()


def ids(*seqs: str) -> torch.Tensor:
    return torch.tensor([list(s.encode("ascii")) for s in seqs], dtype=torch.long)


def log_probs_of(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return torch.log_softmax(logits.double(), -1).gather(-1, targets[..., None])[..., 0]


# --------------------------------------------------------------------------- the layers


@pytest.mark.parametrize("layout", LAYOUTS)
def test_the_tiny_models_have_the_7b_layer_types(layout: str) -> None:
    model = build_tiny_model(0, layout)  # installs the CPU shim before vortex is imported
    from vortex.model.positional_embeddings import LinearlyScaledRotaryEmbedding

    assert unsupported_reason(model) is None
    config = tiny_config(layout)
    filters = {block.filter.fir_inner_filter_length for block in model.blocks if hasattr(block, "filter")}
    assert filters == {config["hcs_filter_length"], config["hcm_filter_length"], None} == {7, 128, None}
    if layout == "7b-1m":  # the 7B (1M) config's interpolated rotary embedding and its striping
        attention = [b for b in model.blocks if hasattr(b, "inner_mha_cls")]
        assert len(attention) == 2
        assert all(isinstance(b.inner_mha_cls.rotary_emb, LinearlyScaledRotaryEmbedding) for b in attention)
        assert config["interleave"] is True and config["column_split_hyena"] is False


@pytest.mark.parametrize("layout", LAYOUTS)
def test_own_walk_equals_vortex_forward_in_float32(layout: str) -> None:
    model = build_tiny_model(0, layout)
    tokens = ids(random_dna(700, 1), random_dna(700, 2))
    with torch.inference_mode():
        want = log_probs_of(model(tokens)[0][:, :-1], tokens[:, 1:])
        got = log_probs_of(forward(model, tokens)[0][:, :-1], tokens[:, 1:])
    torch.testing.assert_close(got, want, atol=F32, rtol=0)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_capture_leaves_vortex_logits_unchanged_and_removes_its_hooks(layout: str) -> None:
    model = build_tiny_model(0, layout)
    tokens = ids(random_dna(300, 3), random_dna(300, 4))
    with torch.inference_mode():
        plain = model(tokens)[0]
        logits, states = capture_states(model, tokens, [[1, 150], [299]])
    assert torch.equal(logits, plain)
    assert [sorted(s) for s in states] == [[1, 150], [299]]
    for block in model.blocks:
        module = block.filter if hasattr(block, "filter") else block.inner_mha_cls.inner_attn
        assert not module._forward_pre_hooks
    with pytest.raises(ValueError):
        capture_states(model, tokens, [[0], []])


# --------------------------------------------------------------------------- float32, through the scorer


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("strand", ["+", "-"])
def test_continued_alternates_equal_full_passes_at_every_position(layout: str, strand: str) -> None:
    length = 384
    refs = [random_dna(length, seed) for seed in (10, 11)]
    flip = reverse_complement if strand == "-" else (lambda s: s)
    groups = [PrefixGroup(flip(ref), tuple(flip(alt) for alt in variants(ref).values())) for ref in refs]
    scorer = scorer_for(layout)
    continued = scorer.log_probs_continued(groups)  # two references, eleven alleles each, one call
    full = scorer_for(layout, continuation=False)
    for group, result in zip(groups, continued, strict=True):
        want = full.log_probs([group.ref, *group.alts])
        assert result.ref is not None
        np.testing.assert_allclose(result.ref, want[0], atol=F32, rtol=0)
        for alt, got, expected in zip(group.alts, result.alts, want[1:], strict=True):
            assert got.shape == expected.shape == (length - 1,)
            np.testing.assert_allclose(got, expected, atol=F32, rtol=0)
            # Before the first difference the alternate's log-probs are the reference's, exactly.
            start = max(0, first_difference(group.ref, alt) - 1)
            np.testing.assert_array_equal(got[:start], result.ref[:start])
    snapshot = scorer.stats.snapshot()
    assert snapshot["continued"] > 0 and snapshot["tokens"] < full.stats.snapshot()["tokens"]


def test_the_reverse_strand_of_an_indel_differs_within_its_refilled_tail() -> None:
    ref = random_dna(256, 12)
    alt = variants(ref)["del@mid"]  # refilled with 4 bases after the window: the reverse strand's start
    assert first_difference(ref, alt) == 128
    assert first_difference(reverse_complement(ref), reverse_complement(alt)) < 4


def test_tokens_are_the_reference_plus_each_suffix() -> None:
    length, p = 1024, 600
    ref = random_dna(length, 13)
    alts = tuple(ref[:p] + b + ref[p + 1 :] for b in "ACGT" if b != ref[p])
    scorer = scorer_for("8k")
    scorer.log_probs_continued([PrefixGroup(ref, alts)])
    snapshot = scorer.stats.snapshot()
    # The reference whole, then L - 1 - p tokens per allele (base p up to the last but one).
    assert snapshot["tokens"] == length + 3 * (length - 1 - p) == planned_tokens([PrefixGroup(ref, alts)])
    assert snapshot["continued"] == 3 and snapshot["forward_passes"] == 2


def test_a_held_reference_is_rerun_only_when_that_saves_tokens() -> None:
    length = 1024
    ref = random_dna(length, 14)
    one = (ref[:900] + other(ref[900]) + ref[901:],)
    three = tuple(ref[:700] + b + ref[701:] for b in "ACGT" if b != ref[700])
    scorer = scorer_for("8k")
    [alone] = scorer.log_probs_continued([PrefixGroup(ref, one, need_ref=False)])
    assert scorer.stats.snapshot()["tokens"] == length  # 1024 + 123 < 1024 is false: a full pass
    scorer.log_probs_continued([PrefixGroup(ref, three, need_ref=False)])
    assert scorer.stats.snapshot()["tokens"] == length + length + 3 * (length - 1 - 700)  # 1,993 < 3 × 1,024
    np.testing.assert_allclose(alone.alts[0], scorer.log_probs(list(one))[0], atol=F32, rtol=0)


def test_continuation_off_or_unsupported_gives_full_passes() -> None:
    off = scorer_for("8k", continuation=False)
    assert off.describe()["continuation"] == {
        "enabled": False,
        "unavailable": "turned off",
        "state_cache": None,
    }
    ref = random_dna(256, 15)
    alt = ref[:100] + other(ref[100]) + ref[101:]
    off.log_probs_continued([PrefixGroup(ref, (alt,))])
    assert off.stats.snapshot()["tokens"] == 2 * 256 and off.stats.snapshot()["continued"] == 0

    class NotVortex:
        def __call__(self, input_ids: torch.Tensor) -> torch.Tensor:
            return build_tiny_model()(input_ids)[0]

    plain = Evo2Scorer(NotVortex(), None, name="plain", device="cpu", max_length=8192)
    assert plain.continuation is False and "StripedHyena" in str(plain.continuation_unavailable)
    [result] = plain.log_probs_continued([PrefixGroup(ref, (alt,))])
    np.testing.assert_allclose(result.alts[0], scorer_for("8k").log_probs([alt])[0], atol=F32, rtol=0)


def test_a_configuration_outside_the_shipped_ones_is_refused() -> None:
    model = copy.deepcopy(build_tiny_model())
    model.blocks[0].filter.column_split_hyena = True
    assert "column_split_hyena" in str(unsupported_reason(model))


# --------------------------------------------------------------------------- float64


@pytest.mark.parametrize("layout", LAYOUTS)
def test_in_float64_prefix_state_plus_suffix_equals_the_full_pass_to_1e_12(layout: str) -> None:
    model = model64(layout)
    ref = random_dna(256, 20)
    alts = [alt for alt in variants(ref).values() if first_difference(ref, alt) > 0]
    by_start: dict[int, list[int]] = {}
    for i, alt in enumerate(alts):
        by_start.setdefault(first_difference(ref, alt), []).append(i)
    with torch.inference_mode():
        _, [states] = forward(model, ids(ref), [sorted(by_start)])
        full, _ = forward(model, ids(*alts))
        for p, rows in by_start.items():  # the alternates sharing a start continue as one batch
            suffix = continue_from(model, ids(*(alts[i] for i in rows))[:, p:], states[p], [0] * len(rows))
            err = (suffix - full[rows, p:]).abs().max().item()
            assert err < F64, f"start {p}: {err:.1e}"


def test_in_float64_a_batch_of_alleles_and_positions_continues_each_row_exactly() -> None:
    model = model64("7b-1m")
    length, p = 320, 200
    refs = [random_dna(length, seed) for seed in (21, 22)]
    rows, alts = [], []
    for index, ref in enumerate(refs):
        for base in "ACGT":
            if base != ref[p]:
                rows.append(index)
                alts.append(ref[:p] + base + ref[p + 1 :])
    with torch.inference_mode():
        _, captured = forward(model, ids(*refs), [[p], [p]])
        state = PrefixState.cat([captured[0][p], captured[1][p]])
        batched = continue_from(model, ids(*alts)[:, p:], state, rows)
        full, _ = forward(model, ids(*alts))
    assert (batched - full[:, p:]).abs().max().item() < F64


def test_state_size_formula_matches_the_captured_tensors() -> None:
    model = build_tiny_model(0, "7b-1m")
    with torch.inference_mode():
        _, [states] = capture_states(model, ids(random_dna(600, 23)), [[300]])
    config = tiny_config("7b-1m")
    assert states[300].nbytes == state_nbytes_estimate(config, 300, dtype_bytes=4)
    # The real 7B at the notebook's centre, in bfloat16: keys and values (5 layers × 2 × 4,096 positions
    # × 4,096 channels × 2 bytes = 320 MiB) dominate the FIR histories and modal states (12.9 MiB).
    seven = yaml.safe_load((_evo2_dir() / "configs" / "evo2-7b-1m.yml").read_text())
    assert state_nbytes_estimate(seven, 4096) == 349_036_544  # 332.9 MiB


def test_a_kept_state_serves_a_later_allele_without_a_reference_pass() -> None:
    length, p = 1024, 500
    ref = random_dna(length, 30)
    first, later = (ref[:p] + b + ref[p + 1 :] for b in [b for b in "ACGT" if b != ref[p]][:2])
    kept = scorer_for("8k", state_cache_bytes=64 * 2**20)
    kept.log_probs_continued([PrefixGroup(ref, (first,))])
    assert kept.state_cache is not None and len(kept.state_cache) == 1
    before = kept.stats.snapshot()["tokens"]
    [result] = kept.log_probs_continued([PrefixGroup(ref, (later,), need_ref=False)])
    assert kept.stats.snapshot()["tokens"] - before == length - 1 - p  # the continuation only
    np.testing.assert_allclose(result.alts[0], scorer_for("8k").log_probs([later])[0], atol=F32, rtol=0)
    # Without the cache one allele of a held reference is cheapest as a full pass.
    plain = scorer_for("8k")
    plain.log_probs_continued([PrefixGroup(ref, (later,), need_ref=False)])
    assert plain.stats.snapshot()["tokens"] == length
    # A cache smaller than one state keeps nothing.
    tiny = scorer_for("8k", state_cache_bytes=1024)
    tiny.log_probs_continued([PrefixGroup(ref, (first,))])
    assert tiny.state_cache is not None and len(tiny.state_cache) == 0


def test_in_bfloat16_as_on_a_gpu_the_continuation_keeps_the_dtype_and_agrees_to_its_round_off() -> None:
    model = copy.deepcopy(build_tiny_model(0, "7b-1m")).to(torch.bfloat16)
    for name, param in model.named_parameters():  # evo2 keeps poles and residues in float32
        if name.endswith(("log_poles", "residues")):
            param.data = param.data.float()
    ref = random_dna(256, 40)
    p = 128
    alt = ref[:p] + other(ref[p]) + ref[p + 1 :]
    with torch.inference_mode():
        _, [states] = capture_states(model, ids(ref), [[p]])
        suffix = continue_from(model, ids(alt)[:, p:], states[p])
        full = model(ids(alt))[0][:, p:]
    assert suffix.dtype == torch.bfloat16
    lp_suffix, lp_full = (torch.log_softmax(t.float(), -1) for t in (suffix, full))
    assert (lp_suffix - lp_full).abs().max().item() < 0.15  # bfloat16 round-off (~0.05 here)
