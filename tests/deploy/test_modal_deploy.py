"""The Modal deployment, offline: no token, no network, no GPU.

* ``modal_deploy`` imports without torch, evo2 or vortex and without touching the network.
* The decorators carry the values ``service/deployment.py`` names (read back from the Modal objects).
* The Modal-served app is the real app: with the tiny CPU Evo 2 model patched in, ``/variant-delta``
  answers through ``Evo2Service().web.local()``, behind the API key.
* The bulk entrypoint and the ``score_chunk`` method run the real bulk code in-process.
"""

from __future__ import annotations

import json
import math
import os
import re
import socket
import subprocess
import sys
import textwrap
import tomllib
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "test-key-0123456789"


class NetworkBlocked(AssertionError):
    pass


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any DNS lookup or outgoing connection fails the test."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise NetworkBlocked(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture
def md(no_network: None) -> Any:
    import modal_deploy

    return modal_deploy


def modal_options(obj: Any) -> dict[str, Any]:
    """What a Modal class or function was declared with, read back from modal 1.6.4's objects.

    Private paths (the only place they are used): ``_spec_`` holds GPU, volumes and secrets; the
    rest lives in the closure of the function's loader. Update this helper when upgrading Modal.
    """
    from modal._utils.async_utils import synchronizer

    function = obj._get_class_service_function() if hasattr(obj, "_get_class_service_function") else obj
    spec = function._spec_
    loader = synchronizer._translate_in(function)._load
    cells = dict(zip(loader.__code__.co_freevars, (c.cell_contents for c in loader.__closure__), strict=True))
    autoscaler = cells["autoscaler_settings"]
    webhooks = {
        name: method.webhook_config
        for name, method in (cells.get("method_definitions") or {}).items()
        if method.webhook_config.type
    }
    return {
        "gpu": spec.gpus,
        "volumes": {path: volume.name for path, volume in spec.volumes.items()},
        "secrets": [secret.name for secret in spec.secrets if secret.name],
        "timeout": cells["timeout"],
        "startup_timeout": cells["startup_timeout"],
        "memory": cells["memory"],
        "scaledown_window": autoscaler.scaledown_window,
        "max_containers": autoscaler.max_containers,
        "min_containers": autoscaler.min_containers,
        "max_concurrent_inputs": cells["max_concurrent_inputs"],
        "enable_memory_snapshot": cells["enable_memory_snapshot"],
        "experimental_options": cells["experimental_options"],
        "proxy_auth": {name: config.requires_proxy_auth for name, config in webhooks.items()},
        "labels": {name: config.requested_suffix for name, config in webhooks.items()},
        "methods": sorted(obj._get_method_names()) if hasattr(obj, "_get_method_names") else [],
    }


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

    import modal_deploy

    options = {
        "gpu": modal_deploy.DEPLOY.gpu,
        "max_containers": modal_deploy.DEPLOY.max_containers,
        "methods": sorted(modal_deploy.Evo2Service._get_method_names()),
        "heavy": sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED),
    }
    print(json.dumps(options))
    """
)


def test_imports_without_torch_evo2_or_network() -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "EVO2_DEPLOY_GPU": "A100-80GB",
        "EVO2_DEPLOY_MAX_CONTAINERS": "5",
        "MODAL_TOKEN_ID": "",
        "MODAL_TOKEN_SECRET": "",
    }
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", _BLOCKED_IMPORT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["heavy"] == []
    assert result["methods"] == ["describe", "log_probs", "score_chunk", "web"]
    # Environment overrides reach the deployment the decorators read.
    assert (result["gpu"], result["max_containers"]) == ("A100-80GB", 5)


# ---------------------------------------------------------------------------------------- settings


def test_gpu_class_declares_the_deployment_settings(md: Any) -> None:
    d = md.DEPLOY
    got = modal_options(md.Evo2Service)
    assert got == {
        "gpu": d.gpu,
        "volumes": {d.weights_mount: d.volume_name},
        "secrets": [d.api_keys_secret],
        "timeout": d.timeout_s,
        "startup_timeout": d.startup_timeout_s,
        "memory": d.memory_mib,
        "scaledown_window": d.scaledown_window_s,
        "max_containers": d.max_containers,
        "min_containers": d.min_containers,
        "max_concurrent_inputs": d.max_concurrent_inputs,
        "enable_memory_snapshot": d.snapshot != "off",
        "experimental_options": {"enable_gpu_snapshot": True} if d.snapshot == "gpu" else {},
        "proxy_auth": {"web": d.requires_proxy_auth},
        "labels": {"web": d.web_label},
        "methods": ["describe", "log_probs", "score_chunk", "web"],
    }


def test_defaults_are_the_documented_ones() -> None:
    from service.deployment import Deployment

    d = Deployment()
    assert (d.gpu, d.model, d.min_containers) == ("H100", "evo2_7b", 0)
    assert d.max_containers == 3 and d.scaledown_window_s == 180
    assert d.require_api_key and not d.requires_proxy_auth and d.snapshot == "off"
    # A cold start reads ~14 GB from the volume: it gets far longer than Modal's 300 s default.
    assert d.startup_timeout_s >= 600 and d.timeout_s >= 600
    assert d.volume_name == "evo2-weights" and d.api_keys_secret == "evo2-service-keys"


def test_download_is_a_cpu_function_on_the_weights_volume(md: Any) -> None:
    got = modal_options(md.download_weights)
    assert got["gpu"] is None
    assert got["volumes"] == {md.DEPLOY.weights_mount: md.DEPLOY.volume_name}
    assert got["timeout"] == 3600


def test_checkpoint_is_pinned_to_a_commit() -> None:
    from service.deployment import Deployment

    d = Deployment()
    assert re.fullmatch(r"[0-9a-f]{40}", d.model_revision) and d.is_pinned
    assert (d.checkpoint_repo, d.checkpoint_filename) == ("arcinstitute/evo2_7b", "evo2_7b.pt")
    assert d.checkpoint_path == f"/weights/arcinstitute/evo2_7b/{d.model_revision}/evo2_7b.pt"
    assert d.image_env["HF_HUB_OFFLINE"] == "1" and d.image_env["HF_HOME"].startswith(d.weights_mount)
    # Another model drops the evo2_7b pin instead of silently reusing it.
    other = Deployment.from_env({"EVO2_DEPLOY_MODEL": "evo2_7b_base"})
    assert other.checkpoint_repo == "arcinstitute/evo2_7b_base" and not other.is_pinned
    assert "unpinned" in other.checkpoint_dir


def test_image_pins_fit_together() -> None:
    from service.deployment import Deployment, normalise_name, requirement_pins

    d = Deployment()
    assert d.python_version == "3.12"
    assert re.fullmatch(r"2\.7\.\d+", d.torch_version)
    cuda = re.search(r"/whl/cu(\d+)$", d.torch_index_url)
    assert cuda is not None and cuda.group(1).startswith("12")
    wheel = d.flash_attn_wheel_url.rsplit("/", 1)[-1]
    # The prebuilt wheel must match torch (major.minor), CUDA 12, CPython 3.12 and torch's C++11 ABI.
    assert wheel == "flash_attn-2.8.3+cu12torch2.7cxx11abiTRUE-cp312-cp312-linux_x86_64.whl"
    assert d.flash_attn_wheel_url.startswith(
        "https://github.com/Dao-AILab/flash-attention/releases/download/v2.8.3/"
    )
    assert (d.evo2_requirement, d.vtx_requirement) == ("evo2==0.6.0", "vtx==1.1.0")
    # Package data the image adds beside the .py sources (k-mer table, calibration, BRCA1 slices).
    data = ROOT / d.package_data_dir
    assert {"kmer", "calibration", "genome"} <= {p.name for p in data.iterdir()}

    # Every runtime dependency of the server (pyproject.toml: the base and the server extra) is in the
    # image, pinned within its bounds.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = requirement_pins(d.service_requirements)
    for requirement in [*project["dependencies"], *project["optional-dependencies"]["server"]]:
        name, _, bound = requirement.partition(">=")
        assert normalise_name(name) in pins, f"{name} is missing from the image"
        if bound:
            assert _version(pins[normalise_name(name)]) >= _version(bound), requirement


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def test_environment_overrides_and_their_round_trip() -> None:
    from service.deployment import Deployment

    env = {
        "EVO2_DEPLOY_GPU": "H100!",
        "EVO2_DEPLOY_MAX_CONTAINERS": "2",
        "EVO2_DEPLOY_REQUIRES_PROXY_AUTH": "true",
        "EVO2_DEPLOY_CORS_ORIGINS": "https://a.example, https://b.example",
        "EVO2_DEPLOY_SNAPSHOT": "memory",
    }
    d = Deployment.from_env(env)
    assert (d.gpu, d.max_containers, d.requires_proxy_auth) == ("H100!", 2, True)
    assert d.cors_origins == ("https://a.example", "https://b.example")
    assert Deployment.from_env(d.runtime_env()) == d
    assert d.gpu_usd_per_hour == 3.95
    with pytest.raises(ValueError, match="integer"):
        Deployment.from_env({"EVO2_DEPLOY_MAX_CONTAINERS": "many"})
    with pytest.raises(ValueError, match="min_containers"):
        Deployment.from_env({"EVO2_DEPLOY_MAX_CONTAINERS": "0"})
    with pytest.raises(ValueError, match="Transformer Engine"):
        Deployment(model="evo2_40b")


def test_cost_estimate_counts_compute_and_idle_time() -> None:
    from service.deployment import ESTIMATED_SECONDS_PER_WINDOW, Deployment

    d = Deployment()
    expected = (1000 * 2 * ESTIMATED_SECONDS_PER_WINDOW + 90 + d.scaledown_window_s) / 3600 * 3.95
    assert d.estimated_cost_usd(1000) == pytest.approx(expected)
    assert Deployment(gpu="T4").estimated_cost_usd(1000) is None


# ------------------------------------------------------------------------------------ the served app


@pytest.fixture
def served(md: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """``Evo2Service`` with the tiny CPU Evo 2 model and the bundled genome patched in."""
    from service.genome.bundled import BundledGenome
    from service.genome.layered import LayeredGenome
    from tests.support.evo2_cpu import tiny_scorer

    loaded: dict[str, Any] = {"deploy": md.DEPLOY}

    def load_scorer(settings: Any) -> Any:
        loaded["settings"] = settings
        return tiny_scorer()

    monkeypatch.setenv(md.DEPLOY.api_keys_env, json.dumps([API_KEY]))
    monkeypatch.setattr(md, "load_scorer", load_scorer)
    monkeypatch.setattr(md, "load_genome", lambda settings: LayeredGenome([BundledGenome()]))
    monkeypatch.setattr(md, "warm_imports", lambda: loaded.setdefault("warmed", True))
    with warnings.catch_warnings():
        # .local() warns that the volume is not mounted here; that is the point.
        warnings.filterwarnings("ignore", message=".*executing locally.*", category=UserWarning)
        service = md.Evo2Service()
        app = service.web.local()
    yield service, app, loaded


@pytest.mark.anyio
async def test_served_app_scores_behind_the_api_key(served: Any) -> None:
    _, app, loaded = served
    settings = loaded["settings"]
    assert loaded["warmed"] is True
    deploy = loaded["deploy"]
    assert settings.model == deploy.model and settings.device == "cuda:0"
    assert str(settings.evo2_local_path) == deploy.checkpoint_path and settings.require_api_key
    assert settings.genome_sources == ["bundled", "ucsc"]

    body = {"variant": "chr17:43119628:T:G", "genome": "hg38"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://modal.test") as client:
        health = await client.get("/health")
        assert health.status_code == 200 and health.json()["model"] == "evo2-tiny"

        refused = await client.post("/variant-delta", json=body)
        assert refused.status_code == 401
        assert refused.json()["error"]["type"] == "unauthorized"
        wrong = await client.post("/variant-delta", json=body, headers={"X-API-Key": "nope"})
        assert wrong.status_code == 401

        answer = await client.post(
            "/variant-delta", json=body, headers={"Authorization": f"Bearer {API_KEY}"}
        )
    assert answer.status_code == 200, answer.text
    result = answer.json()["results"][0]
    assert (result["variant"], result["ref"], result["window_length"]) == ("chr17:43119628:T:G", "T", 8192)
    assert math.isfinite(result["delta_score"]) and result["model"] == "evo2-tiny"


@pytest.mark.anyio
async def test_score_chunk_method_uses_the_served_engine(served: Any) -> None:
    from service.domain.delta import DeltaOptions
    from service.jobs import bulk

    service, _, _ = served
    rows = bulk.read_tsv(["variant\n", "chr17:43119628:T:G\n", "chr17:43119628:A:G\n"])
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*executing locally.*", category=UserWarning)
        results = await service.score_chunk.local(rows, DeltaOptions(genome="hg38", window=1024))
    assert [r.values["status"] for r in results] == ["ok", "error"]
    assert results[1].values["error_type"] == "ref_mismatch"
    assert results[0].values["model"] == "evo2-tiny" and math.isfinite(results[0].values["delta_score"])


# ------------------------------------------------------------------------------------------- bulk


def test_bulk_entrypoint_fans_out_chunks_and_writes_every_row(
    md: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``score_variants`` with Modal's ``.map`` replaced by an in-process one over the k-mer scorer."""
    from service.genome.bundled import BundledGenome
    from service.jobs import bulk
    from service.scoring.kmer import KmerScorer
    from tests.support.parts import engine_for

    engine = engine_for(KmerScorer.load(), BundledGenome())
    calls: dict[str, Any] = {}

    class Method:
        def map(self, rows: list[Any], options: list[Any], **kwargs: Any) -> Any:
            calls["map"] = kwargs
            chunks = [bulk.Chunk(tuple(r), o) for r, o in zip(rows, options, strict=True)]
            return bulk.local_map_fn(engine)(chunks)

    class FakeService:
        score_chunk = Method()

        @classmethod
        def with_options(cls, **kwargs: Any) -> Any:
            calls["with_options"] = kwargs
            return cls

    monkeypatch.setattr(md, "Evo2Service", FakeService)
    source = tmp_path / "in.vcf"
    source.write_text(
        "#CHROM\tPOS\tID\tREF\tALT\nchr17\t43119628\tx\tT\tG,C\nchr17\t1\nchr17\t43119628\ty\tC\tG\n"
    )
    out = tmp_path / "out.tsv"
    md.score_variants.info.raw_f(str(source), str(out), max_containers=2, window=1024)

    assert calls["with_options"] == {"max_containers": 2}
    assert calls["map"]["return_exceptions"] is True and calls["map"]["order_outputs"] is True
    lines = out.read_text().splitlines()
    assert lines[0].split("\t") == list(bulk.COLUMNS)
    status = [line.split("\t")[bulk.COLUMNS.index("status")] for line in lines[1:]]
    assert status == ["ok", "ok", "error", "error"]
    assert "ESTIMATED cost" in capsys.readouterr().out


