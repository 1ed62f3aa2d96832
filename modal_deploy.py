"""Evo 2 variant scoring on Modal GPUs: the HTTP API and bulk fan-out. No business logic here.

    modal run modal_deploy.py::download_weights        # once: the pinned checkpoint onto a Volume
    modal deploy modal_deploy.py                        # the API at https://<workspace>--<label>.modal.run
    modal run modal_deploy.py::score_variants --input variants.vcf --output scores.tsv
    modal run modal_deploy.py::brca1_benchmark --out out/brca1-evo2_7b --write-calibration

Settings come from ``service/deployment.py`` (``EVO2_DEPLOY_*`` overrides); the app is
``service.api.app.create_app``, bulk scoring is ``service.jobs.bulk``. Importing this module needs
``modal`` and the project, never torch or evo2 (those load inside the containers).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import modal

from service.deployment import Deployment

DEPLOY = Deployment.from_env()
ROOT = Path(__file__).resolve().parent

app = modal.App(DEPLOY.app_name)

weights = modal.Volume.from_name(DEPLOY.volume_name, create_if_missing=True)

# The GPU image: nothing to compile. torch's CUDA 12 wheels, flash-attn's prebuilt wheel for exactly
# that torch / CUDA 12 / CPython 3.12 / C++11-ABI, then evo2 and vtx, then the service's own
# dependencies; the project's code last so editing it rebuilds no layer.
gpu_image = (
    modal.Image.debian_slim(python_version=DEPLOY.python_version)
    .apt_install("git")
    .pip_install(f"torch=={DEPLOY.torch_version}", index_url=DEPLOY.torch_index_url)
    .pip_install(DEPLOY.flash_attn_wheel_url, extra_options="--no-deps --no-build-isolation")
    .pip_install(DEPLOY.evo2_requirement, DEPLOY.vtx_requirement, *DEPLOY.service_requirements)
    .env(DEPLOY.image_env)
    .add_local_python_source("service")
    .add_local_dir(ROOT / DEPLOY.package_data_dir, remote_path=f"/root/{DEPLOY.package_data_dir}")
)

# The download image needs only the hub client (and may reach the hub).
download_image = modal.Image.debian_slim(python_version=DEPLOY.python_version).pip_install(
    DEPLOY.hf_hub_requirement
)

_download_secrets = [modal.Secret.from_name(DEPLOY.hf_token_secret)] if DEPLOY.hf_token_secret else []
_service_secrets = (
    [modal.Secret.from_name(DEPLOY.api_keys_secret, required_keys=[DEPLOY.api_keys_env])]
    if DEPLOY.require_api_key
    else []
)
_snapshot_imports = DEPLOY.snapshot != "off"
_snapshot_model = DEPLOY.snapshot == "gpu"


# ----------------------------------------------------------------------------------- plain functions
# Small, Modal-free steps the class calls; tests patch ``load_scorer`` and ``load_genome``.


def service_settings(deploy: Deployment = DEPLOY) -> Any:
    """The app's ``Settings`` inside a GPU container; API keys come from the secret's environment."""
    from service.settings import Settings

    overrides: dict[str, Any] = {
        "model": deploy.model,
        "evo2_local_path": deploy.checkpoint_path,
        "device": "cuda:0",
        "max_batch_tokens": deploy.max_batch_tokens,
        "use_kernels": deploy.use_kernels,
        "genome_sources": ["bundled", "ucsc"],
        "require_api_key": deploy.require_api_key,
    }
    if deploy.cors_origins:
        overrides["cors_origins"] = list(deploy.cors_origins)
    return Settings(**overrides)


def load_scorer(settings: Any) -> Any:
    """The Evo 2 scorer from the checkpoint on the volume (no hub call: HF_HUB_OFFLINE=1)."""
    from service.compose import build_scorer

    path = settings.evo2_local_path
    if path is not None and not Path(path).is_file():
        raise FileNotFoundError(
            f"{path} is not on volume {DEPLOY.volume_name!r}: "
            "run `modal run modal_deploy.py::download_weights` first"
        )
    return build_scorer(settings)


def load_genome(settings: Any) -> Any:
    """Bundled BRCA1 slices first, then the UCSC REST API."""
    from service.compose import build_genome

    return build_genome(settings)


def warm_imports() -> None:
    """Import the heavy libraries (inside a memory snapshot when ``snapshot`` is on)."""
    import evo2.models  # noqa: F401
    import torch  # noqa: F401

    import service.api.app  # noqa: F401


def md5_of(path: str | os.PathLike[str], block: int = 2**24) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        while chunk := handle.read(block):
            digest.update(chunk)
    return digest.hexdigest()


# --------------------------------------------------------------------------------------------- weights


@app.function(
    image=download_image,
    volumes={DEPLOY.weights_mount: weights},
    secrets=_download_secrets,
    timeout=DEPLOY.download_timeout_s,
)
def download_weights(allow_unpinned: bool = False, force: bool = False) -> str:
    """Fetch the pinned checkpoint revision onto the volume (CPU only); returns its path."""
    from huggingface_hub import hf_hub_download

    if not DEPLOY.is_pinned and not allow_unpinned:
        raise RuntimeError(
            f"model_revision {DEPLOY.model_revision!r} is not a 40-hex commit of {DEPLOY.checkpoint_repo}; "
            "set EVO2_DEPLOY_MODEL_REVISION, or pass --allow-unpinned to take the repository's main branch"
        )
    target = Path(DEPLOY.checkpoint_path)
    if target.is_file() and not force:
        print(f"{target} is already on the volume ({target.stat().st_size / 1e9:.1f} GB)")
        return str(target)
    revision = DEPLOY.model_revision if DEPLOY.is_pinned else "main"
    print(f"downloading {DEPLOY.checkpoint_repo}@{revision}/{DEPLOY.checkpoint_filename} (~14 GB) ...")
    path = hf_hub_download(
        DEPLOY.checkpoint_repo,
        DEPLOY.checkpoint_filename,
        revision=revision,
        local_dir=DEPLOY.checkpoint_dir,
        force_download=force,
    )
    if DEPLOY.checkpoint_md5:
        observed = md5_of(path)
        if observed != DEPLOY.checkpoint_md5:
            Path(path).unlink()
            weights.commit()
            raise RuntimeError(
                f"MD5 of {path} is {observed}, expected {DEPLOY.checkpoint_md5}; the file was removed. "
                "Set EVO2_DEPLOY_CHECKPOINT_MD5 (empty to skip) if the expectation is wrong."
            )
        print(f"MD5 {observed} matches")
    weights.commit()
    print(f"saved {path}")
    return str(path)


# --------------------------------------------------------------------------------------------- the API


@app.cls(
    gpu=DEPLOY.gpu,
    image=gpu_image,
    volumes={DEPLOY.weights_mount: weights},
    secrets=_service_secrets,
    env=DEPLOY.runtime_env(),
    memory=DEPLOY.memory_mib,
    timeout=DEPLOY.timeout_s,
    startup_timeout=DEPLOY.startup_timeout_s,
    scaledown_window=DEPLOY.scaledown_window_s,
    max_containers=DEPLOY.max_containers,
    min_containers=DEPLOY.min_containers,
    enable_memory_snapshot=_snapshot_imports,
    experimental_options={"enable_gpu_snapshot": True} if _snapshot_model else None,
)
@modal.concurrent(max_inputs=DEPLOY.max_concurrent_inputs)
class Evo2Service:
    """One GPU container: the model loaded once, serving the HTTP API and bulk chunks."""

    @modal.enter(snap=_snapshot_imports)
    def import_libraries(self) -> None:
        warm_imports()

    @modal.enter(snap=_snapshot_model)
    def load(self) -> None:
        from service.api.app import create_app

        settings = service_settings()
        self.scorer = load_scorer(settings)
        self.api = create_app(settings, scorer=self.scorer, genome=load_genome(settings))

    @modal.asgi_app(label=DEPLOY.web_label, requires_proxy_auth=DEPLOY.requires_proxy_auth)
    def web(self) -> Any:
        return self.api

    @modal.method()
    def describe(self) -> dict[str, Any]:
        """The loaded model's name, context length and facts (for clients of ``log_probs``)."""
        return {"name": self.scorer.name, "max_length": self.scorer.max_length, **self.scorer.describe()}

    @modal.method()
    async def log_probs(self, seqs: list[str]) -> list[Any]:
        """Per-position log-probs (float32) through the app's model queue: a remote ``Scorer``."""
        import numpy as np

        arrays = await self.api.state.parts.runner.log_probs(seqs)
        return [np.asarray(a, dtype=np.float32) for a in arrays]

    @modal.method()
    async def score_chunk(self, rows: list[Any], options: Any) -> list[Any]:
        """Bulk: score one chunk with the app's engine (the same model queue as the HTTP API)."""
        from service.jobs.bulk import score_chunk

        return await score_chunk(self.api.state.parts.engine, rows, options)


