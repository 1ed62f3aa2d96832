"""Evo2Scorer against the real Evo 2 / Vortex code, run on the CPU with a tiny random-weight model."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from service.errors import InvalidSequence, LimitExceeded, ModelUnavailable
from service.scoring.base import Scorer, mean_log_likelihood
from service.scoring.evo2 import Evo2Scorer, encode_dna
from service.scoring.evo2_models import DEFAULT_MODEL, MODELS, get_model_spec
from tests.support.evo2_cpu import (
    TINY_LOADER_NAME,
    apply_rotary,
    build_tiny_model,
    install_cpu_shim,
    load_tiny_evo2,
    random_dna,
    save_tiny_checkpoint,
    tiny_loader_config,
    tiny_scorer,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def model() -> torch.nn.Module:
    return build_tiny_model()


@pytest.fixture
def scorer(model: torch.nn.Module) -> Evo2Scorer:
    return tiny_scorer()


def reference_log_probs(model: torch.nn.Module, seq: str) -> np.ndarray:
    """log p(x_t | x_<t) for t = 1..L-1 from the model's logits, reduced in float64."""
    ids = torch.tensor(list(seq.encode("ascii")), dtype=torch.long)[None]
    with torch.inference_mode():
        logits = model(ids)[0].double()
    log_softmax = torch.log_softmax(logits[0, :-1], dim=-1)
    return log_softmax.gather(-1, ids[0, 1:, None]).squeeze(-1).numpy()


# --------------------------------------------------------------------------- imports


