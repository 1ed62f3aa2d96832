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
AnnotationSourceName = Literal["bundled", "file", "ucsc"]
DEFAULT_ANNOTATION_SOURCES: tuple[AnnotationSourceName, ...] = ("bundled", "file", "ucsc")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EVO2_SERVICE_", env_nested_delimiter="__", extra="ignore")

    # --- model -------------------------------------------------------------------------------------
    model: str = Field(
        "kmer", description="Scorer: 'kmer' (CPU baseline) or an Evo 2 model name such as 'evo2_7b'."
    )
    evo2_local_path: Path | None = Field(None, description="Evo 2 checkpoint file (no hub call when set).")
    model_revision: str | None = Field(
        None, description="The model's revision (a checkpoint commit), shown in /info and output files."
    )
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
    # UCSC is a shared public service that asks for about one request a second: the whole process keeps
    # to these caps, waiting for a slot is never counted as a UCSC failure, and one request may cause
    # only so many fetches.
    ucsc_max_concurrency: int = Field(2, ge=1, description="UCSC requests in flight at once (whole process).")
    ucsc_requests_per_second: float = Field(
        1.0, ge=0, description="Average UCSC request rate (whole process); 0 = no cap (a private mirror)."
    )
    ucsc_rate_burst: int = Field(
        2, ge=1, description="UCSC requests sent back to back before the rate applies."
    )
    ucsc_queue_timeout_s: float = Field(
        30.0, gt=0, description="Longest wait for a UCSC slot; then 503 upstream_unavailable (not a failure)."
    )
    ucsc_max_fetches_per_request: int = Field(
        16, ge=1, description="UCSC fetches one request may cause; regions beyond get limit_exceeded."
    )
    cluster_fetch_concurrency: int = Field(2, ge=1, description="Genome fetches one request runs at once.")

    # --- notations: gene models and dbSNP (rsIDs and HGVS on transcripts are resolved with these) ----
    annotation_sources: list[AnnotationSourceName] = Field(
        default_factory=lambda: list(DEFAULT_ANNOTATION_SOURCES),
        description="Where transcripts and rsIDs are looked up, in order: the bundled BRCA1 records, the "
        "files below, UCSC's REST API (search, ncbiRefSeq, ncbiRefSeqSelect, dbSNP tracks).",
    )
    gene_models_hg38: Path | None = Field(
        None, description="genePred file (a UCSC ncbiRefSeq table dump, plain or gzip) for hg38."
    )
    gene_models_hg19: Path | None = Field(None, description="genePred file for hg19.")
    rsid_vcf_hg38: Path | None = Field(
        None, description="VCF with rsIDs (ID column or INFO RS=, e.g. dbSNP's or ClinVar's) for hg38."
    )
    rsid_vcf_hg19: Path | None = Field(None, description="VCF with rsIDs for hg19.")
    ucsc_refseq_track: str = Field("ncbiRefSeq", description="UCSC track of RefSeq transcripts.")
    ucsc_select_track: str = Field(
        "ncbiRefSeqSelect",
        description="UCSC hg38 track of each gene's RefSeq Select / MANE Select transcript.",
    )
    ucsc_dbsnp_track: str = Field("dbSnp155", description="UCSC track of dbSNP records.")
    resolution_cache_entries: int = Field(
        4096, ge=0, description="Transcripts, gene choices and rsIDs looked up, kept (misses too)."
    )

    # --- requests and limits -----------------------------------------------------------------------
    default_genome: Literal["hg38", "hg19"] = Field(
        "hg38", description="Build of requests that name none (GRCh38 and GRCh37 accepted here too)."
    )
    default_window: int = Field(8192, description="Window in bp (the Evo 2 BRCA1 notebook's 8,192).")
    min_window: int = 128
    max_window: int = 65_536
    max_variants: int = Field(1000, ge=1, description="Variants in one /variant-delta request.")
    max_sequences: int = Field(64, ge=1, description="Sequences in one /score request.")
    max_sequence_length: int = Field(65_536, ge=2)
    max_total_bases: int = Field(1_048_576, ge=2, description="Total bases in one /score request.")
    max_body_bytes: int = Field(2 * 2**20, ge=1024, description="Largest request body (413 above).")
    max_request_tokens: int = Field(
        33_554_432,
        ge=1,
        description="Largest model-token cost of one request (windows × window length × strands; /score: "
        "bases × strands); 400 limit_exceeded above.",
    )

    # --- model queue -------------------------------------------------------------------------------
    max_queue: int = Field(64, ge=1, description="Model jobs waiting at once before 503 overloaded.")
    model_timeout_s: float = Field(300.0, gt=0)
    queue_retry_after_s: float = Field(5.0, gt=0)

    # --- batching ----------------------------------------------------------------------------------
    # Merging concurrent requests' windows into one scorer call (the micro-batcher). Not to be confused
    # with max_batch_tokens, the largest forward pass that call is then split into.
    merge_wait_ms: float = Field(
        5.0, ge=0, le=1000, description="How long the first model job waits for others to merge with."
    )
    max_merge_tokens: int = Field(
        262_144, ge=0, description="Bases in one merged scorer call (0: no merging, one call per job)."
    )
    #: Old names of merge_wait_ms and max_merge_tokens, still read (EVO2_SERVICE_BATCH_*).
    batch_wait_ms: float | None = Field(None, ge=0, le=1000, description="Deprecated: merge_wait_ms.")
    batch_max_tokens: int | None = Field(None, ge=0, description="Deprecated: max_merge_tokens.")
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
    max_non_acgt_fraction: float = Field(
        0.01,
        ge=0,
        le=1,
        description="Largest share of N (or other non-ACGT) bases in a variant's window; above it the "
        "variant is refused (ambiguous_window). Any N withholds the label.",
    )

    # --- bulk jobs ---------------------------------------------------------------------------------
    bulk_chunk_rows: int = Field(200, ge=1, description="Variants per bulk chunk (one model call each).")

    # --- access ------------------------------------------------------------------------------------
    api_keys: list[SecretStr] = Field(default_factory=list, description="Accepted API keys (bearer).")
    require_api_key: bool = Field(False, description="Refuse requests without a valid key (not /health).")
    cors_origins: list[str] = Field(default_factory=list)
    rate_limit_per_minute: float = Field(0, ge=0, description="Requests per minute per key or IP; 0 = off.")
    rate_limit_burst: int = Field(30, ge=1)
    model_tokens_per_minute: float = Field(
        0, ge=0, description="Model tokens per minute per key or IP (a second bucket); 0 = off."
    )
    model_tokens_burst: int | None = Field(
        None, ge=1, description="Size of the model-token bucket (default: max_request_tokens)."
    )

    # --- the HTTP server (`make serve`: python -m service.api.server) ------------------------------
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses of proxies whose X-Forwarded-For / -Proto are believed; none by default.",
    )
    header_timeout_s: float = Field(10.0, gt=0, description="Time a client has to send its request headers.")
    body_timeout_s: float = Field(30.0, gt=0, description="Time a client has to send its request body.")
    keep_alive_timeout_s: float = Field(
        5.0, gt=0, description="Idle keep-alive connections are closed after."
    )
    max_connections: int = Field(1024, ge=1, description="Open connections; one more is answered 503.")

    @field_validator("default_genome", mode="before")
    @classmethod
    def _ucsc_name(cls, value: object) -> object:
        # The aliases of service.coords.check_genome (settings may not import coords: same layer).
        aliases = {"grch38": "hg38", "grch37": "hg19"}
        return aliases.get(value.strip().lower(), value.strip()) if isinstance(value, str) else value

    @field_validator("default_window", "min_window", "max_window")
    @classmethod
    def _even(cls, value: int) -> int:
        if value < 2 or value % 2:
            raise ValueError("window sizes must be even and ≥ 2")
        return value

    @model_validator(mode="after")
    def _old_names(self) -> Settings:
        if self.batch_wait_ms is not None and "merge_wait_ms" not in self.model_fields_set:
            self.merge_wait_ms = self.batch_wait_ms
        if self.batch_max_tokens is not None and "max_merge_tokens" not in self.model_fields_set:
            self.max_merge_tokens = self.batch_max_tokens
        return self

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if not self.min_window <= self.default_window <= self.max_window:
            raise ValueError("need min_window ≤ default_window ≤ max_window")
        if self.require_api_key and not self.api_keys:
            raise ValueError("require_api_key is set but no api_keys are configured")
        if self.model_tokens_burst is not None and self.model_tokens_burst < self.max_request_tokens:
            raise ValueError("model_tokens_burst must hold at least max_request_tokens")
        return self

    @property
    def model_token_bucket(self) -> int:
        """Size of the per-client model-token bucket."""
        return self.model_tokens_burst or self.max_request_tokens
