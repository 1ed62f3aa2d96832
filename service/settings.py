"""Service settings: arguments > environment (``EVO2_SERVICE_*``) > defaults.

Built in the app factory (``create_app``), never at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

GenomeSourceName = Literal["bundled", "fasta", "ucsc"]
DEFAULT_GENOME_SOURCES: tuple[GenomeSourceName, ...] = ("bundled", "fasta", "ucsc")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EVO2_SERVICE_", env_nested_delimiter="__", extra="ignore")

    # --- model -------------------------------------------------------------------------------------
    model: str = Field(
        "kmer", description="Scorer: 'kmer' (CPU baseline) or an Evo 2 model name such as 'evo2_7b'."
    )
    evo2_local_path: Path | None = Field(None, description="Evo 2 checkpoint file (no hub call when set).")
    device: str = Field("cuda:0", description="Torch device for Evo 2.")
    max_batch_tokens: int = Field(
        65_536, ge=1, description="Largest forward pass in tokens (batch size × length)."
    )
    use_kernels: bool | Literal["auto"] = Field(
        "auto",
        description="Vortex's Triton kernels for the Hyena convolutions: 'auto' keeps them on only where "
        "they agree with the plain path at load (a short sequence; the result in /info); true / false force.",
    )
    kernel_check_bound: float = Field(
        0.05, gt=0, description="Largest |log-prob| difference (nats) the kernels may show in the check."
    )
    calibration_dir: Path | None = Field(
        None, description="Directory of <model>.json calibration files (default: packaged ones)."
    )

    # --- genome ------------------------------------------------------------------------------------
    genome_sources: list[GenomeSourceName] = Field(
        default_factory=lambda: list(DEFAULT_GENOME_SOURCES),
        description="Sources in the order they are asked; the first that holds a region serves it.",
    )
    fasta_hg38: Path | None = Field(None, description="Indexed FASTA (plain or bgzip) for hg38.")
    fasta_hg19: Path | None = Field(None, description="Indexed FASTA (plain or bgzip) for hg19.")
    ucsc_base_url: str = "https://api.genome.ucsc.edu"
    ucsc_connect_timeout_s: float = Field(5.0, gt=0)
    ucsc_read_timeout_s: float = Field(20.0, gt=0)
    ucsc_max_attempts: int = Field(4, ge=1, le=10)
    ucsc_retry_budget_s: float = Field(30.0, gt=0)
    ucsc_backoff_base_s: float = Field(0.5, ge=0, description="First retry waits up to this (doubling).")
    ucsc_backoff_max_s: float = Field(8.0, ge=0, description="Longest wait between two retries.")
    ucsc_breaker_failures: int = Field(5, ge=1)
    ucsc_breaker_reset_s: float = Field(30.0, gt=0)
    region_cache_bytes: int = Field(64 * 2**20, ge=0, description="Byte bound of the fetched-region cache.")
    ucsc_tile_bp: int = Field(
        65_536, ge=0, description="UCSC fetches widened to aligned tiles of this size (0: exact windows)."
    )
    cluster_max_bp: int = Field(
        1_000_000, ge=1, description="Largest single genome fetch when variants are clustered."
    )

    # --- requests and limits -----------------------------------------------------------------------
    default_genome: Literal["hg38", "hg19"] = "hg38"
    default_window: int = Field(8192, description="Window in bp (the Evo 2 BRCA1 notebook's 8,192).")
    min_window: int = 128
    max_window: int = 65_536
    max_variants: int = Field(1000, ge=1, description="Variants in one /variant-delta request.")
    max_sequences: int = Field(64, ge=1, description="Sequences in one /score request.")
    max_sequence_length: int = Field(65_536, ge=2)
    max_total_bases: int = Field(1_048_576, ge=2, description="Total bases in one /score request.")
    max_body_bytes: int = Field(2 * 2**20, ge=1024, description="Largest request body (413 above).")

    # --- model queue -------------------------------------------------------------------------------
    max_queue: int = Field(64, ge=1, description="Model jobs waiting at once before 503 overloaded.")
    model_timeout_s: float = Field(300.0, gt=0)
    queue_retry_after_s: float = Field(5.0, gt=0)

    # --- batching ----------------------------------------------------------------------------------
    batch_wait_ms: float = Field(
        5.0, ge=0, le=1000, description="How long the first model job waits for others to merge with."
    )
    batch_max_tokens: int = Field(
        262_144, ge=0, description="Bases in one merged scorer call (0: no merging, one call per job)."
    )
    ref_cache_bytes: int = Field(
        256 * 2**20, ge=0, description="Byte bound of the reference-window score cache (0 = off)."
    )
    # --- Evo 2 engine (#14) ---------------------------------------------------------------------------
    prefix_continuation: bool = Field(
        True,
        description="Score each alternate window from its reference's prefix state where the scorer can "
        "(Evo 2); off: every window a full forward pass. Same results to round-off.",
    )
    prefix_state_cache_bytes: int = Field(
        2**30,
        ge=0,
        description="Byte bound of the reference prefix states Evo 2 keeps between requests, on its device "
        "(the 7B's state at 4,096 positions is 333 MiB; 0 = off).",
    )
    pair_cache_bytes: int = Field(
        16 * 2**20, ge=0, description="Byte bound of the scored-pair cache (about 512 B per pair; 0 = off)."
    )
    malloc_trim_tokens: int = Field(
        4 * 2**20,
        ge=0,
        description="Hand freed heap memory back to the OS (glibc malloc_trim) once the model is idle after "
        "this many bases were scored (0 = never).",
    )
    embed_max_layers: int = Field(8, ge=1, description="Layers one /embed request may name.")
    embed_max_json_values: int = Field(
        1_048_576, ge=1, description="Numbers a JSON /embed answer may hold (beyond: ask for .npz)."
    )
    embed_max_values: int = Field(
        67_108_864, ge=1, description="Numbers any /embed answer may hold (256 MiB of float32)."
    )
    request_chunk_tokens: int = Field(
        1_048_576,
        ge=1,
        description="Window bases a request sends to the model at once; each chunk is reduced to what the "
        "deltas need before the next (bounds a request's memory).",
    )
    max_saturation_bp: int = Field(512, ge=1, description="Longest region of one /saturation request.")

    # --- bulk jobs ---------------------------------------------------------------------------------
    bulk_chunk_rows: int = Field(200, ge=1, description="Variants per bulk chunk (one model call each).")

    # --- access ------------------------------------------------------------------------------------
    api_keys: list[SecretStr] = Field(default_factory=list, description="Accepted API keys (bearer).")
    require_api_key: bool = Field(False, description="Refuse requests without a valid key (not /health).")
    cors_origins: list[str] = Field(default_factory=list)
    rate_limit_per_minute: float = Field(0, ge=0, description="Requests per minute per key or IP; 0 = off.")
    rate_limit_burst: int = Field(30, ge=1)

    @field_validator("default_window", "min_window", "max_window")
    @classmethod
    def _even(cls, value: int) -> int:
        if value < 2 or value % 2:
            raise ValueError("window sizes must be even and ≥ 2")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if not self.min_window <= self.default_window <= self.max_window:
            raise ValueError("need min_window ≤ default_window ≤ max_window")
        if self.require_api_key and not self.api_keys:
            raise ValueError("require_api_key is set but no api_keys are configured")
        return self