def test_importing_the_scorer_does_not_import_torch_evo2_or_vortex() -> None:
    code = (
        "import sys, service.scoring.evo2, service.scoring.evo2_models\n"
        "print(sorted(m for m in ('torch', 'evo2', 'vortex') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --------------------------------------------------------------------------- the CPU shim


@pytest.mark.parametrize("interleaved", [False, True])
@pytest.mark.parametrize("offset", [0, 5])
def test_rotary_shim_matches_vortex_torch_reference(interleaved: bool, offset: int) -> None:
    install_cpu_shim()
    from vortex.model.rotary import apply_rotary_emb_torch

    gen = torch.Generator().manual_seed(1)
    batch, seqlen, heads, headdim, rotary_dim = 2, 7, 3, 16, 12  # partial rotation: 4 channels pass through
    x = torch.randn(batch, seqlen, heads, headdim, generator=gen)
    angles = torch.rand(seqlen + offset, rotary_dim // 2, generator=gen) * 6
    cos, sin = angles.cos(), angles.sin()

    got = apply_rotary(x, cos, sin, seqlen_offsets=offset, interleaved=interleaved)
    want = apply_rotary_emb_torch(x, cos[offset:], sin[offset:], interleaved=interleaved)
    torch.testing.assert_close(got, want, atol=1e-6, rtol=1e-6)

    # Per-sequence tensor offsets, in place, and the conjugate rotation undoes it.
    offsets = torch.tensor([0, offset])
    y = x.clone()
    apply_rotary(y, cos, sin, seqlen_offsets=offsets, interleaved=interleaved, inplace=True)
    for b in range(batch):
        o = int(offsets[b])
        ref = apply_rotary_emb_torch(x[b : b + 1], cos[o : o + seqlen], sin[o : o + seqlen], interleaved)
        torch.testing.assert_close(y[b : b + 1], ref, atol=1e-6, rtol=1e-6)
    back = apply_rotary(y, cos, sin, seqlen_offsets=offsets, interleaved=interleaved, conjugate=True)
    torch.testing.assert_close(back, x, atol=1e-5, rtol=1e-5)


def test_rotary_shim_varlen_equals_per_sequence() -> None:
    gen = torch.Generator().manual_seed(2)
    lengths = [3, 5]
    x = torch.randn(sum(lengths), 2, 8, generator=gen)
    angles = torch.rand(8, 4, generator=gen)
    cu = torch.tensor([0, 3, 8], dtype=torch.int32)
    got = apply_rotary(x, angles.cos(), angles.sin(), cu_seqlens=cu, max_seqlen=5)
    first = apply_rotary(x[None, :3], angles.cos(), angles.sin())[0]
    second = apply_rotary(x[None, 3:], angles.cos(), angles.sin())[0]
    torch.testing.assert_close(got, torch.cat([first, second]))


def test_real_vortex_forward_on_cpu_gives_finite_logits(model: torch.nn.Module) -> None:
    from vortex.model.model import AttentionBlock, ParallelGatedConvBlock

    kinds = [type(block) for block in model.get_submodule("blocks").children()]
    assert kinds == [ParallelGatedConvBlock] * 3 + [AttentionBlock]  # HCS, HCM, HCL, MHA
    ids = torch.tensor([list(random_dna(128, seed).encode()) for seed in (1, 2)], dtype=torch.long)
    with torch.inference_mode():
        logits, _ = model(ids)
    assert logits.shape == (2, 128, 512)
    assert logits.dtype == torch.float32
    assert torch.isfinite(logits).all()


def test_full_8192_bp_window_scores_finite(scorer: Evo2Scorer) -> None:
    (lp,) = scorer.log_probs([random_dna(8192, 3)])
    assert lp.shape == (8191,) and lp.dtype == np.float64
    assert np.isfinite(lp).all() and (lp < 0).all()


# --------------------------------------------------------------------------- scoring semantics


def test_tokens_match_evo2_char_level_tokenizer(scorer: Evo2Scorer) -> None:
    seq = "ACGTNNACGT"
    assert encode_dna(seq).tolist() == [int(t) for t in scorer.tokenizer.tokenize(seq)]
    assert encode_dna("ACGTN").tolist() == [65, 67, 71, 84, 78]


def test_scores_equal_float64_reference_from_logits(scorer: Evo2Scorer, model: torch.nn.Module) -> None:
    seqs = [random_dna(200, 10), random_dna(257, 11), "ACGTN" * 20]
    for seq, got in zip(seqs, scorer.log_probs(seqs), strict=True):
        want = reference_log_probs(model, seq)
        assert got.shape == (len(seq) - 1,) and got.dtype == np.float64
        np.testing.assert_allclose(got, want, atol=2e-5, rtol=0)
        assert mean_log_likelihood(got) == pytest.approx(want.mean(), abs=1e-6)


def test_mean_equals_evo2_score_sequences(scorer: Evo2Scorer, model: torch.nn.Module) -> None:
    from evo2.scoring import score_sequences

    seqs = [random_dna(150, 20), random_dna(150, 21)]
    theirs = score_sequences(seqs, model, scorer.tokenizer, batch_size=1, device="cpu")
    ours = [mean_log_likelihood(lp) for lp in scorer.log_probs(seqs)]
    np.testing.assert_allclose(ours, theirs, atol=1e-5, rtol=0)


def test_scores_do_not_depend_on_batch_composition(model: torch.nn.Module) -> None:
    target = random_dna(96, 30)
    same_length = [random_dna(96, s) for s in (31, 32, 33)]
    other_lengths = [random_dna(n, s) for n, s in ((64, 34), (130, 35), (96, 36))]
    alone = tiny_scorer().log_probs([target])[0]

    big = tiny_scorer(max_batch_tokens=1 << 16)
    mixed = big.log_probs([*other_lengths[:2], target, *same_length, other_lengths[2]])
    np.testing.assert_allclose(mixed[2], alone, atol=1e-5, rtol=0)
    # One forward for each distinct length: 64, 130 and the five 96-bp sequences together.
    assert big.stats.forward_passes == 3

    small = tiny_scorer(max_batch_tokens=2 * 96)  # two 96-bp sequences per batch
    split = small.log_probs([*same_length, target])
    np.testing.assert_allclose(split[3], alone, atol=1e-5, rtol=0)
    assert small.stats.forward_passes == 2
    for got, seq in zip(split, [*same_length, target], strict=True):
        np.testing.assert_allclose(got, tiny_scorer().log_probs([seq])[0], atol=1e-5, rtol=0)


def test_results_come_back_in_input_order(scorer: Evo2Scorer) -> None:
    seqs = [random_dna(n, n) for n in (80, 40, 80, 60, 40)]
    results = scorer.log_probs(seqs)
    assert [r.size for r in results] == [n - 1 for n in (80, 40, 80, 60, 40)]
    for seq, got in zip(seqs, results, strict=True):
        np.testing.assert_allclose(got, tiny_scorer().log_probs([seq])[0], atol=1e-5, rtol=0)


def test_causality_prefix_unchanged_by_a_later_substitution(scorer: Evo2Scorer) -> None:
    ref = random_dna(256, 40)
    i = 150
    alt = ref[:i] + ("A" if ref[i] != "A" else "C") + ref[i + 1 :]
    lp_ref, lp_alt = scorer.log_probs([ref, alt])
    # Element j is log p(x[j+1] | x[:j+1]): elements before i - 1 see no change at all.
    np.testing.assert_allclose(lp_alt[: i - 1], lp_ref[: i - 1], atol=1e-4, rtol=0)
    assert np.abs(lp_alt[i - 1 :] - lp_ref[i - 1 :]).max() > 1e-3


def test_stats_count_each_forward(scorer: Evo2Scorer) -> None:
    scorer.log_probs([random_dna(50, 1), random_dna(50, 2), random_dna(70, 3)])
    snap = scorer.stats.snapshot()
    assert snap["sequences"] == 3
    assert snap["forward_passes"] == 2
    assert snap["tokens"] == 50 * 2 + 70
    assert snap["seconds"] > 0


def test_edge_lengths_and_validation(scorer: Evo2Scorer, model: torch.nn.Module) -> None:
    assert scorer.log_probs([]) == []
    empty, single = scorer.log_probs(["", "A"])
    assert empty.size == 0 and single.size == 0 and empty.dtype == np.float64
    assert scorer.stats.forward_passes == 0
    with pytest.raises(InvalidSequence) as bad:
        scorer.log_probs(["ACGTacgt"])
    assert bad.value.detail["invalid_characters"] == ["a", "c", "g", "t"]
    with pytest.raises(InvalidSequence):
        scorer.log_probs(["ACGTÄ"])
    short = Evo2Scorer(model, scorer.tokenizer, name="evo2-tiny", device="cpu", max_length=100)
    with pytest.raises(LimitExceeded):
        short.log_probs([random_dna(50, 1), random_dna(101, 2)])
    assert short.stats.forward_passes == 0


def test_concurrent_callers_are_serialised(model: torch.nn.Module) -> None:
    active, peak = 0, 0
    guard = threading.Lock()

    def counting(ids: torch.Tensor) -> tuple[torch.Tensor, None]:
        nonlocal active, peak
        with guard:
            active += 1
            peak = max(peak, active)
        try:
            return model(ids)
        finally:
            with guard:
                active -= 1

    shared = Evo2Scorer(
        counting,
        tiny_scorer().tokenizer,
        name="evo2-tiny",
        device="cpu",
        max_batch_tokens=64,
        max_length=8192,
    )
    seqs = [random_dna(64, s) for s in range(6)]
    results: dict[int, list[np.ndarray]] = {}

    def work(k: int) -> None:
        results[k] = shared.log_probs(seqs)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak == 1
    serial = tiny_scorer().log_probs(seqs)
    for k in range(3):
        for got, want in zip(results[k], serial, strict=True):
            np.testing.assert_allclose(got, want, atol=1e-5, rtol=0)


# --------------------------------------------------------------------------- out of memory


class FailAbove:
    """A model wrapper that raises ``exc`` for batches larger than ``limit`` (records every call)."""

    def __init__(self, model: torch.nn.Module, limit: int, exc: Exception) -> None:
        self.model, self.limit, self.exc = model, limit, exc
        self.calls: list[int] = []

    def __call__(self, ids: torch.Tensor) -> tuple[torch.Tensor, None]:
        self.calls.append(int(ids.shape[0]))
        if ids.shape[0] > self.limit:
            raise self.exc
        return self.model(ids)


def _oom_errors() -> list[Exception]:
    return [
        torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"),
        RuntimeError("CUDA error: out of memory"),
        RuntimeError("cuFFT error: CUFFT_ALLOC_FAILED"),
    ]


@pytest.mark.parametrize("exc", _oom_errors(), ids=["OutOfMemoryError", "RuntimeError", "cuFFT"])
def test_out_of_memory_halves_the_batch_and_retries(model: torch.nn.Module, exc: Exception) -> None:
    failing = FailAbove(model, limit=2, exc=exc)
    scorer = Evo2Scorer(failing, tiny_scorer().tokenizer, name="evo2-tiny", device="cpu", max_length=8192)
    seqs = [random_dna(64, s) for s in range(8)]
    got = scorer.log_probs(seqs)
    assert failing.calls == [8, 4, 2, 2, 4, 2, 2]
    for g, want in zip(got, tiny_scorer().log_probs(seqs), strict=True):
        np.testing.assert_allclose(g, want, atol=1e-5, rtol=0)
    assert scorer.stats.forward_passes == 4  # failed attempts are not counted
    # The scorer remembers what fits for this length: no failing attempts next time.
    failing.calls.clear()
    scorer.log_probs(seqs)
    assert failing.calls == [2, 2, 2, 2]


def test_out_of_memory_on_one_sequence_is_model_unavailable(model: torch.nn.Module) -> None:
    failing = FailAbove(model, limit=0, exc=torch.cuda.OutOfMemoryError("CUDA out of memory."))
    scorer = Evo2Scorer(failing, tiny_scorer().tokenizer, name="evo2-tiny", device="cpu", max_length=8192)
    with pytest.raises(ModelUnavailable) as info:
        scorer.log_probs([random_dna(64, 1), random_dna(64, 2)])
    assert failing.calls == [2, 1]
    err = info.value
    assert err.status == 503 and err.retry_after is not None and err.retry_after > 0
    assert "64-bp" in err.message and "smaller window" in err.message


def test_other_errors_propagate_without_retry(model: torch.nn.Module) -> None:
    failing = FailAbove(model, limit=0, exc=RuntimeError("shape mismatch"))
    scorer = Evo2Scorer(failing, tiny_scorer().tokenizer, name="evo2-tiny", device="cpu", max_length=8192)
    with pytest.raises(RuntimeError, match="shape mismatch"):
        scorer.log_probs([random_dna(64, 1), random_dna(64, 2)])
    assert failing.calls == [2]


# --------------------------------------------------------------------------- loading


def test_checkpoint_loads_through_evo2_loader_with_same_scores(tmp_path: Path, scorer: Evo2Scorer) -> None:
    path = save_tiny_checkpoint(tmp_path / "tiny.pt")
    seqs = [random_dna(120, 50), random_dna(300, 51)]
    want = scorer.log_probs(seqs)

    evo = load_tiny_evo2(path)  # evo2.models.Evo2(name, local_path=path)
    direct = Evo2Scorer(evo.model, evo.tokenizer, name="evo2-tiny", device="cpu", max_length=8192)
    for got, w in zip(direct.log_probs(seqs), want, strict=True):
        np.testing.assert_allclose(got, w, atol=1e-5, rtol=0)

    with tiny_loader_config() as name:
        loaded = Evo2Scorer.load(name, local_path=path, device="cpu", max_batch_tokens=1000)
    assert isinstance(loaded, Scorer)
    assert loaded.name == TINY_LOADER_NAME and loaded.max_length == 8192
    for got, w in zip(loaded.log_probs(seqs), want, strict=True):
        np.testing.assert_allclose(got, w, atol=1e-5, rtol=0)
    info = loaded.describe()
    assert info["model"] == TINY_LOADER_NAME
    assert info["device"] == "cpu" and info["dtype"] == "float32"
    assert info["context_length"] == 8192 and info["max_batch_tokens"] == 1000
    assert info["use_kernels"] is False
    assert info["parameters"] == sum(p.numel() for p in build_tiny_model().parameters())
    assert info["requirements"]["transformer_engine"] is False


def test_load_refuses_missing_checkpoint(tmp_path: Path) -> None:
    with tiny_loader_config() as name, pytest.raises(ModelUnavailable, match="checkpoint not found"):
        Evo2Scorer.load(name, local_path=tmp_path / "absent.pt", device="cpu")


def test_load_reports_a_corrupt_checkpoint(tmp_path: Path) -> None:
    bad = tmp_path / "corrupt.pt"
    bad.write_bytes(b"not a checkpoint")
    with tiny_loader_config() as name, pytest.raises(ModelUnavailable, match=r"loading .* failed"):
        Evo2Scorer.load(name, local_path=bad, device="cpu")


def test_load_refuses_cuda_without_a_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ModelUnavailable) as info:
        Evo2Scorer.load("evo2_7b", local_path="/nonexistent/evo2_7b.pt", device="cuda:0")
    assert "CUDA is not available" in info.value.message
    assert info.value.status == 503


def _pretend_missing(monkeypatch: pytest.MonkeyPatch, *missing: str) -> None:
    import service.scoring.evo2 as evo2_scorer

    real = evo2_scorer.module_available
    monkeypatch.setattr(evo2_scorer, "module_available", lambda name: name not in missing and real(name))


def test_load_refuses_fp8_models_without_transformer_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    _pretend_missing(monkeypatch, "transformer_engine")
    for name in ("evo2_20b", "evo2_40b", "evo2_40b_base", "evo2_1b_base"):
        with pytest.raises(ModelUnavailable, match="Transformer Engine"):
            Evo2Scorer.load(name, local_path="/nonexistent.pt", device="cpu")


def test_load_refuses_kernels_without_triton(monkeypatch: pytest.MonkeyPatch) -> None:
    _pretend_missing(monkeypatch, "triton")
    with pytest.raises(ModelUnavailable, match="Triton"):
        Evo2Scorer.load("evo2_7b_base", local_path="/nonexistent.pt", device="cpu", use_kernels=True)


def test_load_refuses_models_without_flash_attn(monkeypatch: pytest.MonkeyPatch) -> None:
    _pretend_missing(monkeypatch, "flash_attn_2_cuda")
    with pytest.raises(ModelUnavailable, match="flash-attn"):
        Evo2Scorer.load("evo2_7b", local_path="/nonexistent.pt", device="cpu")


def test_unknown_model_is_model_unavailable() -> None:
    with pytest.raises(ModelUnavailable, match="evo2_7b_base"):
        Evo2Scorer.load("evo3_giant", device="cpu")


# --------------------------------------------------------------------------- the model table


def test_model_table_agrees_with_evo2() -> None:
    install_cpu_shim()
    from evo2.utils import CONFIG_MAP, HF_MODEL_NAME_MAP, MODEL_NAMES

    assert set(MODELS) == {
        "evo2_7b",
        "evo2_7b_base",
        "evo2_7b_262k",
        "evo2_20b",
        "evo2_40b",
        "evo2_40b_base",
        "evo2_1b_base",
    }
    assert DEFAULT_MODEL == "evo2_7b"
    for name, spec in MODELS.items():
        assert name in MODEL_NAMES
        assert spec.hf_repo == HF_MODEL_NAME_MAP[name]
        assert spec.config == CONFIG_MAP[name]
        assert spec.checkpoint == f"{name}.pt"
    needs_te = {n for n, s in MODELS.items() if s.requires_transformer_engine}
    assert needs_te == {"evo2_20b", "evo2_40b", "evo2_40b_base", "evo2_1b_base"}
    assert get_model_spec("evo2_7b_base").context_length == 8192
    assert get_model_spec("evo2_7b").context_length == 1_048_576
    assert get_model_spec("evo2_40b").min_gpu_memory_gib > 80  # 2x H100 or 1x H200


def test_describe_reports_the_table_requirements(model: torch.nn.Module) -> None:
    s = Evo2Scorer(model, None, name="evo2_20b", device="cpu", max_batch_tokens=4096, max_length=1_048_576)
    info = s.describe()
    assert info["requirements"]["transformer_engine"] is True
    assert info["requirements"]["min_compute_capability"] == "8.9"
    assert info["requirements"]["min_gpu_memory_gib"] == MODELS["evo2_20b"].min_gpu_memory_gib
    assert info["max_batch_tokens"] == 4096 and info["context_length"] == 1_048_576
