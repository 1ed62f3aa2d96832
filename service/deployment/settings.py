"""Deployment settings for Modal: what ``modal_deploy.py``'s decorators read, tests and the README state.

Plain data, no Modal import. Defaults live in :class:`Deployment` (pydantic-settings); every field can be
overridden by an ``EVO2_DEPLOY_<FIELD>`` environment variable when running ``modal deploy`` (the GPU type,
container caps, CORS origins, ...). The image pins are class constants, not fields: change them here,
deliberately.

The deploying shell's values travel into the containers (:meth:`Deployment.runtime_env`), so the module
evaluates the same way on both sides.

Figures marked ESTIMATE (cold start, seconds per window, cost) are placeholders until
``bench/gpu_evo2_7b.py`` measures them on a GPU.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version
from pydantic import field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

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

#: Modal list prices seen for the GPUs this service fits on (USD per GPU-hour; check modal.com/pricing).
GPU_USD_PER_HOUR: dict[str, float] = {"H100": 3.95, "H200": 4.54, "A100-80GB": 2.50, "L40S": 1.95}

#: ESTIMATE (to be replaced by bench/gpu_evo2_7b.py): seconds for one cold container (imports,
#: reading ~14 GB from the volume, moving it to the GPU), low and high.
ESTIMATED_COLD_START_S: tuple[float, float] = (30.0, 90.0)
#: ESTIMATE: GPU seconds per 8,192-bp window for evo2_7b on an H100 (the FLOP floor is ~0.13 s).
ESTIMATED_SECONDS_PER_WINDOW = 0.3
#: Windows scored per SNV: a reference and an alternate window (alleles at one position share the ref).
WINDOWS_PER_VARIANT = 2.0

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
    model_revision: str = PINNED_REVISIONS["evo2_7b"]
    #: Expected MD5 of the checkpoint file; empty skips the check.
    checkpoint_md5: str = CHECKPOINT_MD5["evo2_7b"]
    volume_name: str = "evo2-weights"
    weights_mount: str = "/weights"
    #: Largest forward pass: 4 windows of 8,192 bp. Users report ~30 GB peak for four 6-7 kb sequences
    #: beside ~15 GB of weights; 8 windows would near an 80 GB H100. ESTIMATE until bench/gpu_evo2_7b.py
    #: measures memory per batch size (CUDA out-of-memory still splits a batch rather than failing).
    max_batch_tokens: int = 32_768
    use_kernels: bool = False

    # --- GPU class -----------------------------------------------------------------------------------
    gpu: str = "H100"
    #: Seconds one input (a web request or a bulk chunk) may run.
    timeout_s: int = 900
    #: Seconds a cold container may take to start: imports plus reading ~14 GB from the volume.
    startup_timeout_s: int = 900
    #: Idle seconds before a container stops (an idle H100 bills until then).
    scaledown_window_s: int = 180
    #: The cost cap: at most this many GPU containers at once.
    max_containers: int = 3
    min_containers: int = 0
    #: Inputs one container accepts at once (/health answers while the model computes; GPU work is
    #: serialised inside the app by its model queue).
    max_concurrent_inputs: int = 16
    #: Container memory request: loading the checkpoint holds ~14 GB in host memory.
    memory_mib: int = 32_768
    #: "off"; "memory": CPU memory snapshot of the imported libraries; "gpu": also the loaded model
    #: (Modal's GPU snapshots are alpha). Snapshots only apply to deployed apps.
    snapshot: SnapshotMode = "off"

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

    # --- download ------------------------------------------------------------------------------------
    download_timeout_s: int = 3600

    # --- bulk ----------------------------------------------------------------------------------------
    bulk_chunk_rows: int = 200

    # --- image pins (not overridable from the environment) ---------------------------------------------
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
    service_requirements: ClassVar[tuple[str, ...]] = SERVICE_REQUIREMENTS
    #: Non-Python-file package data the image must carry (``add_local_python_source`` keeps .py only).
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
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Deployment:
        if not 2 <= self.scaledown_window_s <= 3600:
            raise ValueError("scaledown_window_s must be within 2..3600 (Modal's range)")
        if self.min_containers < 0 or self.max_containers < max(1, self.min_containers):
            raise ValueError("need 0 ≤ min_containers ≤ max_containers and max_containers ≥ 1")
        if self.max_concurrent_inputs < 1 or self.bulk_chunk_rows < 1:
            raise ValueError("max_concurrent_inputs and bulk_chunk_rows must be ≥ 1")
        spec = MODELS.get(self.model)
        if spec is None or spec.requires_transformer_engine:
            deployable = ", ".join(n for n, m in MODELS.items() if not m.requires_transformer_engine)
            raise ValueError(
                f"cannot deploy {self.model!r}: the image has no Transformer Engine; deployable: {deployable}"
            )
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
    def gpu_usd_per_hour(self) -> float | None:
        return GPU_USD_PER_HOUR.get(self.gpu.split(":")[0].rstrip("!"))

    @property
    def gpu_count(self) -> int:
        _, _, count = self.gpu.partition(":")
        return int(count) if count else 1

    def estimated_cost_usd(
        self,
        variants: int,
        *,
        seconds_per_window: float = ESTIMATED_SECONDS_PER_WINDOW,
        containers: int = 1,
    ) -> float | None:
        """ESTIMATE of the GPU bill for scoring ``variants`` SNVs: compute, plus one cold start and one
        scale-down window per container. ``None`` for a GPU without a known price."""
        price = self.gpu_usd_per_hour
        if price is None:
            return None
        compute_s = variants * WINDOWS_PER_VARIANT * seconds_per_window
        overhead_s = containers * (ESTIMATED_COLD_START_S[1] + self.scaledown_window_s)
        return (compute_s + overhead_s) / 3600 * price * self.gpu_count


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
