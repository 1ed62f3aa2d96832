"""HTTP endpoints. Thin: parse, call the domain, shape the response. Errors are raised, never built."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Request, Response

from service import __version__
from service.api import examples
from service.api.deps import (
    CalibrationDep,
    EngineDep,
    GenomeDep,
    ResolverDep,
    RunnerDep,
    ScorerDep,
    SequenceLimitsDep,
    SettingsDep,
)
from service.api.notations import input_text, inputs_of, resolution_body, resolve_inputs
from service.api.quota import charge
from service.api.schemas import (
    CONTEXT_BP,
    ERROR_RESPONSES,
    AlleleResults,
    DeltaContextBody,
    HealthResponse,
    InfoResponse,
    Interval,
    LegacyAnalysisResponse,
    ResultWarning,
    SaturationRequest,
    SaturationResponse,
    ScoreRequest,
    ScoreResponse,
    SequenceScore,
    SequenceSource,
    VariantDeltaRequest,
    VariantDeltaResponse,
    VariantError,
    VariantFields,
    VariantInput,
    VariantResult,
)
from service.compose import model_revision
from service.coords import Interval as Span
from service.coords import assumed_genome_warning, make_variant, names_build
from service.domain.calibration import LABEL_REASONS, MODEL_NOT_VALIDATED, NO_CALIBRATION, Label
from service.domain.cost import saturation_cost, score_cost, variant_delta_cost
from service.domain.delta import VariantScore
from service.domain.options import DEFAULT_DELTA_METHOD, DEFAULT_REVERSE_COMPLEMENT
from service.domain.saturation import ALLELES, resolve_region, saturate
from service.domain.sequences import check_sequences, score_sequences
from service.errors import LimitExceeded, ServiceError
from service.genome.base import SourceIdentity
from service.genome.budget import fetch_budget
from service.resolve.resolver import Resolution as Resolved

_ERRORS = ERROR_RESPONSES

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
        model={
            "name": scorer.name,
            "max_length": scorer.max_length,
            **scorer.describe(),
            "revision": model_revision(s),
        },
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
            "max_request_tokens": s.max_request_tokens,
            "model_tokens_per_minute": s.model_tokens_per_minute,
            "model_token_bucket": s.model_token_bucket,
            "max_json_items": max(s.max_variants, s.max_sequences),
        },
        auth={"api_key_required": s.require_api_key, "schemes": ["Authorization: Bearer", "X-API-Key"]},
    )


@router.post("/score", response_model=ScoreResponse, tags=["scoring"], responses=_ERRORS)
async def score(
    request: Request,
    body: Annotated[ScoreRequest, Body(openapi_examples=examples.SCORE)],
    runner: RunnerDep,
    limits: SequenceLimitsDep,
    scorer: ScorerDep,
) -> ScoreResponse:
    """Log-likelihood of DNA sequences under the model."""
    seqs = check_sequences(body.sequences, limits)
    charge(request, score_cost([len(seq) for seq in seqs], reverse_complement=body.reverse_complement))
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


def _span(interval: Span) -> Interval:
    return Interval(chrom=interval.chrom, start=interval.start, end=interval.end)


def _source(identity: SourceIdentity | None) -> SequenceSource:
    assert identity is not None  # the engine names the source of every window it scores
    return SequenceSource(name=identity.name, assembly=identity.assembly, version=identity.version)


def _warnings(item: VariantInput, genome_given: bool, genome: str) -> list[ResultWarning]:
    """``genome_assumed`` for a variant without a reference allele (and no accession naming its
    build) scored on the default genome: nothing in the request confirms the build."""
    if genome_given or not isinstance(item, VariantFields) or item.ref or names_build(item.chrom):
        return []
    return [ResultWarning.model_validate(assumed_genome_warning(genome))]


def _result(item: VariantInput, scored: VariantScore, genome_given: bool) -> VariantResult:
    w = scored.windows
    variant = scored.variant
    assert variant.ref is not None  # read from the genome when the request gave none
    return VariantResult(
        input=input_text(item),
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
        context_before=w.ref_seq[max(0, w.index - CONTEXT_BP) : w.index],
        context_after=w.ref_seq[w.index + len(variant.ref) :][:CONTEXT_BP],
        ref_score=scored.ref_score,
        alt_score=scored.alt_score,
        delta_score=scored.delta,
        delta_method=scored.options.delta_method,
        reverse_complement=scored.options.reverse_complement,
        label=scored.label.label,
        label_reason=scored.label.reason,
        probability_lof=scored.label.probability_lof,
        confidence=scored.label.confidence,
        non_acgt_ref=w.non_acgt_ref,
        non_acgt_alt=w.non_acgt_alt,
        source=_source(scored.source),
        context=DeltaContextBody.model_validate(scored.context, from_attributes=True)
        if scored.context
        else None,
        context_reason=scored.context_reason,
        model=scored.model,
        warnings=_warnings(item, genome_given, scored.options.genome),
    )


def _error(item: VariantInput, error: ServiceError) -> VariantError:
    return VariantError.model_validate({"input": input_text(item), "error": error.to_dict()})


def _scored(
    item: VariantInput, resolved: Resolved, outcome: VariantScore | ServiceError, genome_given: bool
) -> VariantResult | VariantError:
    if isinstance(outcome, ServiceError):
        return _error(item, outcome)
    result = _result(item, outcome, genome_given)
    if resolved.notation != "genomic":
        result.resolution = resolution_body(resolved)
    return result


@router.post("/variant-delta", response_model=VariantDeltaResponse, tags=["scoring"], responses=_ERRORS)
async def variant_delta(
    request: Request,
    body: Annotated[VariantDeltaRequest, Body(openapi_examples=examples.VARIANT_DELTA)],
    engine: EngineDep,
    settings: SettingsDep,
    resolver: ResolverDep,
) -> VariantDeltaResponse:
    """Delta log-likelihood (alt − ref) of one variant or a list, with a calibrated label.

    rsIDs and HGVS are resolved first (each result's `resolution` says to what); an rsID with several
    alternate alleles is one entry with a result per allele (`alleles`)."""
    inputs = inputs_of(body.variant, body.variants, settings.max_variants)
    options = engine.options(
        genome=body.genome or settings.default_genome,
        window=body.window,
        delta_method=body.delta_method,
        reverse_complement=body.reverse_complement,
    )
    with fetch_budget(settings.ucsc_max_fetches_per_request):  # resolution and scoring share it
        resolved = await resolve_inputs(resolver, inputs, options.genome, check_genomic=False)
        flat = [r for entry in resolved if not isinstance(entry, ServiceError) for r in entry]
        if len(flat) > settings.max_variants:
            raise LimitExceeded(
                f"the inputs mean {len(flat)} variants (an rsID can mean several alleles); at most "
                f"{settings.max_variants} per request",
                detail={"max_variants": settings.max_variants, "variants": len(flat)},
            )
        cost = variant_delta_cost(len(flat), options.window, reverse_complement=options.reverse_complement)
        charge(request, cost)
        outcomes = await engine.score([r.variant for r in flat], options)
    if body.variant is not None:  # one variant: its error is the answer's
        first = resolved[0] if isinstance(resolved[0], ServiceError) else outcomes[0]
        if isinstance(first, ServiceError) and len(outcomes) <= 1:
            raise first
    scored = iter(outcomes)
    genome_given = body.genome is not None
    results: list[VariantResult | AlleleResults | VariantError] = []
    for item, entry in zip(inputs, resolved, strict=True):
        if isinstance(entry, ServiceError):
            results.append(_error(item, entry))
            continue
        alleles = [_scored(item, r, next(scored), genome_given) for r in entry]
        if len(alleles) == 1:
            results.append(alleles[0])
        else:
            results.append(AlleleResults(input=input_text(item), rsid=entry[0].rsid or "", alleles=alleles))
    return VariantDeltaResponse(
        model=engine.model,
        genome=options.genome,
        window_length=options.window,
        window=options.window,
        results=results,
    )


_LEGACY = examples.LEGACY_QUERY

_PREDICTIONS = {"likely_pathogenic": "Likely pathogenic", "likely_benign": "Likely benign"}


def _prediction(label: str | None, reason: str | None) -> str:
    """The original frontend's display string; a model without a usable calibration is 'Uncalibrated'."""
    if label is not None:
        return _PREDICTIONS[label]
    if reason in (None, NO_CALIBRATION, MODEL_NOT_VALIDATED):
        return "Uncalibrated model"
    return f"Not labelled: {LABEL_REASONS[reason]}"


@router.post(
    "/analyze_single_variant",
    response_model=LegacyAnalysisResponse,
    tags=["compatibility"],
    responses=_ERRORS,
    summary="The original project's frontend call (query parameters, no body)",
)
async def analyze_single_variant(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    response: Response,
    variant_position: Annotated[
        int,
        Query(ge=1, description="1-based position (VCF).", openapi_examples=_LEGACY["variant_position"]),
    ],
    alternative: Annotated[
        str,
        Query(
            min_length=1,
            max_length=64,
            description="Alternate base.",
            openapi_examples=_LEGACY["alternative"],
        ),
    ],
    chromosome: Annotated[
        str, Query(description="Chromosome, e.g. chr17.", openapi_examples=_LEGACY["chromosome"])
    ],
    genome: Annotated[
        str | None,
        Query(
            description="hg38 or hg19 (GRCh38, GRCh37 too); default: the server's.",
            openapi_examples=_LEGACY["genome"],
        ),
    ] = None,
    reference: Annotated[
        str | None, Query(max_length=64, description="Optional reference base; checked when given.")
    ] = None,
) -> LegacyAnalysisResponse:
    """Serves `POST <url>?variant_position=…&alternative=…&genome=…&chromosome=…` as the original
    Next.js frontend sends it, and answers its six fields. The window is the notebook's 8,192 bp. A
    null confidence (and an assumed genome) is explained in the `X-Evo2-Note` header."""
    options = engine.options(genome=genome or settings.default_genome)
    variant = make_variant(chromosome, variant_position, reference, alternative, genome=options.genome)
    charge(request, variant_delta_cost(1, options.window, reverse_complement=options.reverse_complement))
    [outcome] = await engine.score([variant], options)
    if isinstance(outcome, ServiceError):
        raise outcome
    ref = outcome.variant.ref
    assert ref is not None
    label = outcome.label
    item = VariantFields(chrom=chromosome, pos=variant_position, ref=reference, alt=alternative)
    notes = [w.message for w in _warnings(item, genome is not None, options.genome)]
    if label.confidence is None:
        notes.insert(0, _confidence_note(label, outcome.model))
    if notes:
        response.headers["x-evo2-note"] = "; ".join(notes)
    return LegacyAnalysisResponse(
        position=variant_position,
        reference=ref,
        alternative=variant.alt,
        delta_score=outcome.delta,
        prediction=_prediction(label.label, label.reason),
        classification_confidence=label.confidence,
    )


def _confidence_note(label: Label, model: str) -> str:
    """Why ``classification_confidence`` is null (an HTTP header: ASCII only)."""
    if label.label is None and label.reason in (None, NO_CALIBRATION, MODEL_NOT_VALIDATED):
        return (
            f"classification_confidence is null: {model} has no usable calibration (GET /info, "
            "calibration), so no label and no confidence are given"
        )
    if label.label is None:
        reason = LABEL_REASONS.get(label.reason or NO_CALIBRATION, "")
        return f"classification_confidence is null: no label for this variant ({reason})"
    return f"classification_confidence is null: the calibration of {model} has no logistic fit"


# --- /saturation ----------------------------------------------------------------------------------


@router.post("/saturation", response_model=SaturationResponse, tags=["scoring"], responses=_ERRORS)
async def saturation(
    request: Request,
    body: Annotated[SaturationRequest, Body(openapi_examples=examples.SATURATION)],
    engine: EngineDep,
    settings: SettingsDep,
) -> SaturationResponse:
    """Delta of every possible SNV in a short region (saturation mutagenesis), positions × A, C, G, T.

    Each cell equals what /variant-delta answers for that SNV; the three alternates at a position
    share one reference window and the region is read with one genome fetch."""
    genome = body.genome or settings.default_genome
    region = resolve_region(
        body.region,
        body.chrom,
        body.start,
        body.end,
        genome=genome,
        max_bp=settings.max_saturation_bp,
    )
    options = engine.options(
        genome=genome,
        window=body.window,
        delta_method=body.delta_method,
        reverse_complement=body.reverse_complement,
    )
    charge(
        request, saturation_cost(len(region), options.window, reverse_complement=options.reverse_complement)
    )
    result = await saturate(engine, region, options)
    return SaturationResponse(
        model=engine.model,
        genome=options.genome,
        chrom=region.chrom,
        start=region.start + 1,
        end=region.end,
        region=region.region(),
        window_length=options.window,
        window=options.window,
        delta_method=options.delta_method,
        reverse_complement=options.reverse_complement,
        source=_source(result.source),
        alleles=list(ALLELES),
        positions=result.positions,
        ref=result.ref,
        deltas=result.deltas,
    )
