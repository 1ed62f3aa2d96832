"""Deployment settings for Modal: what ``modal_deploy.py``'s decorators read, tests and the README state.

Plain data, no Modal import. Defaults live in :class:`Deployment` (pydantic-settings); every field can be
overridden by an ``EVO2_DEPLOY_<FIELD>`` environment variable when running ``modal deploy`` (the GPU type,
container caps, CORS origins, ...). The image pins are class constants, not fields: change them here,
deliberately.

The deploying shell's values travel into the containers (:meth:`Deployment.runtime_env`), so the module
evaluates the same way on both sides.

Figures (seconds per window, forward-pass size, cold start) come from the GPU benchmark's results
file when it has run on the GPU type (``service.deployment.figures``), and are labelled ESTIMATE
otherwise.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version
from pydantic import field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from service.deployment.figures import BulkPlan, GpuFigures, load_figures, plan_bulk
from service.deployment.gpus import GpuType, check_gpu, parse_gpu
from service.scoring.evo2_models import MODELS

SnapshotMode = Literal["off", "memory", "gpu"]

#: Commits of the checkpoint repositories that this service was written against. The evo2_7b commit
#: (and the MD5 below) are the ones independent Evo 2 reproductions report for ``evo2_7b.pt``.
PINNED_REVISIONS: dict[str, str] = {
    "evo2_7b": "bda0089f92582d5baabf0f22d9fc85f3588f6b58",
}
CHECKPOINT_MD5: dict[str, str] = {
    "evo2_7b": "359ef88ccac2a62644035578de8a7db4",
}

#: The service's runtime dependencies, pinned for the image. Each must satisfy the bounds in
#: pyproject.toml's ``[project].dependencies`` (a test checks), so the image runs what CI tested.
SERVICE_REQUIREMENTS: tuple[str, ...] = (
    "fastapi==0.165.0",
    "pydantic==2.14.3",
    "pydantic-settings==2.16.3",
    "httpx==0.28.1",
    "uvicorn==0.54.0",
    "numpy==2.4.6",
    "biopython==1.88",
    "pyfaidx==0.9.2.2",
    "prometheus-client==0.26.0",
    "tqdm==4.70.1",
    "cachetools==8.0.2",
    "packaging==26.4",
)

_REVISION_RE = re.compile(r"^[0-9a-f]{40}$")
ENV_PREFIX = "EVO2_DEPLOY_"
DEFAULT_DEPLOY_MODEL = "evo2_7b"


class Deployment(BaseSettings):
    """Defaults, overridden by ``EVO2_DEPLOY_<FIELD>`` environment variables (pydantic-settings:
    booleans as 1/0, true/false, yes/no, on/off; ``CORS_ORIGINS`` comma-separated).

    Choosing another ``MODEL`` drops the evo2_7b pin: give its ``MODEL_REVISION`` (and optionally
    ``CHECKPOINT_MD5``) as well.
    """

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="forbid")

    # --- names ---------------------------------------------------------------------------------------
    app_name: str = "evo2-variant-service"
    #: Label of the web endpoint: https://<workspace>--<label>.modal.run
    web_label: str = "evo2-variant-service"

    # --- model and weights ---------------------------------------------------------------------------
    model: str = DEFAULT_DEPLOY_MODEL
    #: Commit of the checkpoint repository; empty means "not pinned" (downloads refuse unless allowed).
    model_revision: str = PINNED_REVISIONS[DEFAULT_DEPLOY_MODEL]
    #: Expected MD5 of the checkpoint file; empty skips the check.
    checkpoint_md5: str = CHECKPOINT_MD5[DEFAULT_DEPLOY_MODEL]
    volume_name: str = "evo2-weights"
    weights_mount: str = "/weights"
    #: Largest forward pass in tokens: from the GPU benchmark's results for this GPU type when they
    #: exist (``bench/results/``), else the ESTIMATE of 4 windows of 8,192 bp.
    max_batch_tokens: int = 0
    use_kernels: bool = False

    # --- reference genomes ---------------------------------------------------------------------------
    #: Volume with bgzipped, indexed UCSC FASTAs (``download_genome``); read-only for the web tier.
    genome_volume_name: str = "evo2-genomes"
    genome_mount: str = "/genomes"
    genome_base_url: str = "https://hgdownload.soe.ucsc.edu/goldenPath"

    # --- GPU class: sequences → log-probs ------------------------------------------------------------
    #: Modal GPU type (``H100!`` pins an H100; plain ``H100`` may be upgraded); ``TYPE:N`` for several.
    gpu: str = "H100"
    #: Seconds one GPU call (one batch of windows) may run.
    timeout_s: int = 600
    #: Seconds a cold container may take to start: imports, reading ~14 GB, the warm-up pass.
    startup_timeout_s: int = 900
    #: Idle seconds before a container stops (an idle H100 bills until then).
    scaledown_window_s: int = 180
    #: The cost cap: at most this many GPU containers at once.
    max_containers: int = 3
    min_containers: int = 0
    #: GPU calls one container holds at once (the model runs one at a time; the second one waits
    #: inside the container instead of in Modal's queue) ...
    max_concurrent_inputs: int = 2
    #: ... and the load per container the autoscaler aims for: a second concurrent call starts
    #: another container (up to ``max_containers``), so load spreads.
    target_inputs: int = 1
    #: Modal retries of a failed GPU call or bulk chunk (a lost container, a preemption).
    retries: int = 2
    #: Container memory request: loading the checkpoint holds ~14 GB in host memory.
    memory_mib: int = 32_768
    #: "off"; "memory": CPU memory snapshot of the imported libraries; "gpu": also the loaded, warmed
    #: model (Modal's GPU snapshots are alpha). Snapshots only apply to deployed apps.
    snapshot: SnapshotMode = "off"

    # --- web tier: the FastAPI app on CPU containers -------------------------------------------------
    web_max_containers: int = 2
    #: Requests one web container serves at once, and the load the autoscaler aims for.
    web_max_inputs: int = 100
    web_target_inputs: int = 50
    web_scaledown_window_s: int = 300
    web_timeout_s: int = 600

    # --- access --------------------------------------------------------------------------------------
    #: Modal secret holding the API keys as a JSON list in ``api_keys_env``.
    api_keys_secret: str = "evo2-service-keys"
    api_keys_env: str = "EVO2_SERVICE_API_KEYS"
    require_api_key: bool = True
    #: Modal's proxy auth (Modal-Key / Modal-Secret headers, checked before any container starts).
    requires_proxy_auth: bool = False
    cors_origins: Annotated[tuple[str, ...], NoDecode] = ()
    #: Optional Modal secret with HF_TOKEN for download_weights (the Evo 2 repositories are public).
    hf_token_secret: str = ""

    # --- downloads -----------------------------------------------------------------------------------
    download_timeout_s: int = 3600

    # --- bulk ----------------------------------------------------------------------------------------
    #: Seconds one bulk chunk may run on its CPU worker ...
    bulk_timeout_s: int = 1800
    #: ... and the estimated GPU seconds a chunk is sized to: a quarter of that, so a chunk ends well
    #: inside the timeout even when its GPU calls queue behind others.
    bulk_chunk_gpu_s: float = 240.0

    # --- image pins (class constants: no environment variable changes them) ---------------------------
    python_version: ClassVar[str] = "3.12"
    torch_version: ClassVar[str] = "2.7.1"
    torch_index_url: ClassVar[str] = "https://download.pytorch.org/whl/cu128"
    flash_attn_wheel_url: ClassVar[str] = (
        "https://github.com/Dao-AILab/flash-attention/releases/download/v2.8.3/"
        "flash_attn-2.8.3+cu12torch2.7cxx11abiTRUE-cp312-cp312-linux_x86_64.whl"
    )
    evo2_requirement: ClassVar[str] = "evo2==0.6.0"
    vtx_requirement: ClassVar[str] = "vtx==1.1.0"
    hf_hub_requirement: ClassVar[str] = "huggingface_hub==2.4.0"
    #: htslib's bgzip and faidx (download_genome): samtools-compatible .fai and .gzi indexes.
    pysam_requirement: ClassVar[str] = "pysam==0.24.1"
    service_requirements: ClassVar[tuple[str, ...]] = SERVICE_REQUIREMENTS
    #: Non-Python-file package data the images carry (``add_local_python_source`` keeps .py only).
    package_data_dir: ClassVar[str] = "service/data"

    # ------------------------------------------------------------------------------------------------

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(item.strip() for item in value.split(",") if item.strip())
        return value

    @model_validator(mode="before")
    @classmethod
    def _pin_of_the_model(cls, data: Any) -> Any:
        """Another model than the default takes its own pin (or none), never evo2_7b's."""
        if isinstance(data, dict):
            model = data.get("model", DEFAULT_DEPLOY_MODEL)
            if model != DEFAULT_DEPLOY_MODEL:
                data.setdefault("model_revision", PINNED_REVISIONS.get(model, ""))
                data.setdefault("checkpoint_md5", CHECKPOINT_MD5.get(model, ""))
            if not data.get("max_batch_tokens"):
                data["max_batch_tokens"] = load_figures(str(data.get("gpu", "H100"))).max_batch_tokens
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Deployment:
        if not 2 <= self.scaledown_window_s <= 3600:
            raise ValueError("scaledown_window_s must be within 2..3600 (Modal's range)")
        if self.min_containers < 0 or self.max_containers < max(1, self.min_containers):
            raise ValueError("need 0 ≤ min_containers ≤ max_containers and max_containers ≥ 1")
        if not 1 <= self.target_inputs <= self.max_concurrent_inputs:
            raise ValueError("need 1 ≤ target_inputs ≤ max_concurrent_inputs")
        if not 1 <= self.web_target_inputs <= self.web_max_inputs or self.web_max_containers < 1:
            raise ValueError("need 1 ≤ web_target_inputs ≤ web_max_inputs and web_max_containers ≥ 1")
        if not 0 < self.bulk_chunk_gpu_s <= self.bulk_timeout_s / 3:
            raise ValueError("bulk_chunk_gpu_s must be positive and at most a third of bulk_timeout_s")
        if self.retries < 0 or self.max_batch_tokens < 2:
            raise ValueError("retries must be ≥ 0 and max_batch_tokens ≥ 2")
        spec = MODELS.get(self.model)
        if spec is None or spec.requires_transformer_engine:
            deployable = ", ".join(n for n, m in MODELS.items() if not m.requires_transformer_engine)
            raise ValueError(
                f"cannot deploy {self.model!r}: the image has no Transformer Engine; deployable: {deployable}"
            )
        check_gpu(self.gpu, min_memory_gib=spec.min_gpu_memory_gib)
        return self

    def runtime_env(self) -> dict[str, str]:
        """``EVO2_DEPLOY_*`` variables that rebuild this deployment inside a container."""
        out = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, bool):
                text = "1" if value else "0"
            elif isinstance(value, tuple):
                text = ",".join(value)
            else:
                text = str(value)
            out[ENV_PREFIX + name.upper()] = text
        return out

    # --- derived -------------------------------------------------------------------------------------

    @property
    def checkpoint_repo(self) -> str:
        return MODELS[self.model].hf_repo

    @property
    def checkpoint_filename(self) -> str:
        return MODELS[self.model].checkpoint

    @property
    def is_pinned(self) -> bool:
        return bool(_REVISION_RE.match(self.model_revision))

    @property
    def checkpoint_dir(self) -> str:
        """Where the checkpoint of this revision lives on the volume (revisions never overwrite)."""
        revision = self.model_revision if self.is_pinned else "unpinned"
        return f"{self.weights_mount}/{self.checkpoint_repo}/{revision}"

    @property
    def checkpoint_path(self) -> str:
        return f"{self.checkpoint_dir}/{self.checkpoint_filename}"

    @property
    def hf_home(self) -> str:
        return f"{self.weights_mount}/hf-home"

    @property
    def image_env(self) -> dict[str, str]:
        """Environment of the GPU image: no hub calls, caches on the volume."""
        return {
            "HF_HOME": self.hf_home,
            "HF_HUB_OFFLINE": "1",
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "TOKENIZERS_PARALLELISM": "false",
            "PYTHONUNBUFFERED": "1",
        }

    @property
    def gpu_type(self) -> GpuType:
        return parse_gpu(self.gpu)[0]

    @property
    def gpu_count(self) -> int:
        return parse_gpu(self.gpu)[1]

    @property
    def gpu_usd_per_hour(self) -> float | None:
        return self.gpu_type.usd_per_hour

    @property
    def figures(self) -> GpuFigures:
        """Seconds per window and cold start for this GPU type (measured or ESTIMATE)."""
        return load_figures(self.gpu)

    @property
    def context_length(self) -> int:
        return MODELS[self.model].context_length

    def genome_path(self, genome: str) -> str:
        """Where ``download_genome`` puts a genome's bgzipped FASTA on the genome volume."""
        return f"{self.genome_mount}/{genome}/{genome}.fa.gz"

    def bulk_plan(self, rows: int, *, containers: int | None = None, window: int = 8192) -> BulkPlan:
        """Chunks, containers, wall time and cost of a bulk run of ``rows`` variants."""
        return plan_bulk(
            rows,
            self.figures,
            containers=containers or self.max_containers,
            chunk_gpu_s=self.bulk_chunk_gpu_s,
            scaledown_window_s=self.scaledown_window_s,
            usd_per_hour=self.gpu_usd_per_hour,
            gpus_per_container=self.gpu_count,
            window=window,
        )


#: Fields an ``EVO2_DEPLOY_<FIELD>`` variable may override (every field; the pins are class constants).
ENV_FIELDS: tuple[str, ...] = tuple(Deployment.model_fields)


def requirement_pins(requirements: tuple[str, ...]) -> dict[str, Version]:
    """``("fastapi==0.1", ...)`` → ``{"fastapi": Version("0.1")}``, names canonicalised (PEP 503).

    Raises ``ValueError`` for a requirement that is not pinned to one exact version.
    """
    pins: dict[str, Version] = {}
    for text in requirements:
        requirement = Requirement(text)
        specifiers = list(requirement.specifier)
        if len(specifiers) != 1 or specifiers[0].operator != "==" or "*" in specifiers[0].version:
            raise ValueError(f"{text!r} is not pinned to one version with ==")
        pins[canonicalize_name(requirement.name)] = Version(specifiers[0].version)
    return pins