# ------------------------------------------------------------------------------------------------ bulk


@app.local_entrypoint()
def score_variants(
    input: str,
    output: str,
    genome: str = "",
    max_containers: int = DEPLOY.max_containers,
    window: int = 8192,
    chunk_rows: int = DEPLOY.bulk_chunk_rows,
) -> None:
    """Score a VCF or TSV on GPU containers into --output (.tsv, .jsonl, .vcf or .vcf.gz), one row per
    input row (errors as rows), written as chunks finish; rerun the same command to resume."""
    from clients.files import RunInfo
    from service import __version__
    from service.coords import check_genome
    from service.domain.delta import DeltaOptions, WindowLimits
    from service.jobs.bulk.write import BulkJob
    from service.settings import Settings

    if max_containers < 1:
        raise SystemExit("--max-containers must be at least 1")
    settings = Settings()
    limits = WindowLimits(settings.default_window, settings.min_window, settings.max_window)
    options = DeltaOptions(
        genome=check_genome(genome or settings.default_genome), window=limits.check(window)
    )
    run = RunInfo(
        DEPLOY.model,
        DEPLOY.model_revision,
        options.genome,
        options.window,
        options.delta_method,
        options.reverse_complement,
        __version__,
    )
    try:
        job = BulkJob.open(input, output, options, run, genome_given=bool(genome))
    except (OSError, ValueError, ImportError) as exc:
        raise SystemExit(f"error: {exc}") from None
    rows = job.todo
    if job.done:
        print(f"{output}: {len(job.done)} rows already done; scoring the other {len(rows)}")
    cost = DEPLOY.estimated_cost_usd(len(rows), containers=max_containers)
    if cost is not None:
        print(f"{len(rows)} rows on up to {max_containers} × {DEPLOY.gpu}: ESTIMATED cost ≤ ${cost:.2f}")
    service = Evo2Service.with_options(max_containers=max_containers)()

    def map_fn(chunks: list[Any]) -> Any:
        return service.score_chunk.map(
            [list(c.rows) for c in chunks],
            [c.options for c in chunks],
            order_outputs=True,
            return_exceptions=True,
        )

    counts = job.run(map_fn, chunk_rows=chunk_rows, max_span=settings.cluster_max_bp)
    print(f"wrote {output}: {counts}")