@pytest.mark.anyio
async def test_log_probs_method_is_a_remote_scorer_over_the_served_queue(served: Any) -> None:
    from tests.support.evo2_cpu import tiny_scorer

    service, _, _ = served
    seqs = ["ACGTACGTTGCA" * 8, "TTGACCA" * 10]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*executing locally.*", category=UserWarning)
        remote = await service.log_probs.local(seqs)
        facts = service.describe.local()
    local = tiny_scorer().log_probs(seqs)
    assert facts["name"] == "evo2-tiny"
    for got, want in zip(remote, local, strict=True):
        assert got.dtype == np.float32 and got.shape == want.shape
        assert np.allclose(got, want, atol=1e-5)


def test_brca1_benchmark_entrypoint_runs_the_local_benchmark_with_remote_forward_passes(
    md: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Windows, resume, plots and the calibration file stay local; only log_probs is 'remote'."""
    from service.scoring.kmer import KmerScorer

    kmer = KmerScorer.load()
    calls = {"log_probs": 0}

    class Remote:
        def __init__(self, fn: Any) -> None:
            self.remote = fn

    def remote_log_probs(seqs: list[str]) -> list[Any]:
        calls["log_probs"] += 1
        return [a.astype(np.float32) for a in kmer.log_probs(seqs)]

    class FakeService:
        describe = Remote(lambda: {"name": kmer.name, "max_length": kmer.max_length})
        log_probs = Remote(remote_log_probs)

    monkeypatch.setattr(md, "Evo2Service", FakeService)
    out = tmp_path / "brca1"
    md.brca1_benchmark.info.raw_f(out=str(out), n=40, window=1024)
    report = json.loads((out / "report.json").read_text())
    assert report["model"] == kmer.name and report["selected"] == 40
    assert report["options"]["window"] == 1024
    assert (out / "roc.png").exists() and (out / "deltas.tsv").exists()
    assert calls["log_probs"] >= 1
    before = calls["log_probs"]
    md.brca1_benchmark.info.raw_f(out=str(out), n=40, window=1024)  # resumes: nothing left to score
    assert calls["log_probs"] == before
