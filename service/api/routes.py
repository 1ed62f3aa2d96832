"""HTTP endpoints. Thin: parse, call the domain, shape the response. Errors are raised, never built."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from service import __version__
from service.api.deps import (
    CalibrationDep,
    EngineDep,
    GenomeDep,
    RunnerDep,
    ScorerDep,
    SequenceLimitsDep,
    SettingsDep,
)
from service.api.schemas import (
    ErrorEnvelope,
    HealthResponse,
    InfoResponse,
    Interval,
    LegacyAnalysisResponse,
    SaturationRequest,
    SaturationResponse,
    ScoreRequest,
    ScoreResponse,
    SequenceScore,
    VariantDeltaRequest,
    VariantDeltaResponse,
    VariantError,
    VariantFields,
    VariantInput,
    VariantResult,
)
from service.coords import Interval as Span
from service.coords import Variant, make_variant, parse_variant
from service.domain.calibration import UNCALIBRATED
from service.domain.delta import DEFAULT_DELTA_METHOD, DEFAULT_REVERSE_COMPLEMENT, VariantScore
from service.domain.saturation import ALLELES, resolve_region, saturate
from service.domain.sequences import check_sequences, score_sequences
from service.errors import InvalidRequest, LimitExceeded, ServiceError

_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorEnvelope, "description": description}
    for status, description in {
        400: "Invalid input (bad notation, unknown genome or chromosome, ref mismatch, limits)",
        401: "Missing or invalid API key",
        413: "Request body too large",
        422: "Request does not match the schema",
        429: "Rate limited (Retry-After)",
        502: "UCSC answered badly",
        503: "Overloaded, upstream unavailable or model unavailable (Retry-After)",
        504: "UCSC timed out",
    }.items()
}

#: The error responses every scoring route declares (also used by the /embed router).
ERROR_RESPONSES = _ERRORS

router = APIRouter()
public = APIRouter()


@public.get("/health", response_model=HealthResponse, tags=["meta"])
async def health(scorer: ScorerDep, genome: GenomeDep, runner: RunnerDep) -> HealthResponse:
    """Liveness: cheap, never touches the model or the network; open without a key."""
    degraded = any(source.degraded for source in genome.status())
    return HealthResponse(
        status="degraded" if degraded else "ok",
        model=scorer.name,
        detail={"genome": genome.describe(), "queue_depth": runner.queue_depth},
    )


@router.get("/info", response_model=InfoResponse, tags=["meta"], responses=_ERRORS)
async def info(
    settings: SettingsDep,
    engine: EngineDep,
    scorer: ScorerDep,
    genome: GenomeDep,
    calibration: CalibrationDep,
    sequence_limits: SequenceLimitsDep,
) -> InfoResponse:
    """Model, calibration provenance, defaults and limits."""
    s = settings
    return InfoResponse(
        service="evo2-variant-service",
        version=__version__,
        model={"name": scorer.name, "max_length": scorer.max_length, **scorer.describe()},
        calibration=calibration.describe(),
        genome=genome.describe(),
        defaults={
            "genome": s.default_genome,
            "window": engine.window_limits.default,
            "delta_method": DEFAULT_DELTA_METHOD,
            "reverse_complement": DEFAULT_REVERSE_COMPLEMENT,
        },
        limits={
            "max_variants": s.max_variants,
            "max_sequences": sequence_limits.max_sequences,
            "max_sequence_length": sequence_limits.max_length,
            "max_total_bases": sequence_limits.max_total_bases,
            "min_window": engine.window_limits.min,
            "max_window": engine.window_limits.max,
            "max_body_bytes": s.max_body_bytes,
            "max_queue": s.max_queue,
            "max_saturation_bp": s.max_saturation_bp,
            "embed_max_layers": s.embed_max_layers,
            "embed_max_json_values": s.embed_max_json_values,
            "embed_max_values": s.embed_max_values,
            "rate_limit_per_minute": s.rate_limit_per_minute,
            "rate_limit_burst": s.rate_limit_burst,
        },
        auth={"api_key_required": s.require_api_key, "schemes": ["Authorization: Bearer", "X-API-Key"]},
    )


@router.post("/score", response_model=ScoreResponse, tags=["scoring"], responses=_ERRORS)
async def score(
    body: ScoreRequest, runner: RunnerDep, limits: SequenceLimitsDep, scorer: ScorerDep
) -> ScoreResponse:
    """Log-likelihood of DNA sequences under the model."""
    seqs = check_sequences(body.sequences, limits)
    scores = await score_sequences(runner, seqs, reverse_complement=body.reverse_complement)
    return ScoreResponse(
        model=scorer.name,
        reverse_complement=body.reverse_complement,
        scores=[
            SequenceScore(
                length=s.length,
                mean_log_likelihood=s.mean,
                sum_log_likelihood=s.total,
                log_probs=s.log_probs.tolist() if body.per_position else None,
            )
            for s in scores
        ],
    )


def _input_text(item: VariantInput) -> str:
    if isinstance(item, str):
        return item
    return f"{item.chrom}:{item.pos}:{item.ref or '.'}:{item.alt}"


def _parse(item: VariantInput, genome: str) -> Variant | ServiceError:
    try:
        if isinstance(item, VariantFields):
            return make_variant(item.chrom, item.pos, item.ref, item.alt, genome=genome)
        return parse_variant(item, genome=genome)
    except ServiceError as exc:
        return exc


#: A request's variant (notation or fields) → ``Variant``, or the error it meets (also for /embed).
parse_variant_input = _parse


def _span(interval: Span) -> Interval:
    return Interval(chrom=interval.chrom, start=interval.start, end=interval.end)


def _result(item: VariantInput, scored: VariantScore) -> VariantResult:
    w = scored.windows
    variant = scored.variant
    assert variant.ref is not None  # read from the genome when the request gave none
    return VariantResult(
        input=_input_text(item),
        variant=str(variant),
        chrom=variant.chrom,
        pos=variant.pos,
        ref=variant.ref,
        alt=variant.alt,
        kind=variant.kind,
        genome=scored.options.genome,
        window=_span(w.ref_interval),
        alt_window=_span(w.alt_interval),
        region=w.ref_interval.region(),
        window_length=len(w.ref_seq),
        variant_index=w.index,
        ref_score=scored.ref_score,
        alt_score=scored.alt_score,
        delta_score=scored.delta,
        delta_method=scored.options.delta_method,
        reverse_complement=scored.options.reverse_complement,
        label=scored.label.label,
        probability_lof=scored.label.probability_lof,
        confidence=scored.label.confidence,
        model=scored.model,
    )


@router.post("/variant-delta", response_model=VariantDeltaResponse, tags=["scoring"], responses=_ERRORS)
async def variant_delta(
    body: VariantDeltaRequest, engine: EngineDep, settings: SettingsDep
) -> VariantDeltaResponse:
    """Delta log-likelihood (alt − ref) of one variant or a list, with a calibrated label."""
    if (body.variant is None) == (body.variants is None):
        raise InvalidRequest("give exactly one of 'variant' or 'variants'")
    single = body.variant is not None
    inputs: list[VariantInput] = [body.variant] if body.variant is not None else list(body.variants or [])
    if not inputs:
        raise InvalidRequest("'variants' is empty")
    if len(inputs) > settings.max_variants:
        raise LimitExceeded(
            f"{len(inputs)} variants; at most {settings.max_variants} per request",
            detail={"max_variants": settings.max_variants},
        )
    options = engine.options(
        genome=body.genome,
        window=body.window,
        delta_method=body.delta_method,
        reverse_complement=body.reverse_complement,
    )
    outcomes = await engine.score([_parse(i, body.genome) for i in inputs], options)
    if single and isinstance(outcomes[0], ServiceError):
        raise outcomes[0]
    results: list[VariantResult | VariantError] = [
        VariantError.model_validate({"input": _input_text(item), "error": outcome.to_dict()})
        if isinstance(outcome, ServiceError)
        else _result(item, outcome)
        for item, outcome in zip(inputs, outcomes, strict=True)
    ]
    return VariantDeltaResponse(
        model=engine.model, genome=body.genome, window=options.window, results=results
    )


_PREDICTIONS = {
    "likely_pathogenic": "Likely pathogenic",
    "likely_benign": "Likely benign",
    UNCALIBRATED: "Uncalibrated model",
}


@router.post(
    "/analyze_single_variant",
    response_model=LegacyAnalysisResponse,
    tags=["compatibility"],
    responses=_ERRORS,
    summary="The original project's frontend call (query parameters, no body)",
)
async def analyze_single_variant(
    engine: EngineDep,
    variant_position: Annotated[int, Query(ge=1, description="1-based position (VCF).")],
    alternative: Annotated[str, Query(min_length=1, max_length=64, description="Alternate base.")],
    genome: Annotated[str, Query(description="hg38 or hg19.")],
    chromosome: Annotated[str, Query(description="Chromosome, e.g. chr17.")],
    reference: Annotated[
        str | None, Query(max_length=64, description="Optional reference base; checked when given.")
    ] = None,
) -> LegacyAnalysisResponse:
    """Serves `POST <url>?variant_position=…&alternative=…&genome=…&chromosome=…` as the original
    Next.js frontend sends it, and answers its six fields. The window is the notebook's 8,192 bp."""
    options = engine.options(genome=genome)
    variant = make_variant(chromosome, variant_position, reference, alternative, genome=options.genome)
    [outcome] = await engine.score([variant], options)
    if isinstance(outcome, ServiceError):
        raise outcome
    ref = outcome.variant.ref
    assert ref is not None
    return LegacyAnalysisResponse(
        position=variant_position,
        reference=ref,
        alternative=variant.alt,
        delta_score=outcome.delta,
        prediction=_PREDICTIONS[outcome.label.label],
        classification_confidence=outcome.label.confidence if outcome.label.confidence is not None else 0.0,
    )


# --- /saturation ----------------------------------------------------------------------------------


@router.post("/saturation", response_model=SaturationResponse, tags=["scoring"], responses=_ERRORS)
async def saturation(body: SaturationRequest, engine: EngineDep, settings: SettingsDep) -> SaturationResponse:
    """Delta of every possible SNV in a short region (saturation mutagenesis), positions × A, C, G, T.

    Each cell equals what /variant-delta answers for that SNV; the three alternates at a position
    share one reference window and the region is read with one genome fetch."""
    region = resolve_region(
        body.region,
        body.chrom,
        body.start,
        body.end,
        genome=body.genome,
        max_bp=settings.max_saturation_bp,
    )
    options = engine.options(
        genome=body.genome,
        window=body.window,
        delta_method=body.delta_method,
        reverse_complement=body.reverse_complement,
    )
    result = await saturate(engine, region, options)
    return SaturationResponse(
        model=engine.model,
        genome=body.genome,
        chrom=region.chrom,
        start=region.start + 1,
        end=region.end,
        region=region.region(),
        window=options.window,
        delta_method=options.delta_method,
        reverse_complement=options.reverse_complement,
        alleles=list(ALLELES),
        positions=result.positions,
        ref=result.ref,
        deltas=result.deltas,
    )
