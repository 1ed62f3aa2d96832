"""HTTP endpoints. Thin: parse, call the domain, shape the response. Errors are raised, never built."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from service import __version__
from service.api.deps import Parts, PartsDep
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
from service.coords import check_genome, make_variant, parse_variant
from service.domain.calibration import UNCALIBRATED, Calibration
from service.domain.delta import DeltaOptions, DeltaResult
from service.domain.saturation import ALLELES, resolve_region, saturate
from service.errors import InvalidRequest, InvalidSequence, LimitExceeded, ServiceError
from service.scoring.base import mean_log_likelihood, reverse_complement

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

router = APIRouter()
public = APIRouter()

_VALID_BASES = frozenset("ACGTN")


@public.get("/health", response_model=HealthResponse, tags=["meta"])
async def health(parts: PartsDep) -> HealthResponse:
    """Liveness: cheap, never touches the model or the network; open without a key."""
    genome = parts.genome.describe()
    degraded = any(
        (source.get("breaker") or {}).get("state") == "open" for source in genome.get("sources", [])
    )
    return HealthResponse(
        status="degraded" if degraded else "ok",
        model=parts.scorer.name,
        detail={"genome": genome, "queue_depth": parts.runner.queue_depth},
    )


@router.get("/info", response_model=InfoResponse, tags=["meta"], responses=_ERRORS)
async def info(parts: PartsDep) -> InfoResponse:
    """Model, calibration provenance, defaults and limits."""
    s = parts.settings
    return InfoResponse(
        service="evo2-variant-service",
        version=__version__,
        model={"name": parts.scorer.name, "max_length": parts.scorer.max_length, **parts.scorer.describe()},
        calibration=parts.calibration.describe(),
        genome=parts.genome.describe(),
        defaults={
            "genome": s.default_genome,
            "window": s.default_window,
            "delta_method": "window",
            "reverse_complement": False,
        },
        limits={
            "max_variants": s.max_variants,
            "max_sequences": s.max_sequences,
            "max_sequence_length": min(s.max_sequence_length, parts.scorer.max_length),
            "max_total_bases": s.max_total_bases,
            "min_window": s.min_window,
            "max_window": _max_window(parts),
            "max_body_bytes": s.max_body_bytes,
            "max_queue": s.max_queue,
            "max_saturation_bp": s.max_saturation_bp,
            "rate_limit_per_minute": s.rate_limit_per_minute,
            "rate_limit_burst": s.rate_limit_burst,
        },
        auth={"api_key_required": s.require_api_key, "schemes": ["Authorization: Bearer", "X-API-Key"]},
    )


@router.post("/score", response_model=ScoreResponse, tags=["scoring"], responses=_ERRORS)
async def score(body: ScoreRequest, parts: PartsDep) -> ScoreResponse:
    """Log-likelihood of DNA sequences under the model."""
    s = parts.settings
    max_length = min(s.max_sequence_length, parts.scorer.max_length)
    if len(body.sequences) > s.max_sequences:
        raise LimitExceeded(
            f"{len(body.sequences)} sequences; at most {s.max_sequences} per request",
            detail={"max_sequences": s.max_sequences},
        )
    seqs = []
    for i, raw in enumerate(body.sequences):
        seq = raw.strip().upper()
        if len(seq) < 2 or len(seq) > max_length:
            raise LimitExceeded(
                f"sequence {i} has {len(seq)} bases; each must have 2 to {max_length}",
                detail={"index": i, "length": len(seq), "max_sequence_length": max_length},
            )
        if not set(seq) <= _VALID_BASES:
            bad = sorted(set(seq) - _VALID_BASES)[:5]
            raise InvalidSequence(
                f"sequence {i} contains characters other than A, C, G, T, N: {''.join(bad)!r}",
                detail={"index": i},
            )
        seqs.append(seq)
    total = sum(map(len, seqs))
    if total > s.max_total_bases:
        raise LimitExceeded(
            f"{total} bases in total; at most {s.max_total_bases} per request",
            detail={"max_total_bases": s.max_total_bases},
        )
    batch = seqs + [reverse_complement(q) for q in seqs] if body.reverse_complement else seqs
    log_probs = await parts.runner.log_probs(batch)
    scores = []
    for i, seq in enumerate(seqs):
        lp = log_probs[i]
        mean = mean_log_likelihood(lp)
        total_ll = float(lp.sum())
        if body.reverse_complement:
            rc = log_probs[len(seqs) + i]
            mean = (mean + mean_log_likelihood(rc)) / 2
            total_ll = (total_ll + float(rc.sum())) / 2
        scores.append(
            SequenceScore(
                length=len(seq),
                mean_log_likelihood=mean,
                sum_log_likelihood=total_ll,
                log_probs=lp.tolist() if body.per_position else None,
            )
        )
    return ScoreResponse(model=parts.scorer.name, reverse_complement=body.reverse_complement, scores=scores)


def _max_window(parts: Parts) -> int:
    return min(parts.settings.max_window, parts.scorer.max_length)


def check_window(parts: Parts, window: int | None) -> int:
    value = parts.settings.default_window if window is None else window
    low, high = parts.settings.min_window, _max_window(parts)
    if value % 2 or not low <= value <= high:
        raise LimitExceeded(
            f"window must be an even number of bp from {low} to {high}, got {value}",
            detail={"window": value, "min_window": low, "max_window": high},
        )
    return value


def _input_text(item: VariantInput) -> str:
    if isinstance(item, str):
        return item
    return f"{item.chrom}:{item.pos}:{item.ref or '.'}:{item.alt}"


def _parse(item: VariantInput, genome: str) -> Any:
    try:
        if isinstance(item, VariantFields):
            return make_variant(item.chrom, item.pos, item.ref, item.alt, genome=genome)
        return parse_variant(item, genome=genome)
    except ServiceError as exc:
        return exc


def _result(
    item: VariantInput, outcome: DeltaResult, options: DeltaOptions, model: str, calibration: Calibration
) -> VariantResult:
    w = outcome.windows
    variant = w.variant
    assert variant.ref is not None
    label = calibration.label(
        outcome.delta,
        window=options.window,
        delta_method=options.delta_method,
        reverse_complement=options.reverse_complement,
    )
    return VariantResult(
        input=_input_text(item),
        variant=str(variant),
        chrom=variant.chrom,
        pos=variant.pos,
        ref=variant.ref,
        alt=variant.alt,
        kind=variant.kind,
        genome=options.genome,
        window=Interval(chrom=w.ref_interval.chrom, start=w.ref_interval.start, end=w.ref_interval.end),
        alt_window=Interval(chrom=w.alt_interval.chrom, start=w.alt_interval.start, end=w.alt_interval.end),
        region=w.ref_interval.region(),
        window_length=len(w.ref_seq),
        variant_index=w.index,
        ref_score=outcome.ref_score,
        alt_score=outcome.alt_score,
        delta_score=outcome.delta,
        delta_method=options.delta_method,
        reverse_complement=options.reverse_complement,
        label=label.label,
        probability_lof=label.probability_lof,
        confidence=label.confidence,
        model=model,
    )


@router.post("/variant-delta", response_model=VariantDeltaResponse, tags=["scoring"], responses=_ERRORS)
async def variant_delta(body: VariantDeltaRequest, parts: PartsDep) -> VariantDeltaResponse:
    """Delta log-likelihood (alt − ref) of one variant or a list, with a calibrated label."""
    if (body.variant is None) == (body.variants is None):
        raise InvalidRequest("give exactly one of 'variant' or 'variants'")
    single = body.variant is not None
    inputs: list[VariantInput] = [body.variant] if body.variant is not None else list(body.variants or [])
    if not inputs:
        raise InvalidRequest("'variants' is empty")
    if len(inputs) > parts.settings.max_variants:
        raise LimitExceeded(
            f"{len(inputs)} variants; at most {parts.settings.max_variants} per request",
            detail={"max_variants": parts.settings.max_variants},
        )
    options = DeltaOptions(
        genome=body.genome,
        window=check_window(parts, body.window),
        delta_method=body.delta_method,
        reverse_complement=body.reverse_complement,
    )
    outcomes = await parts.engine.score([_parse(i, body.genome) for i in inputs], options)
    if single and isinstance(outcomes[0], ServiceError):
        raise outcomes[0]
    results: list[VariantResult | VariantError] = []
    for item, outcome in zip(inputs, outcomes, strict=True):
        if isinstance(outcome, ServiceError):
            results.append(
                VariantError.model_validate({"input": _input_text(item), "error": outcome.to_dict()})
            )
        else:
            results.append(_result(item, outcome, options, parts.scorer.name, parts.calibration))
    return VariantDeltaResponse(
        model=parts.scorer.name, genome=body.genome, window=options.window, results=results
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
    parts: PartsDep,
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
    genome_name = check_genome(genome)
    variant = make_variant(chromosome, variant_position, reference, alternative, genome=genome_name)
    options = DeltaOptions(genome=genome_name, window=check_window(parts, None))
    [outcome] = await parts.engine.score([variant], options)
    if isinstance(outcome, ServiceError):
        raise outcome
    label = parts.calibration.label(outcome.delta, window=options.window, delta_method=options.delta_method)
    ref = outcome.windows.variant.ref
    assert ref is not None
    return LegacyAnalysisResponse(
        position=variant_position,
        reference=ref,
        alternative=variant.alt,
        delta_score=outcome.delta,
        prediction=_PREDICTIONS[label.label],
        classification_confidence=label.confidence if label.confidence is not None else 0.0,
    )


# --- /saturation ----------------------------------------------------------------------------------


@router.post("/saturation", response_model=SaturationResponse, tags=["scoring"], responses=_ERRORS)
async def saturation(body: SaturationRequest, parts: PartsDep) -> SaturationResponse:
    """Delta of every possible SNV in a short region (saturation mutagenesis), positions × A, C, G, T.

    Each cell equals what /variant-delta answers for that SNV; the three alternates at a position
    share one reference window and the region is read with one genome fetch."""
    region = resolve_region(
        body.region,
        body.chrom,
        body.start,
        body.end,
        genome=body.genome,
        max_bp=parts.settings.max_saturation_bp,
    )
    options = DeltaOptions(
        genome=body.genome,
        window=check_window(parts, body.window),
        delta_method=body.delta_method,
        reverse_complement=body.reverse_complement,
    )
    result = await saturate(parts.engine, region, options)
    return SaturationResponse(
        model=parts.scorer.name,
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
