"""Evo 2 variant scoring on Modal: a CPU web tier, a GPU class for forward passes only, bulk workers.

    modal run modal_deploy.py::download_weights            # once: the pinned checkpoint onto a Volume
    modal run modal_deploy.py::download_genome --genome hg38   # optional: an indexed FASTA on a Volume
    modal deploy modal_deploy.py                            # the API at https://<workspace>--<label>.modal.run
    modal run modal_deploy.py::smoke                        # health, 401, one variant vs the recorded value
    modal run modal_deploy.py::score_variants --input variants.vcf --output scores.tsv
    modal run modal_deploy.py::brca1_benchmark --out out/brca1-evo2_7b --write-calibration
    modal run modal_deploy.py::gpu_benchmark                # bench/gpu_evo2_7b.py in the GPU image

GPU seconds are spent only on forward passes: ``web`` (the FastAPI app: auth, limits, parsing, genome
fetches, windows, caches, calibration) and ``BulkWorker`` run on CPUs and send equal-length sequence
batches to ``Evo2Model``, whose only method turns them into per-position log-probs. A refused
request, ``/health``, ``/docs``, ``/info`` or a validation error never starts a GPU container.

Every option is plain data in ``service/deployment/`` (``EVO2_DEPLOY_*`` overrides); ``modal_kwargs``
only swaps names for Modal objects. Importing this module needs ``modal`` and the project, never torch
or evo2 (those load inside the GPU containers).
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import modal

from service.deployment import Deployment
from service.deployment.containers import container_options
from service.deployment.figures import describe_plan, results_path
from service.deployment.images import ImageSpec, image_specs

ROOT = Path(__file__).resolve().parent
LogProbsFn = Callable[[list[str]], Any]
#: Prefix groups ``[ref, [alt, ...], need_ref]`` → ``[ref log-probs or None, [alt log-probs, ...]]``.
ContinuedFn = Callable[[list[Any]], Any]


def load_deployment() -> Deployment:
    """The deployment from ``EVO2_DEPLOY_*``; a bad value stops with one line, not a traceback."""
    try:
        return Deployment()
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        errors = getattr(exc, "errors", lambda: [])()
        reason = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'deployment'}: {e['msg']}" for e in errors)
        raise SystemExit(f"error: bad EVO2_DEPLOY_* setting: {reason or exc}") from None


def build_image(spec: ImageSpec) -> modal.Image:
    """The one place a plain-data :class:`ImageSpec` becomes a ``modal.Image``."""
    image = modal.Image.debian_slim(python_version=spec.python_version)
    if spec.apt_packages:
        image = image.apt_install(*spec.apt_packages)
    for step in spec.pip_steps:
        image = image.pip_install(*step.packages, index_url=step.index_url, extra_options=step.extra_options)
    if spec.env:
        image = image.env(dict(spec.env))
    # Local files last (mounted at container start), so editing them rebuilds no layer.
    if spec.python_sources:
        image = image.add_local_python_source(*spec.python_sources)
    for folder in spec.local_dirs:
        image = image.add_local_dir(ROOT / folder.local, remote_path=folder.remote)
    for file in spec.local_files:
        image = image.add_local_file(ROOT / file.local, remote_path=file.remote)
    return image


DEPLOY = load_deployment()
OPTIONS = container_options(DEPLOY)
IMAGE_SPECS = image_specs(DEPLOY)
IMAGES = {name: build_image(spec) for name, spec in IMAGE_SPECS.items()}
VOLUMES = {
    name: modal.Volume.from_name(name, create_if_missing=True)
    for name in (DEPLOY.volume_name, DEPLOY.genome_volume_name)
}
weights = VOLUMES[DEPLOY.volume_name]
genomes = VOLUMES[DEPLOY.genome_volume_name]
app = modal.App(DEPLOY.app_name)
_snapshot_imports = DEPLOY.snapshot != "off"
_snapshot_model = DEPLOY.snapshot == "gpu"


def modal_kwargs(name: str) -> dict[str, Any]:
    """``OPTIONS[name]`` as ``@app.function`` / ``@app.cls`` arguments: names become Modal objects."""
    options = {k: v for k, v in OPTIONS[name].items() if k not in ("concurrency", "asgi") and v is not None}
    options["image"] = IMAGES[options["image"]]
    options["volumes"] = {
        path: VOLUMES[v["name"]].read_only() if v["read_only"] else VOLUMES[v["name"]]
        for path, v in options["volumes"].items()
    }
    options["secrets"] = [
        modal.Secret.from_name(secret, required_keys=keys) for secret, keys in options["secrets"].items()
    ]
    return options


# ----------------------------------------------------------------------------------- plain functions
# Modal-free steps the containers run; tests call them, and patch ``gpu_call`` and ``load_scorer``.


def gpu_settings(deploy: Deployment) -> Any:
    """The ``Settings`` the GPU container's scorer is built from (it serves no HTTP and reads no genome)."""
    from service.settings import Settings

    return Settings(
        model=deploy.model,
        evo2_local_path=deploy.checkpoint_path,
        device="cuda:0",
        max_batch_tokens=deploy.max_batch_tokens,
        use_kernels=deploy.use_kernels,
        genome_sources=["bundled"],
    )


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


