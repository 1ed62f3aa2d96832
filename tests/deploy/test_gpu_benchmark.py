"""bench/gpu_evo2_7b.py in its tiny CPU mode: every figure the GPU run records, and the deployment
reading its results file (moved here from tests/scoring: it is the deployment's benchmark)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.evo2_cpu import build_tiny_model
from tests.support.scripts import load_script

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bench() -> Any:
    return load_script(ROOT / "bench" / "gpu_evo2_7b.py")


def test_tiny_run_records_every_figure_and_feeds_the_deployment(
    bench: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from service.deployment.figures import load_figures

    out = tmp_path / "gpu_evo2_7b-H100.json"
    argv = ["--device", "cpu", "--tiny", "--batch-sizes", "1,2", "--window", "256", "--repeats", "3"]
    continuation = ["--continuation-snvs", "2", "--continuation-bp", "1", "--continuation-rounds", "1"]
    result = bench.main([*argv, "--variants", "1", *continuation, "--out", str(out)])
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == json.loads(out.read_text())
    [config] = result["configs"]
    assert config["params"] == sum(p.numel() for p in build_tiny_model().parameters())
    assert [row["batch_size"] for row in config["rows"]] == [1, 2]
    for row in config["rows"]:
        assert row["min_seconds_per_window"] <= row["seconds_per_window"] <= row["max_seconds_per_window"]
        assert {"peak_allocated_gib", "peak_reserved_gib", "free_gib", "mfu"} <= row.keys()
    assert set(config["cold_start"]) == {"import_s", "build_s", "first_forward_s"} and config["finite"]
    assert config["original"]["seconds_per_window"] > 0
    runs = config["continuation"]["workloads"]
    assert set(runs) == {"brca1", "saturation"}
    for run in runs.values():  # the alternates continue: fewer tokens, the same deltas to round-off
        assert run["window_equivalents_per_unit_on"] < run["window_equivalents_per_unit_off"]
        assert run["max_abs_delta_difference"] < 1e-6 and run["speedup_min"] > 0
    assert result["versions"]["torch"] and result["modal_gpu"] == "H100" and result["usd_per_hour"] == 3.95
    deployment = result["deployment"]
    assert deployment["max_batch_tokens"] in (256, 512) and deployment["cost_per_1000_variants_usd"] > 0
    figures = load_figures("H100", tmp_path)
    assert figures.max_batch_tokens == deployment["max_batch_tokens"] and figures.label.startswith("measured")


def test_flops_count_the_attention_term(bench: Any) -> None:
    config = {"attn_layer_idxs": [3, 10], "hidden_size": 4096}
    assert bench.forward_flops(10, config, 8192) == 2 * 10 * 8192 + 2 * 2 * 8192**2 * 4096


def test_out_of_memory_includes_cufft_failures(bench: Any) -> None:
    assert bench._is_out_of_memory(RuntimeError("cuFFT error: CUFFT_ALLOC_FAILED"))
    assert not bench._is_out_of_memory(RuntimeError("shape mismatch"))


def test_the_deployed_config_is_built(bench: Any) -> None:
    """Not evo2_7b_base's 8K config: the 1M config the service deploys (inner MLP 11,264)."""
    import yaml

    args = bench.parse_args([])
    spec = importlib.util.find_spec("evo2")
    assert spec is not None and spec.submodule_search_locations
    path = Path(next(iter(spec.submodule_search_locations))) / bench.MODELS[args.model].config
    assert args.model == "evo2_7b" and path.name == "evo2-7b-1m.yml"
    assert yaml.safe_load(path.read_text())["inner_mlp_size"] == 11264


def test_modal_entrypoint_writes_the_results_file_the_deployment_reads(
    bench: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``modal run modal_deploy.py::gpu_benchmark``: the GPU run (here the tiny CPU one) comes back
    as JSON and lands where ``load_figures`` looks."""
    import modal_deploy as md
    from service.deployment.figures import load_figures, results_path

    calls: list[list[str]] = []

    class Remote:
        @staticmethod
        def remote(argv: list[str]) -> Any:
            calls.append(argv)
            return bench.main(["--device", "cpu", "--tiny", "--batch-sizes", "1", "--window", "128", *argv])

    monkeypatch.setattr(md, "run_gpu_benchmark", Remote)
    out = results_path("H100", tmp_path)
    md.gpu_benchmark.info.raw_f(args="--repeats 2 --variants 1", out=str(out))
    assert calls == [["--repeats", "2", "--variants", "1"]]
    assert load_figures("H100", tmp_path).max_batch_tokens == 128
