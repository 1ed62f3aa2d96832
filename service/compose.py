"""Build the service's parts from settings: scorer, genome sources, model runner, delta engine.

The one place where settings become objects; the app factory (``service.api.app``), the bulk job and
the benchmark call it. Constructors below take their options explicitly; the defaults are
``Settings``'s.
"""

from __future__ import annotations

from dataclasses import dataclass

from service import __version__
from service.coords import GENOMES
from service.domain.calibration import Calibration, load_calibration
from service.domain.delta import DeltaEngine
from service.domain.options import WindowLimits
from service.domain.score_cache import PairCache, ScoreCache
from service.domain.sequences import SequenceLimits
from service.genome.base import GenomeSource
from service.genome.layered import LayeredGenome
from service.genome.transcripts import AnnotationSource
from service.genome.ucsc import UcscGenome
from service.genome.ucsc_http import UcscHttp
from service.resolve.resolver import Resolver
from service.scoring.base import Scorer
from service.scoring.runner import ModelRunner
from service.settings import Settings


@dataclass(frozen=True)
class Parts:
    """Everything the routes and jobs use, built once."""

    settings: Settings
    scorer: Scorer
    genome: GenomeSource
    runner: ModelRunner
    engine: DeltaEngine
    calibration: Calibration
    sequence_limits: SequenceLimits
    #: Notations (rsIDs, HGVS on transcripts, genes) → genomic variants.
    resolver: Resolver


def model_revision(settings: Settings) -> str | None:
    """The model's revision for /info and output files: the setting, else (the k-mer table ships
    with the package) the package version; ``None`` when unknown."""
    if settings.model_revision:
        return settings.model_revision
    return f"evo2-variant-service {__version__}" if _is_kmer(settings.model) else None


def _is_kmer(model: str) -> bool:
    return model == "kmer" or model.startswith("kmer-")


def build_scorer(settings: Settings) -> Scorer:
    if _is_kmer(settings.model):
        from service.scoring.kmer import KmerScorer

        return KmerScorer.load()
    from service.scoring.evo2 import Evo2Scorer

    return Evo2Scorer.load(
        settings.model,
        local_path=str(settings.evo2_local_path) if settings.evo2_local_path else None,
        device=settings.device,
        max_batch_tokens=settings.max_batch_tokens,
        use_kernels=settings.use_kernels,
        kernel_bound=settings.kernel_check_bound,
        state_cache_bytes=settings.prefix_state_cache_bytes,
    )


def build_ucsc(settings: Settings, **seams: object) -> UcscGenome:
    """The UCSC source the settings describe; ``seams`` (client, transport, sleep, breaker) for tests."""
    return UcscGenome(
        genomes=GENOMES,
        cache_bytes=settings.region_cache_bytes,
        tile_bp=settings.ucsc_tile_bp,
        http=build_ucsc_http(settings, **seams),
    )


def build_ucsc_http(settings: Settings, **seams: object) -> UcscHttp:
    """The HTTP side of UCSC (client, breaker, throttle, retries) the settings describe."""
    return UcscHttp(
        base_url=settings.ucsc_base_url,
        connect_timeout=settings.ucsc_connect_timeout_s,
        read_timeout=settings.ucsc_read_timeout_s,
        max_attempts=settings.ucsc_max_attempts,
        retry_budget_s=settings.ucsc_retry_budget_s,
        backoff_base_s=settings.ucsc_backoff_base_s,
        backoff_max_s=settings.ucsc_backoff_max_s,
        breaker_failures=settings.ucsc_breaker_failures,
        breaker_reset_s=settings.ucsc_breaker_reset_s,
        max_concurrency=settings.ucsc_max_concurrency,
        requests_per_second=settings.ucsc_requests_per_second,
        rate_burst=settings.ucsc_rate_burst,
        queue_timeout_s=settings.ucsc_queue_timeout_s,
        **seams,  # type: ignore[arg-type]
    )


def _shared_http(genome: GenomeSource) -> UcscHttp | None:
    """The ``UcscHttp`` of the UCSC sequence source among ``genome`` 's, so both keep one pace."""
    sources = genome.sources if isinstance(genome, LayeredGenome) else [genome]
    return next((s.http for s in sources if isinstance(s, UcscGenome)), None)