def warm_imports() -> None:
    """Import the heavy libraries (inside a memory snapshot when ``snapshot`` is on)."""
    import evo2.models  # noqa: F401
    import torch  # noqa: F401

    import service.scoring.evo2  # noqa: F401


def warm_up(scorer: Any, deploy: Deployment, window: int = 8192) -> dict[str, Any]:
    """One full-size forward pass at start: Triton compiles, cuFFT plans and the allocator warm up here
    (before a GPU snapshot, when on), not in the first request; a broken model fails the container."""
    import time

    import numpy as np

    count = max(1, deploy.max_batch_tokens // window)
    rng = np.random.default_rng(0)
    seqs = ["".join(rng.choice(list("ACGT"), size=window)) for _ in range(count)]
    started = time.perf_counter()
    arrays = scorer.log_probs(seqs)
    seconds = time.perf_counter() - started
    if not all(np.isfinite(a).all() for a in arrays):
        raise RuntimeError("the warm-up forward pass produced non-finite log-probs")
    return {"windows": count, "window": window, "seconds": round(seconds, 3)}


def gpu_log_probs(scorer: Any, seqs: list[str], deploy: Deployment) -> list[Any]:
    """What ``Evo2Model.log_probs`` does: one equal-length batch → float32 per-position log-probs."""
    import numpy as np

    if not seqs or len({len(s) for s in seqs}) != 1:
        raise ValueError("Evo2Model.log_probs takes a non-empty batch of equal-length sequences")
    if len(seqs) > 1 and len(seqs) * len(seqs[0]) > 8 * deploy.max_batch_tokens:
        raise ValueError(f"a batch of {len(seqs)} × {len(seqs[0])} bases is larger than one call may be")
    return [np.asarray(a, dtype=np.float32) for a in scorer.log_probs(seqs)]


def gpu_log_probs_continued(scorer: Any, groups: list[Any], deploy: Deployment) -> list[Any]:
    """What ``Evo2Model.log_probs_continued`` does: prefix groups ``[ref, [alt, ...], need_ref]`` of
    one window length → per group ``[ref log-probs or None, [alt log-probs, ...]]`` in float32, each
    alternate continued from the reference's prefix state (a scorer without continuation: full passes)."""
    import numpy as np

    from service.scoring.prefix import PrefixGroup, log_probs_by_windows, supports_continuation

    asked = [PrefixGroup(str(ref), tuple(map(str, alts)), bool(need)) for ref, alts, need in groups]
    if (
        not asked
        or len({len(g.ref) for g in asked}) != 1
        or any(len(a) != len(g.ref) for g in asked for a in g.alts)
    ):
        raise ValueError(
            "Evo2Model.log_probs_continued takes a non-empty list of groups of one window length"
        )
    if len(asked) > 1 and sum(g.tokens for g in asked) > 8 * deploy.max_batch_tokens:
        raise ValueError(f"{len(asked)} groups of {len(asked[0].ref)} bases are more than one call may be")
    if supports_continuation(scorer):
        answers = scorer.log_probs_continued(asked)
    else:
        answers = log_probs_by_windows(scorer.log_probs, asked)

    def f32(array: Any) -> Any:
        return None if array is None else np.asarray(array, dtype=np.float32)

    return [[f32(a.ref), [f32(x) for x in a.alts]] for a in answers]


def installed_genomes(deploy: Deployment) -> dict[str, str]:
    """Genomes ``download_genome`` put on the volume (the FASTA and both indexes present)."""
    found = {}
    for genome in ("hg38", "hg19"):
        path = deploy.genome_path(genome)
        if all(Path(path + suffix).is_file() for suffix in ("", ".fai", ".gzi")):
            found[genome] = path
    return found


def service_settings(deploy: Deployment, *, fastas: dict[str, str] | None = None) -> Any:
    """The app's ``Settings`` on the CPU tier: the indexed FASTA from the volume when it is there,
    then bundled slices, then UCSC; API keys come from the secret's environment."""
    from service.settings import Settings

    fastas = installed_genomes(deploy) if fastas is None else fastas
    overrides: dict[str, Any] = {
        "model": deploy.model,
        "genome_sources": ["bundled", "fasta", "ucsc"] if fastas else ["bundled", "ucsc"],
        "fasta_hg38": fastas.get("hg38"),
        "fasta_hg19": fastas.get("hg19"),
        "require_api_key": deploy.require_api_key,
        "max_window": min(65_536, deploy.context_length),
    }
    if deploy.cors_origins:
        overrides["cors_origins"] = list(deploy.cors_origins)
    return Settings(**overrides)


def remote_scorer(
    log_probs_fn: LogProbsFn, deploy: Deployment, *, in_flight: int, continued_fn: ContinuedFn | None = None
) -> Any:
    """A scorer whose forward passes are ``log_probs_fn`` calls of one GPU forward pass each; with
    ``continued_fn``, alternates continued on the GPU from their reference's prefix state."""
    from service.scoring.remote import RemoteScorer

    facts = {"gpu": deploy.gpu, "app": deploy.app_name, "model_revision": deploy.model_revision}
    return RemoteScorer(
        deploy.model,
        deploy.context_length,
        log_probs_fn,
        call_tokens=deploy.max_batch_tokens,
        max_in_flight=in_flight,
        facts=facts,
        continued_fn=continued_fn,
    )


def web_app(
    log_probs_fn: LogProbsFn,
    deploy: Deployment = DEPLOY,
    *,
    continued_fn: ContinuedFn | None = None,
    **settings: Any,
) -> Any:
    """The FastAPI app of the web tier. Its micro-batcher makes one scorer call at a time; each call
    fans out into up to ``max_containers`` GPU calls at once, so one busy web container can keep every
    GPU container busy (and the autoscaler, aiming at one call per GPU container, starts them)."""
    from service.api.app import create_app
    from service.compose import build_genome

    config = service_settings(deploy, **settings)
    scorer = remote_scorer(log_probs_fn, deploy, in_flight=deploy.max_containers, continued_fn=continued_fn)
    return create_app(config, scorer=scorer, genome=build_genome(config))


def bulk_engine(
    log_probs_fn: LogProbsFn,
    deploy: Deployment = DEPLOY,
    *,
    continued_fn: ContinuedFn | None = None,
    **settings: Any,
) -> Any:
    """A bulk worker's engine: one GPU call in flight per worker (the parallelism is one chunk per
    worker, as many workers as GPU containers)."""
    from service.compose import build_parts

    config = service_settings(deploy, **settings)
    scorer = remote_scorer(log_probs_fn, deploy, in_flight=1, continued_fn=continued_fn)
    return build_parts(config, scorer=scorer).engine


def md5_of(path: str | os.PathLike[str], block: int = 2**24) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        while chunk := handle.read(block):
            digest.update(chunk)
    return digest.hexdigest()


def checkpoint_problem(deploy: Deployment, *, allow_unpinned: bool) -> str | None:
    if deploy.is_pinned or allow_unpinned:
        return None
    return (
        f"model_revision {deploy.model_revision!r} is not a 40-hex commit of {deploy.checkpoint_repo}; "
        "set EVO2_DEPLOY_MODEL_REVISION, or pass --allow-unpinned to take the repository's main branch"
    )


def fetch_checkpoint(
    deploy: Deployment,
    download: Callable[..., str],
    commit: Callable[[], None],
    *,
    allow_unpinned: bool = False,
    force: bool = False,
) -> str:
    """The body of ``fetch_weights``: the pinned revision onto the volume, MD5-checked; returns its path.
    ``download`` is ``huggingface_hub.hf_hub_download``; ``commit`` the volume's commit."""
    problem = checkpoint_problem(deploy, allow_unpinned=allow_unpinned)
    if problem:
        raise ValueError(problem)
    target = Path(deploy.checkpoint_path)
    if target.is_file() and not force:
        print(f"{target} is already on the volume ({target.stat().st_size / 1e9:.1f} GB): kept")
        return str(target)
    revision = deploy.model_revision if deploy.is_pinned else "main"
    print(f"downloading {deploy.checkpoint_repo}@{revision}/{deploy.checkpoint_filename} (~14 GB) ...")
    path = download(
        deploy.checkpoint_repo,
        deploy.checkpoint_filename,
        revision=revision,
        local_dir=deploy.checkpoint_dir,
        force_download=force,
    )
    if deploy.checkpoint_md5:
        observed = md5_of(path)
        if observed != deploy.checkpoint_md5:
            Path(path).unlink()
            commit()
            raise ValueError(
                f"MD5 of {path} is {observed}, expected {deploy.checkpoint_md5}; the file was removed. "
                "Set EVO2_DEPLOY_CHECKPOINT_MD5 (empty to skip) if the expectation is wrong."
            )
        print(f"MD5 {observed} matches")
    commit()
    return str(path)


def gpu_call() -> LogProbsFn:
    """The GPU class's method as a plain callable (tests put ``Evo2Model().log_probs.local`` here)."""
    return Evo2Model().log_probs.remote  # type: ignore[no-any-return]


def gpu_continued_call() -> ContinuedFn:
    """The GPU class's continuation method as a plain callable (``log_probs_continued.local`` in tests)."""
    return Evo2Model().log_probs_continued.remote  # type: ignore[no-any-return]


def deployed(cls_name: str) -> Any | None:
    """The deployed app's class, or ``None`` when the app (or that class) is not deployed."""
    try:
        return modal.Cls.from_name(DEPLOY.app_name, cls_name).hydrate()
    except modal.exception.NotFoundError:
        return None


def fail(message: str) -> None:
    """Stop an entrypoint with one clear line on stderr and exit status 1 (never a traceback)."""
    raise SystemExit(f"error: {message}")


# ------------------------------------------------------------------------------- the GPU class


@app.cls(**modal_kwargs("Evo2Model"))
@modal.concurrent(**OPTIONS["Evo2Model"]["concurrency"])
class Evo2Model:
    """Loaded once per container; its only work is sequences → per-position log-probs."""

    @modal.enter(snap=_snapshot_imports)
    def import_libraries(self) -> None:
        warm_imports()

    @modal.enter(snap=_snapshot_model)
    def load(self) -> None:
        self.scorer = load_scorer(gpu_settings(DEPLOY))
        self.warm_up = warm_up(self.scorer, DEPLOY)
        print(f"{DEPLOY.model} ready on {DEPLOY.gpu}: warm-up {self.warm_up}")

    @modal.method()
    def log_probs(self, seqs: list[str]) -> list[Any]:
        return gpu_log_probs(self.scorer, seqs, DEPLOY)

    @modal.method()
    def log_probs_continued(self, groups: list[Any]) -> list[Any]:
        return gpu_log_probs_continued(self.scorer, groups, DEPLOY)


# -------------------------------------------------------------------------------- the web tier


@app.function(**modal_kwargs("web"))
@modal.concurrent(**OPTIONS["web"]["concurrency"])
@modal.asgi_app(**OPTIONS["web"]["asgi"])
def web() -> Any:
    return web_app(gpu_call(), continued_fn=gpu_continued_call())


# --------------------------------------------------------------------------------------- bulk


@app.cls(**modal_kwargs("BulkWorker"))
class BulkWorker:
    """One chunk at a time on a CPU: genome reads (the volume's FASTA first), windows, calibration."""

    @modal.enter()
    def load(self) -> None:
        import asyncio

        self.engine = bulk_engine(gpu_call(), continued_fn=gpu_continued_call())
        # One chunk at a time per container, all on one event loop (the genome client lives on it).
        self.loop = asyncio.new_event_loop()

    @modal.method()
    def score_chunk(self, rows: list[Any], options: Any) -> list[Any]:
        from service.jobs.bulk import score_chunk

        return self.loop.run_until_complete(score_chunk(self.engine, rows, options))

    @modal.exit()
    def close(self) -> None:
        self.loop.run_until_complete(self.engine.genome.aclose())
        self.loop.close()


def bulk_map_fn(worker: Any) -> Any:
    def map_chunks(chunks: list[Any]) -> Any:
        return worker.score_chunk.map(
            [list(c.rows) for c in chunks],
            [c.options for c in chunks],
            order_outputs=True,
            return_exceptions=True,
        )

    return map_chunks


def prepare_bulk(input: str, output: str, genome: str, window: int) -> Any:
    """Read and check the input and open the output (resuming it) locally, or stop with a clear error.
    ``genome=""`` means the service's default genome (rows without a genome column then say so)."""
    from clients.files import RunInfo
    from service import __version__
    from service.coords import check_genome
    from service.domain.options import DeltaOptions, WindowLimits
    from service.errors import ServiceError
    from service.jobs.bulk.write import BulkJob
    from service.settings import Settings

    settings = Settings()
    limits = WindowLimits(settings.default_window, settings.min_window, settings.max_window)
    try:
        options = DeltaOptions(
            genome=check_genome(genome or settings.default_genome), window=limits.check(window)
        )
        if not Path(input).is_file():
            raise FileNotFoundError(f"{input}: no such file")
        run = RunInfo(
            DEPLOY.model,
            DEPLOY.model_revision,
            options.genome,
            options.window,
            options.delta_method,
            options.reverse_complement,
            __version__,
        )
        job = BulkJob.open(input, output, options, run, genome_given=bool(genome))
    except ServiceError as exc:
        fail(exc.message)
    except (OSError, ValueError, ImportError, UnicodeDecodeError) as exc:
        fail(str(exc))
    if not job.rows:
        fail(f"{input} holds no variants")
    return job


@app.local_entrypoint()
def score_variants(
    input: str,
    output: str,
    genome: str = "",
    window: int = 8192,
    max_containers: int = DEPLOY.max_containers,
    use_deployed: bool = True,
) -> None:
    """Score a VCF or TSV into --output (.tsv, .jsonl, .vcf or .vcf.gz): chunks sized by estimated GPU
    time, one per CPU worker at a time, as many workers as GPU containers; one output row per input row
    (errors as rows), written as chunks finish; rerun the same command to resume."""
    if not 1 <= max_containers <= DEPLOY.max_containers:
        fail(f"--max-containers must be within 1..{DEPLOY.max_containers} (EVO2_DEPLOY_MAX_CONTAINERS)")
    job = prepare_bulk(input, output, genome, window)
    rows = job.todo
    if job.done:
        print(f"{output}: {len(job.done)} rows already done; scoring the other {len(rows)}")
    plan = DEPLOY.bulk_plan(len(rows), containers=max_containers, window=job.options.window)
    print(describe_plan(plan, DEPLOY.gpu))
    worker_cls = deployed("BulkWorker") if use_deployed else None
    print("using the deployed app" if worker_cls else "no deployed app: using this run's own copy")
    worker = (worker_cls or BulkWorker).with_options(max_containers=plan.containers)()
    from service.settings import Settings

    counts = job.run(bulk_map_fn(worker), chunk_rows=plan.chunk_rows, max_span=Settings().cluster_max_bp)
    print(f"wrote {output}: {counts}")


# ------------------------------------------------------------------------------------ weights


@app.function(**modal_kwargs("fetch_weights"))
def fetch_weights(allow_unpinned: bool = False, force: bool = False) -> str:
    from huggingface_hub import hf_hub_download

    return fetch_checkpoint(
        DEPLOY, hf_hub_download, weights.commit, allow_unpinned=allow_unpinned, force=force
    )


@app.local_entrypoint()
def download_weights(allow_unpinned: bool = False, force: bool = False) -> None:
    """The pinned checkpoint onto the weights volume, on a CPU container (refused locally if unpinned)."""
    problem = checkpoint_problem(DEPLOY, allow_unpinned=allow_unpinned)
    if problem:
        fail(problem)
    try:
        path = fetch_weights.remote(allow_unpinned=allow_unpinned, force=force)
    except Exception as exc:
        fail(f"download_weights failed: {exc}")
    print(f"checkpoint on volume {DEPLOY.volume_name!r}: {path}")


# ------------------------------------------------------------------------------------ genomes


@app.function(**modal_kwargs("fetch_genome"))
def fetch_genome(genome: str, force: bool = False) -> dict[str, Any]:
    from service.jobs.reference import install_genome

    report = install_genome(genome, DEPLOY.genome_mount, base_url=DEPLOY.genome_base_url, force=force)
    genomes.commit()
    return report


@app.local_entrypoint()
def download_genome(genome: str = "hg38", force: bool = False) -> None:
    """UCSC's <genome>.fa.gz onto the genome volume as bgzip + .fai/.gzi, checked against the sizes."""
    if genome not in ("hg38", "hg19"):
        fail(f"unknown genome {genome!r}: hg38 or hg19")
    try:
        report = fetch_genome.remote(genome, force=force)
    except Exception as exc:
        fail(f"download_genome failed: {exc}")
    print(json.dumps(report))


# -------------------------------------------------------------------------------------- smoke


@app.local_entrypoint()
def smoke(url: str = "", key_env: str = "EVO2_API_KEY", record: bool = False) -> None:
    """Check a deployed app end to end and print what was measured (exit 1 on any failure)."""
    import httpx

    from service.jobs.smoke import run_smoke

    api_key = os.environ.get(key_env, "")
    if not api_key:
        fail(f"set {key_env} to one of the keys in the {DEPLOY.api_keys_secret!r} secret")
    if not url:
        try:
            url = modal.Function.from_name(DEPLOY.app_name, "web").get_web_url() or ""
        except modal.exception.NotFoundError:
            fail(f"{DEPLOY.app_name!r} is not deployed: run `modal deploy modal_deploy.py` first")
    record_path = ROOT / "bench" / "results" / f"smoke-{DEPLOY.model}.json"
    with httpx.Client(base_url=url, follow_redirects=True, timeout=600) as client:
        report = run_smoke(
            client,
            api_key=api_key,
            model=DEPLOY.model,
            model_revision=DEPLOY.model_revision,
            record_path=record_path,
            record=record,
        )
    print(json.dumps({"url": url, **report.__dict__}, indent=2))
    if report.failures:
        fail("; ".join(report.failures))


# ---------------------------------------------------------------------------- GPU benchmark


@app.function(**modal_kwargs("run_gpu_benchmark"))
def run_gpu_benchmark(argv: list[str]) -> dict[str, Any]:
    sys.path.insert(0, str(Path("/root/bench")))
    import gpu_evo2_7b

    return gpu_evo2_7b.main(["--model", DEPLOY.model, "--modal-gpu", DEPLOY.gpu, *argv])  # type: ignore[no-any-return]


@app.local_entrypoint()
def gpu_benchmark(args: str = "", out: str = "") -> None:
    """``bench/gpu_evo2_7b.py`` on the deployment's GPU type in the real GPU image (random weights);
    the JSON goes to bench/results/, where the deployment defaults are read from."""
    result = run_gpu_benchmark.remote(shlex.split(args))
    path = Path(out) if out else results_path(DEPLOY.gpu)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {path}")


# ----------------------------------------------------------------------------------- BRCA1 benchmark


@app.local_entrypoint()
def brca1_benchmark(
    out: str = "out/brca1-modal",
    n: int = 0,
    window: int = 8192,
    delta_method: str = "window",
    rc: bool = False,
    write_calibration: bool = False,
    use_deployed: bool = True,
) -> None:
    """``bench/brca1.py`` with the deployed model: windows, resume, plots and calibration stay local,
    forward passes go to ``Evo2Model`` (the deployed one when there is one). ``n=0``: all 3,893 SNVs."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("brca1_bench", ROOT / "bench" / "brca1.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    model = (deployed("Evo2Model") if use_deployed else None) or Evo2Model
    gpu = model()
    scorer = remote_scorer(
        gpu.log_probs.remote,
        DEPLOY,
        in_flight=DEPLOY.max_containers,
        continued_fn=gpu.log_probs_continued.remote,
    )
    argv = ["--model", scorer.name, "--out", out, "--window", str(window), "--delta-method", delta_method]
    argv += ["--checkpoint-revision", DEPLOY.model_revision]
    argv += ["--n", str(n)] if n > 0 else []
    argv += ["--rc"] if rc else []
    argv += ["--write-calibration"] if write_calibration else []
    bench.main(argv, scorer=scorer)
