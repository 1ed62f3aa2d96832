"""The Modal deployment, offline: no token, no network, no GPU.

* ``modal_deploy`` imports without torch, evo2 or vortex and without touching the network.
* The decorators receive ``OPTIONS`` (``service/deployment/containers.py``): tests assert on that plain
  data, never on Modal's private attributes.
* The web tier is the real app over a remote scorer; ``Evo2Model().log_probs.local`` stands in for the
  GPU call and counts calls: refusals, /health, /docs, /info and validation errors make none.
* The bulk entrypoint, the BRCA1 entrypoint and the download bodies run the real code in-process,
  against fakes for the hub and the UCSC download server.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import textwrap
import tomllib
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "test-key-0123456789"
LOCAL = pytest.mark.filterwarnings("ignore:.*executing locally.*:UserWarning")


@pytest.fixture
def md() -> Any:
    import modal_deploy

    return modal_deploy


# ------------------------------------------------------------------------------------------ import


_BLOCKED_IMPORT = textwrap.dedent(
    """
    import importlib.abc, json, socket, sys

    BLOCKED = ("torch", "evo2", "vortex", "flash_attn", "transformer_engine", "triton")

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"{name} is blocked in this test")
            return None

    def refuse(*args, **kwargs):
        raise OSError(f"network access attempted: {args!r}")

    sys.meta_path.insert(0, Block())
    socket.getaddrinfo = refuse
    socket.socket.connect = refuse
    socket.create_connection = refuse

    import modal_deploy as md

    print(json.dumps({
        "gpu": md.OPTIONS["Evo2Model"]["gpu"],
        "max_containers": md.OPTIONS["Evo2Model"]["max_containers"],
        "methods": sorted(md.Evo2Model._get_method_names()),
        "heavy": sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED),
    }))
    """
)


def _import_deploy(**env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "PYTHONPATH": str(ROOT), "MODAL_TOKEN_ID": "", "MODAL_TOKEN_SECRET": "", **env}
    return subprocess.run(
        [sys.executable, "-W", "error", "-c", _BLOCKED_IMPORT],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_imports_without_torch_evo2_or_network() -> None:
    done = _import_deploy(EVO2_DEPLOY_GPU="A100-80GB", EVO2_DEPLOY_MAX_CONTAINERS="5")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["heavy"] == []
    assert result["methods"] == ["log_probs", "log_probs_continued"]  # the GPU class does nothing else
    # Environment overrides reach the options the decorators receive.
    assert (result["gpu"], result["max_containers"]) == ("A100-80GB", 5)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"EVO2_DEPLOY_GPU": "T4"}, "flash-attn 2 and bfloat16 need 8.0"),
        ({"EVO2_DEPLOY_GPU": "H1000"}, "unknown GPU type"),
        ({"EVO2_DEPLOY_MAX_CONTAINERS": "many"}, "max_containers: Input should be a valid integer"),
    ],
)
def test_a_bad_setting_stops_with_one_line_not_a_traceback(env: dict[str, str], message: str) -> None:
    done = _import_deploy(**env)
    assert done.returncode == 1
    assert message in done.stderr and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: bad EVO2_DEPLOY_* setting")


# -------------------------------------------------------------------------------- options (plain data)


def test_gpu_class_only_reads_weights_and_spreads_load(md: Any) -> None:
    d, got = md.DEPLOY, md.OPTIONS["Evo2Model"]
    assert got["image"] == "gpu" and got["gpu"] == d.gpu
    assert got["volumes"] == {d.weights_mount: {"name": d.volume_name, "read_only": True}}
    assert got["secrets"] == {}  # it never sees a request, so it needs no API keys
    assert d.genome_mount not in got["volumes"]  # and never reads genome data
    assert got["concurrency"] == {"max_inputs": 2, "target_inputs": 1}
    assert (got["max_containers"], got["min_containers"], got["retries"]) == (3, 0, 2)
    assert (got["timeout"], got["startup_timeout"], got["scaledown_window"]) == (600, 900, 180)
    assert got["enable_memory_snapshot"] is False and got["experimental_options"] is None
    assert got["env"] == d.runtime_env()


def test_web_tier_is_cpu_only_behind_the_key(md: Any) -> None:
    d, got = md.DEPLOY, md.OPTIONS["web"]
    assert "gpu" not in got and got["image"] == "web"
    assert got["secrets"] == {d.api_keys_secret: [d.api_keys_env]}
    assert got["volumes"] == {d.genome_mount: {"name": d.genome_volume_name, "read_only": True}}
    assert got["asgi"] == {"label": d.web_label, "requires_proxy_auth": False}
    assert got["concurrency"] == {"max_inputs": 100, "target_inputs": 50}


def test_bulk_workers_match_gpu_containers_and_retry(md: Any) -> None:
    d, got = md.DEPLOY, md.OPTIONS["BulkWorker"]
    assert "gpu" not in got and got["max_containers"] == d.max_containers and got["retries"] == d.retries
    assert got["timeout"] == d.bulk_timeout_s >= 3 * d.bulk_chunk_gpu_s


def test_downloads_are_cpu_functions_writing_their_volumes(md: Any) -> None:
    d = md.DEPLOY
    assert md.OPTIONS["fetch_weights"]["volumes"] == {
        d.weights_mount: {"name": d.volume_name, "read_only": False}
    }
    assert md.OPTIONS["fetch_genome"]["volumes"] == {
        d.genome_mount: {"name": d.genome_volume_name, "read_only": False}
    }
    assert "gpu" not in md.OPTIONS["fetch_weights"] and "gpu" not in md.OPTIONS["fetch_genome"]
    assert md.OPTIONS["run_gpu_benchmark"]["gpu"] == d.gpu


def test_snapshot_and_proxy_settings_reach_the_options(monkeypatch: pytest.MonkeyPatch) -> None:
    from service.deployment import Deployment
    from service.deployment.containers import container_options

    monkeypatch.setenv("EVO2_DEPLOY_SNAPSHOT", "gpu")
    monkeypatch.setenv("EVO2_DEPLOY_REQUIRES_PROXY_AUTH", "1")
    monkeypatch.setenv("EVO2_DEPLOY_REQUIRE_API_KEY", "0")
    options = container_options(Deployment())
    assert options["Evo2Model"]["enable_memory_snapshot"] is True
    assert options["Evo2Model"]["experimental_options"] == {"enable_gpu_snapshot": True}
    assert options["web"]["asgi"]["requires_proxy_auth"] is True and options["web"]["secrets"] == {}


def test_modal_kwargs_only_swap_names_for_modal_objects(md: Any) -> None:
    import modal

    kwargs = md.modal_kwargs("Evo2Model")
    assert kwargs["image"] is md.IMAGES["gpu"]
    assert all(isinstance(v, modal.Volume) for v in kwargs["volumes"].values())
    plain = {k: v for k, v in md.OPTIONS["Evo2Model"].items() if k not in ("image", "volumes", "secrets")}
    assert {k: kwargs[k] for k in plain if k != "concurrency" and plain[k] is not None} == {
        k: v for k, v in plain.items() if k != "concurrency" and v is not None
    }


# ---------------------------------------------------------------------------------------- settings


def test_defaults_are_the_documented_ones() -> None:
    from service.deployment import Deployment

    d = Deployment()
    assert (d.gpu, d.model, d.min_containers) == ("H100", "evo2_7b", 0)
    assert d.max_containers == 3 and d.scaledown_window_s == 180
    assert d.require_api_key and not d.requires_proxy_auth and d.snapshot == "off"
    # A cold start reads ~14 GB from the volume: it gets far longer than Modal's 300 s default.
    assert d.startup_timeout_s >= 600 and d.timeout_s >= 600
    assert d.volume_name == "evo2-weights" and d.api_keys_secret == "evo2-service-keys"
    # No benchmark results are committed yet: the forward-pass size is the labelled ESTIMATE.
    assert d.figures.label == "ESTIMATE" and d.max_batch_tokens == 32_768


def test_checkpoint_is_pinned_to_a_commit(monkeypatch: pytest.MonkeyPatch) -> None:
    from service.deployment import Deployment

    d = Deployment()
    assert re.fullmatch(r"[0-9a-f]{40}", d.model_revision) and d.is_pinned
    assert (d.checkpoint_repo, d.checkpoint_filename) == ("arcinstitute/evo2_7b", "evo2_7b.pt")
    assert d.checkpoint_path == f"/weights/arcinstitute/evo2_7b/{d.model_revision}/evo2_7b.pt"
    assert d.image_env["HF_HUB_OFFLINE"] == "1" and d.image_env["HF_HOME"].startswith(d.weights_mount)
    # Another model drops the evo2_7b pin instead of silently reusing it.
    monkeypatch.setenv("EVO2_DEPLOY_MODEL", "evo2_7b_base")
    other = Deployment()
    assert other.checkpoint_repo == "arcinstitute/evo2_7b_base" and not other.is_pinned
    assert "unpinned" in other.checkpoint_dir


def test_image_pins_fit_together(md: Any) -> None:
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    from service.deployment import Deployment, requirement_pins

    d = Deployment()
    assert d.python_version == "3.12"
    assert re.fullmatch(r"2\.7\.\d+", d.torch_version)
    cuda = re.search(r"/whl/cu(\d+)$", d.torch_index_url)
    assert cuda is not None and cuda.group(1).startswith("12")
    wheel = d.flash_attn_wheel_url.rsplit("/", 1)[-1]
    # The prebuilt wheel must match torch (major.minor), CUDA 12, CPython 3.12 and torch's C++11 ABI.
    assert wheel == "flash_attn-2.8.3+cu12torch2.7cxx11abiTRUE-cp312-cp312-linux_x86_64.whl"
    assert d.flash_attn_wheel_url in md.IMAGE_SPECS["gpu"].requirements
    assert {d.evo2_requirement, d.vtx_requirement} <= set(md.IMAGE_SPECS["gpu"].requirements)
    # Package data the images add beside the .py sources (k-mer table, calibration, BRCA1 slices).
    data = ROOT / d.package_data_dir
    assert {"kmer", "calibration", "genome"} <= {p.name for p in data.iterdir()}

    # Every runtime dependency of the server (pyproject.toml: the base and the server extra) is in the
    # image, pinned within its bounds.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = requirement_pins(d.service_requirements)
    for text in [*project["dependencies"], *project["optional-dependencies"]["server"]]:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is missing from the image"
        assert requirement.specifier.contains(pins[name]), f"{pins[name]} does not satisfy {text}"
    with pytest.raises(ValueError, match="not pinned"):
        requirement_pins(("fastapi>=0.1",))


def test_environment_overrides_and_their_round_trip(monkeypatch: pytest.MonkeyPatch) -> None:
    from service.deployment import Deployment

    def from_env(env: dict[str, str]) -> Deployment:
        with monkeypatch.context() as patch:
            for key, value in env.items():
                patch.setenv(key, value)
            return Deployment()

    env = {
        "EVO2_DEPLOY_GPU": "H100!",
        "EVO2_DEPLOY_MAX_CONTAINERS": "2",
        "EVO2_DEPLOY_REQUIRES_PROXY_AUTH": "true",
        "EVO2_DEPLOY_CORS_ORIGINS": "https://a.example, https://b.example",
        "EVO2_DEPLOY_SNAPSHOT": "memory",
    }
    d = from_env(env)
    assert (d.gpu, d.max_containers, d.requires_proxy_auth) == ("H100!", 2, True)
    assert d.cors_origins == ("https://a.example", "https://b.example")
    assert from_env(d.runtime_env()) == d
    assert d.gpu_usd_per_hour == 3.95
    with pytest.raises(ValueError, match="integer"):
        from_env({"EVO2_DEPLOY_MAX_CONTAINERS": "many"})
    with pytest.raises(ValueError, match="min_containers"):
        from_env({"EVO2_DEPLOY_MAX_CONTAINERS": "0"})
    with pytest.raises(ValueError, match="boolean"):
        from_env({"EVO2_DEPLOY_REQUIRE_API_KEY": "maybe"})
    with pytest.raises(ValueError, match="snapshot"):
        from_env({"EVO2_DEPLOY_SNAPSHOT": "sometimes"})
    with pytest.raises(ValueError, match="Transformer Engine"):
        Deployment(model="evo2_40b")


def test_gpu_types_are_checked_against_flash_attn_and_memory() -> None:
    from service.deployment import Deployment

    assert Deployment(gpu="A100-80GB:2").gpu_count == 2
    assert Deployment(gpu="l40s").gpu_type.name == "L40S"
    for gpu, message in [("T4", "8.0 or later"), ("H100:9", "1..8"), ("V100", "unknown GPU type")]:
        with pytest.raises(ValueError, match=message):
            Deployment(gpu=gpu)


def test_benchmark_results_set_the_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A results file of bench/gpu_evo2_7b.py replaces the ESTIMATEs; the environment still wins."""
    from service.deployment import Deployment, figures

    result = {"deployment": {"max_batch_tokens": 131072, "seconds_per_window": 0.2, "cold_start_s": 40.0}}
    figures.results_path("H100", tmp_path).write_text(json.dumps(result))
    monkeypatch.setattr(figures, "RESULTS_DIR", tmp_path)
    monkeypatch.setattr(figures.load_figures, "__defaults__", (tmp_path,))
    d = Deployment()
    assert d.max_batch_tokens == 131072 and d.figures.seconds_per_window == 0.2
    assert d.figures.label == "measured (gpu_evo2_7b-H100.json)"
    monkeypatch.setenv("EVO2_DEPLOY_MAX_BATCH_TOKENS", "65536")
    assert Deployment().max_batch_tokens == 65536