def build_annotations(settings: Settings, genome: GenomeSource) -> list[AnnotationSource]:
    """The gene-model and dbSNP sources the settings name, in their order."""
    from service.genome.gene_models import LocalAnnotations, read_genepred, read_rsid_vcf

    sources: list[AnnotationSource] = []
    for name in settings.annotation_sources:
        if name == "bundled":
            sources.append(LocalAnnotations.bundled())
        elif name == "file":
            models = {"hg38": settings.gene_models_hg38, "hg19": settings.gene_models_hg19}
            rsids = {"hg38": settings.rsid_vcf_hg38, "hg19": settings.rsid_vcf_hg19}
            transcripts = [pair for g, p in models.items() if p for pair in read_genepred(p, genome=g)]
            snps = [pair for g, p in rsids.items() if p for pair in read_rsid_vcf(p, genome=g)]
            files = [str(p) for p in (*models.values(), *rsids.values()) if p]
            if files:
                sources.append(LocalAnnotations("file", transcripts, snps, files))
        elif name == "ucsc":
            from service.genome.ucsc_annotations import UcscAnnotations

            sources.append(
                UcscAnnotations(
                    _shared_http(genome) or build_ucsc_http(settings),
                    genomes=GENOMES,
                    refseq_track=settings.ucsc_refseq_track,
                    select_track=settings.ucsc_select_track,
                    dbsnp_track=settings.ucsc_dbsnp_track,
                )
            )
    return sources


def build_resolver(settings: Settings, genome: GenomeSource) -> Resolver:
    return Resolver(
        genome, build_annotations(settings, genome), cache_entries=settings.resolution_cache_entries
    )


def build_genome(settings: Settings) -> GenomeSource:
    sources: list[GenomeSource] = []
    for name in settings.genome_sources:
        if name == "bundled":
            from service.genome.bundled import BundledGenome

            sources.append(BundledGenome())
        elif name == "fasta":
            paths = {g: p for g, p in (("hg38", settings.fasta_hg38), ("hg19", settings.fasta_hg19)) if p}
            if paths:
                from service.genome.fasta import FastaGenome

                sources.append(FastaGenome(paths))
        elif name == "ucsc":
            sources.append(build_ucsc(settings))
    return LayeredGenome(sources)


def build_runner(settings: Settings, scorer: Scorer) -> ModelRunner:
    return ModelRunner(
        scorer,
        max_queue=settings.max_queue,
        timeout_s=settings.model_timeout_s,
        retry_after_s=settings.queue_retry_after_s,
        batch_wait_ms=settings.merge_wait_ms,
        batch_max_tokens=settings.max_merge_tokens,
        continuation=settings.prefix_continuation,
        trim_tokens=settings.malloc_trim_tokens,
    )


def build_parts(
    settings: Settings,
    *,
    scorer: Scorer | None = None,
    genome: GenomeSource | None = None,
    runner: ModelRunner | None = None,
) -> Parts:
    """The parts ``settings`` describe; ``scorer``, ``genome`` and ``runner`` replace the built ones."""
    scorer = scorer or build_scorer(settings)
    genome = genome or build_genome(settings)
    runner = runner or build_runner(settings, scorer)
    calibration = load_calibration(scorer.name, settings.calibration_dir)
    max_window = min(settings.max_window, scorer.max_length)
    engine = DeltaEngine(
        genome,
        runner,
        calibration,
        windows=WindowLimits(settings.default_window, settings.min_window, max_window),
        cluster_max_bp=settings.cluster_max_bp,
        max_non_acgt_fraction=settings.max_non_acgt_fraction,
        fetch_concurrency=settings.cluster_fetch_concurrency,
        max_remote_fetches=settings.ucsc_max_fetches_per_request,
        chunk_tokens=settings.request_chunk_tokens,
        cache=ScoreCache(settings.ref_cache_bytes),
        pair_cache=PairCache(settings.pair_cache_bytes),
    )
    limits = SequenceLimits(
        max_sequences=settings.max_sequences,
        max_length=min(settings.max_sequence_length, scorer.max_length),
        max_total_bases=settings.max_total_bases,
    )
    resolver = build_resolver(settings, genome)
    return Parts(settings, scorer, genome, runner, engine, calibration, limits, resolver)
