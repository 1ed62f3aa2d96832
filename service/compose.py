"""Build the scorer and the genome source that settings describe (used by the app factory)."""

from __future__ import annotations

from service.genome.base import GenomeSource
from service.genome.layered import LayeredGenome
from service.scoring.base import Scorer
from service.settings import Settings


def build_scorer(settings: Settings) -> Scorer:
    if settings.model == "kmer" or settings.model.startswith("kmer-"):
        from service.scoring.kmer import KmerScorer

        return KmerScorer.load()
    from service.scoring.evo2 import Evo2Scorer

    return Evo2Scorer.load(
        settings.model,
        local_path=str(settings.evo2_local_path) if settings.evo2_local_path else None,
        device=settings.device,
        max_batch_tokens=settings.max_batch_tokens,
        use_kernels=settings.use_kernels,
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
            from service.genome.ucsc import UcscGenome

            sources.append(
                UcscGenome(
                    base_url=settings.ucsc_base_url,
                    connect_timeout=settings.ucsc_connect_timeout_s,
                    read_timeout=settings.ucsc_read_timeout_s,
                    max_attempts=settings.ucsc_max_attempts,
                    retry_budget_s=settings.ucsc_retry_budget_s,
                    cache_bytes=settings.region_cache_bytes,
                    breaker_failures=settings.ucsc_breaker_failures,
                    breaker_reset_s=settings.ucsc_breaker_reset_s,
                    tile_bp=settings.ucsc_tile_bp,
                )
            )
    return LayeredGenome(sources)