# ----------------------------------------------------------------------------------- BRCA1 benchmark


class RemoteScorer:
    """A ``Scorer`` whose forward passes run in the GPU class: the benchmark itself stays local."""

    def __init__(self, service: Any) -> None:
        from service.scoring.base import ScorerStats

        facts = service.describe.remote()
        self._service = service
        self._facts = facts
        self.name: str = facts["name"]
        self.max_length: int = facts["max_length"]
        self.stats = ScorerStats()

    def log_probs(self, seqs: Any) -> list[Any]:
        import time

        import numpy as np

        started = time.perf_counter()
        arrays = [np.asarray(a, dtype=np.float64) for a in self._service.log_probs.remote(list(seqs))]
        self.stats.record(
            sequences=len(arrays),
            forward_passes=1,
            tokens=sum(len(s) for s in seqs),
            seconds=time.perf_counter() - started,
        )
        return arrays

    def describe(self) -> dict[str, Any]:
        return {**self._facts, "remote": f"Modal {DEPLOY.app_name} on {DEPLOY.gpu}"}


@app.local_entrypoint()
def brca1_benchmark(
    out: str = "out/brca1-modal",
    n: int = 0,
    window: int = 8192,
    delta_method: str = "window",
    rc: bool = False,
    write_calibration: bool = False,
) -> None:
    """``bench/brca1.py`` with the deployed model: windows, resume, plots and calibration stay local.

    ``n=0`` scores all 3,893 Findlay SNVs. Run ``modal deploy modal_deploy.py`` first, or use
    ``modal run`` (which starts the class for the run).
    """
    import importlib.util

    spec = importlib.util.spec_from_file_location("brca1_bench", ROOT / "bench" / "brca1.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    scorer = RemoteScorer(Evo2Service())
    argv = ["--model", scorer.name, "--out", out, "--window", str(window), "--delta-method", delta_method]
    argv += ["--checkpoint-revision", DEPLOY.model_revision]
    argv += ["--n", str(n)] if n > 0 else []
    argv += ["--rc"] if rc else []
    argv += ["--write-calibration"] if write_calibration else []
    bench.main(argv, scorer=scorer)