def test_bulk_plan_for_the_brca1_file_at_the_defaults() -> None:
    """3,893 rows: chunks within a quarter of the chunk timeout, an equal share per container."""
    from service.deployment import WINDOWS_PER_VARIANT, Deployment

    d = Deployment()
    plan = d.bulk_plan(3893)
    per_row = WINDOWS_PER_VARIANT * d.figures.seconds_per_window
    assert plan.containers == 3 and plan.chunks % 3 == 0
    assert plan.chunk_rows * per_row <= d.bulk_chunk_gpu_s <= d.bulk_timeout_s / 3
    assert plan.chunks * plan.chunk_rows >= 3893
    assert plan.gpu_seconds == pytest.approx(3893 * per_row)
    assert plan.wall_seconds == pytest.approx(
        d.figures.cold_start_s + plan.chunks / 3 * plan.chunk_rows * per_row
    )
    billed = 3 * (d.figures.cold_start_s + d.scaledown_window_s) + plan.gpu_seconds
    assert plan.cost_usd == pytest.approx(billed / 3600 * 3.95)
    assert Deployment(gpu="B200").bulk_plan(10).cost_usd is None  # no recorded price: no figure


# ------------------------------------------------------------------------------------ the served app


class GpuCalls:
    """``Evo2Model().log_probs.local`` (enter hooks and all) behind a call counter: the GPU stand-in."""

    def __init__(self, md: Any) -> None:
        self.count = 0
        self.continued = 0  #: calls of them to log_probs_continued
        model = md.Evo2Model()
        self._method = model.log_probs
        self._continued = model.log_probs_continued

    def __call__(self, seqs: list[str]) -> Any:
        self.count += 1
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*executing locally.*", category=UserWarning)
            return self._method.local(seqs)

    def continued_call(self, groups: list[Any]) -> Any:
        self.count += 1
        self.continued += 1
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*executing locally.*", category=UserWarning)
            return self._continued.local(groups)


@pytest.fixture
def gpu(md: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[GpuCalls]:
    """The GPU class with the k-mer scorer loaded in place of the checkpoint (fast, same shapes)."""
    from service.scoring.kmer import KmerScorer

    loaded: dict[str, Any] = {}

    def load_scorer(settings: Any) -> Any:
        loaded["settings"] = settings
        loaded["scorer"] = KmerScorer.load()
        return loaded["scorer"]

    monkeypatch.setattr(md, "load_scorer", load_scorer)
    monkeypatch.setattr(md, "warm_imports", lambda: None)
    calls = GpuCalls(md)
    calls.loaded = loaded  # type: ignore[attr-defined]
    monkeypatch.setattr(md, "gpu_call", lambda: calls)
    monkeypatch.setattr(md, "gpu_continued_call", lambda: calls.continued_call)
    monkeypatch.setenv(md.DEPLOY.api_keys_env, json.dumps([API_KEY]))
    yield calls


@pytest.fixture
def web_client(md: Any, gpu: GpuCalls) -> Iterator[Callable[[], httpx.AsyncClient]]:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*executing locally.*", category=UserWarning)
        app = md.web.local()
    yield lambda: httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://modal.test")


def brca1_snvs(count: int) -> list[str]:
    """``count`` distinct hg38 SNVs whose 8,192-bp windows lie inside the bundled BRCA1 slice."""
    from service.genome.bundled import read_fasta

    _, bases = read_fasta(ROOT / "service/data/genome/hg38_chr17_43040000-43130000.fa")
    first = 43_040_000 + 4200
    out = []
    for i in range(count):
        pos = first + 60 * i
        ref = bases[pos - 43_040_000]
        out.append(f"chr17:{pos}:{ref}:{'A' if ref != 'A' else 'C'}")
    return out


@pytest.mark.anyio
async def test_nothing_but_scoring_starts_a_gpu_container(md: Any, gpu: GpuCalls, web_client: Any) -> None:
    """GPU-class calls per request: 0 for a 401, /health, /docs, /info and bad input."""
    auth = {"Authorization": f"Bearer {API_KEY}"}
    one = {"variant": "chr17:43119628:T:G", "genome": "hg38"}
    counts: dict[str, int] = {}
    async with web_client() as client:
        for name, call in [
            ("401 without a key", lambda: client.post("/variant-delta", json=one)),
            ("401 wrong key", lambda: client.post("/variant-delta", json=one, headers={"X-API-Key": "no"})),
            ("/health", lambda: client.get("/health")),
            ("/docs", lambda: client.get("/docs")),
            ("/openapi.json", lambda: client.get("/openapi.json")),
            ("/info", lambda: client.get("/info", headers=auth)),
            ("422 bad body", lambda: client.post("/variant-delta", json={"nope": 1}, headers=auth)),
            ("400 bad variant", lambda: client.post("/variant-delta", json={"variant": "x"}, headers=auth)),
            ("400 bad sequence", lambda: client.post("/score", json={"sequences": ["ACGU"]}, headers=auth)),
        ]:
            before = gpu.count
            response = await call()
            assert response.status_code < 500, (name, response.text)
            counts[name] = gpu.count - before
    assert counts == dict.fromkeys(counts, 0)
    assert "scorer" not in gpu.loaded  # the GPU class was never even loaded


@pytest.mark.anyio
async def test_gpu_calls_for_one_and_a_thousand_variants(
    md: Any, gpu: GpuCalls, web_client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    auth = {"Authorization": f"Bearer {API_KEY}"}
    async with web_client() as client:
        answer = await client.post("/variant-delta", json={"variant": "chr17:43119628:T:G"}, headers=auth)
        assert answer.status_code == 200, answer.text
        one = gpu.count
        variants = brca1_snvs(1000)
        answer = await client.post("/variant-delta", json={"variants": variants}, headers=auth, timeout=300)
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert len(results) == 1000 and all(r.get("delta_score") is not None for r in results)
    thousand = gpu.count - one
    per_call = md.DEPLOY.max_batch_tokens // 8192  # windows in one GPU call
    # Ref + alt window of one variant: one GPU call. 1,000 variants: 2,000 distinct windows.
    assert one == 1
    assert math.ceil(2000 / per_call) <= thousand <= math.ceil(2000 / per_call) + 10
    with capsys.disabled():
        print(f"\nGPU-class calls: 1 variant {one}, 1,000 variants {thousand} ({per_call} windows/call)")


@LOCAL
def test_gpu_class_warms_up_once_and_sends_float32(md: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real tiny Evo 2 behind ``Evo2Model``: a warm-up forward pass in ``@modal.enter``, then
    float32 log-probs equal to the scorer's own; only equal-length batches are taken."""
    from tests.support.evo2_cpu import tiny_scorer

    scorer = tiny_scorer()
    monkeypatch.setattr(md, "load_scorer", lambda settings: scorer)
    monkeypatch.setattr(md, "warm_imports", lambda: None)
    model = md.Evo2Model()
    seqs = ["ACGTACGTTGCA" * 8, "TTGACCAGGTAC" * 8]
    got = model.log_probs.local(seqs)
    assert scorer.stats.forward_passes >= 2  # the warm-up pass came first
    for array, want in zip(got, tiny_scorer().log_probs(seqs), strict=True):
        assert array.dtype == np.float32 and np.allclose(array, want, atol=1e-5)
    with pytest.raises(ValueError, match="equal-length"):
        model.log_probs.local(["ACGT", "ACGTA"])


@pytest.mark.anyio
@LOCAL
async def test_web_tier_continues_alternates_on_the_gpu_with_the_full_passes_deltas(
    md: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real tiny Evo 2 behind ``Evo2Model``: through the web tier, each alternate is continued on
    the GPU from its reference's prefix state (fewer model tokens there), and the deltas equal those of
    full passes (the same web tier without the continuation call) to float32 round-off."""
    from tests.support.evo2_cpu import tiny_scorer

    scorer = tiny_scorer()
    monkeypatch.setattr(md, "load_scorer", lambda settings: scorer)
    monkeypatch.setattr(md, "warm_imports", lambda: None)
    monkeypatch.setenv(md.DEPLOY.api_keys_env, json.dumps([API_KEY]))
    gpu = GpuCalls(md)
    gpu(["ACGT" * 4])  # the container's enter hooks (load, warm-up) run on its first call
    body = {"variants": ["chr17:43119628:T:G", "chr17:43119628:T:C", "chr17:43119700:A:G"], "window": 1024}
    auth = {"Authorization": f"Bearer {API_KEY}"}
    answers, tokens = {}, {}
    for name, continued_fn in (("continued", gpu.continued_call), ("full", None)):
        app = md.web_app(gpu, continued_fn=continued_fn)
        before = scorer.stats.snapshot()["tokens"]
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://m") as client:
            response = await client.post("/variant-delta", json=body, headers=auth)
        assert response.status_code == 200, response.text
        answers[name] = [r["delta_score"] for r in response.json()["results"]]
        tokens[name] = scorer.stats.snapshot()["tokens"] - before
    assert gpu.continued == 1  # one call: two reference windows and their three alternates
    assert tokens["continued"] < 0.8 * tokens["full"]
    assert answers["continued"] == pytest.approx(answers["full"], abs=1e-6)


# ------------------------------------------------------------------------------------------- bulk


class FakeWorker:
    """``BulkWorker`` with ``.map`` run in-process over the real bulk engine of the CPU tier."""

    def __init__(self, md: Any, gpu: GpuCalls) -> None:
        from service.jobs import bulk

        self.options: dict[str, Any] = {}
        self.chunk_sizes: list[int] = []
        engine = md.bulk_engine(gpu)
        outer = self

        class Method:
            def map(self, rows: list[Any], options: list[Any], **kwargs: Any) -> Any:
                outer.options["map"] = kwargs
                chunks = [bulk.Chunk(tuple(r), o) for r, o in zip(rows, options, strict=True)]
                outer.chunk_sizes = [len(c.rows) for c in chunks]
                return bulk.local_map_fn(engine)(chunks)

        self.score_chunk = Method()

    def with_options(self, **kwargs: Any) -> Any:
        self.options["with_options"] = kwargs
        return lambda: self


def test_bulk_entrypoint_plans_chunks_and_writes_every_row(
    md: Any,
    gpu: GpuCalls,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from service.jobs import bulk

    worker = FakeWorker(md, gpu)
    monkeypatch.setattr(md, "BulkWorker", worker)
    monkeypatch.setattr(md, "deployed", lambda name: None)
    source = tmp_path / "in.vcf"
    source.write_text(
        "#CHROM\tPOS\tID\tREF\tALT\nchr17\t43119628\tx\tT\tG,C\nchr17\t1\nchr17\t43119628\ty\tC\tG\n"
    )
    out = tmp_path / "out.tsv"
    md.score_variants.info.raw_f(str(source), str(out), max_containers=2, window=1024)

    assert worker.options["with_options"] == {"max_containers": 1}  # one chunk: one container
    assert worker.options["map"] == {"order_outputs": True, "return_exceptions": True}
    lines = out.read_text().splitlines()
    assert lines[0].split("\t") == list(bulk.COLUMNS)
    status = [line.split("\t")[bulk.COLUMNS.index("status")] for line in lines[1:]]
    assert status == ["ok", "ok", "error", "error"]
    printed = capsys.readouterr().out
    assert "ESTIMATE" in printed and "no deployed app" in printed


def test_bulk_chunks_are_sized_by_gpu_time(
    md: Any, gpu: GpuCalls, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    worker = FakeWorker(md, gpu)
    monkeypatch.setattr(md, "BulkWorker", worker)
    monkeypatch.setattr(md, "deployed", lambda name: None)
    source = tmp_path / "in.tsv"
    source.write_text("variant\n" + "\n".join(brca1_snvs(1000)) + "\n")
    md.score_variants.info.raw_f(str(source), str(tmp_path / "out.tsv"), window=256)
    plan = md.DEPLOY.bulk_plan(1000, window=256)
    assert worker.chunk_sizes == [plan.chunk_rows] * (1000 // plan.chunk_rows) + (
        [1000 % plan.chunk_rows] if 1000 % plan.chunk_rows else []
    )
    assert worker.options["with_options"] == {"max_containers": plan.containers}


@pytest.mark.parametrize(
    ("make", "args", "message"),
    [
        (None, {}, "no such file"),
        ("variant\n", {}, "holds no variants"),
        ("", {}, "empty"),
        ("variant\nchr17:43119628:T:G\n", {"genome": "hg37"}, "hg37"),
        ("variant\nchr17:43119628:T:G\n", {"window": 7}, "window"),
        ("variant\nchr17:43119628:T:G\n", {"max_containers": 99}, "--max-containers"),
    ],
)
def test_bulk_bad_input_is_one_clear_line(
    md: Any, tmp_path: Path, make: str | None, args: dict[str, Any], message: str
) -> None:
    source = tmp_path / "in.tsv"
    if make is not None:
        source.write_text(make)
    with pytest.raises(SystemExit) as stop:
        md.score_variants.info.raw_f(str(source), str(tmp_path / "out.tsv"), **args)
    assert str(stop.value).startswith("error: ") and message in str(stop.value)
    assert not (tmp_path / "out.tsv").exists()


@LOCAL
def test_bulk_worker_scores_a_chunk_through_the_gpu_class(
    md: Any, gpu: GpuCalls, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from service.domain.options import DeltaOptions
    from service.jobs import bulk

    loops: list[asyncio.AbstractEventLoop] = []
    new_loop = asyncio.new_event_loop
    monkeypatch.setattr(asyncio, "new_event_loop", lambda: loops.append(new_loop()) or loops[-1])

    rows = bulk.read_tsv(["variant\n", "chr17:43119628:T:G\n", "chr17:43119628:A:G\n"])
    results = md.BulkWorker().score_chunk.local(rows, DeltaOptions(genome="hg38", window=1024))
    assert [r.values["status"] for r in results] == ["ok", "error"]
    assert results[1].values["error_type"] == "ref_mismatch"
    assert results[0].values["model"] == md.DEPLOY.model and math.isfinite(results[0].values["delta_score"])
    assert gpu.count == 1
    for loop in loops:  # what @modal.exit does in a container (.local() runs no exit hook)
        loop.close()


def test_brca1_benchmark_entrypoint_runs_the_local_benchmark_with_remote_forward_passes(
    md: Any, gpu: GpuCalls, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Windows, resume, plots and the calibration file stay local; only the model calls are 'remote'
    (alternates continued from their reference's prefix on the GPU side)."""

    class Handle:
        def __init__(self) -> None:
            self.log_probs = type("M", (), {"remote": staticmethod(gpu)})()
            self.log_probs_continued = type("M", (), {"remote": staticmethod(gpu.continued_call)})()

    monkeypatch.setattr(md, "deployed", lambda name: None)
    monkeypatch.setattr(md, "Evo2Model", Handle)
    out = tmp_path / "brca1"
    md.brca1_benchmark.info.raw_f(out=str(out), n=40, window=1024)
    report = json.loads((out / "report.json").read_text())
    assert report["model"] == md.DEPLOY.model and report["selected"] == 40
    assert report["options"]["window"] == 1024
    assert (out / "roc.png").exists() and (out / "deltas.tsv").exists()
    assert gpu.count >= 1 and gpu.continued >= 1
    before = gpu.count
    md.brca1_benchmark.info.raw_f(out=str(out), n=40, window=1024)  # resumes: nothing left to score
    assert gpu.count == before
