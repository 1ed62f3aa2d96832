"""Notations at the HTTP edge: inputs parsed by the one parser, resolved, and the ``/resolve`` route.

``/variant-delta`` and ``/resolve`` take the same inputs (strings in any notation, or fields). A
genomic notation needs no look-up; an rsID or HGVS is resolved first (``service.resolve``), within
the request's UCSC fetch budget, which then also covers the scoring's sequence fetches.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Body

from service.api import examples
from service.api.deps import ResolverDep, SettingsDep
from service.api.schemas import (
    ERROR_RESPONSES,
    Resolution,
    ResolveRequest,
    ResolveResponse,
    ResolveResult,
    VariantError,
    VariantFields,
    VariantInput,
)
from service.coords import check_genome, make_variant
from service.errors import InvalidRequest, LimitExceeded, ServiceError
from service.genome.budget import fetch_budget
from service.notation import Notation, parse_notation
from service.resolve.resolver import Resolution as Resolved
from service.resolve.resolver import Resolver, resolve_all

router = APIRouter()


def input_text(item: VariantInput) -> str:
    if isinstance(item, str):
        return item
    return f"{item.chrom}:{item.pos}:{item.ref or '.'}:{item.alt}"


def parse_input(item: VariantInput, genome: str) -> Notation | ServiceError:
    """The notation of one input (fields are a genomic variant), or the error it meets."""
    try:
        if isinstance(item, VariantFields):
            return make_variant(item.chrom, item.pos, item.ref, item.alt, genome=genome)
        return parse_notation(item, genome=genome)
    except ServiceError as exc:
        return exc


def inputs_of(
    variant: VariantInput | None, variants: list[VariantInput] | None, limit: int
) -> list[VariantInput]:
    """The request's inputs: exactly one of ``variant`` and ``variants``, at most ``limit``."""
    if (variant is None) == (variants is None):
        raise InvalidRequest("give exactly one of 'variant' or 'variants'")
    inputs: list[VariantInput] = [variant] if variant is not None else list(variants or [])
    if not inputs:
        raise InvalidRequest("'variants' is empty")
    if len(inputs) > limit:
        raise LimitExceeded(
            f"{len(inputs)} variants; at most {limit} per request", detail={"max_variants": limit}
        )
    return inputs


async def resolve_inputs(
    resolver: Resolver, inputs: Sequence[VariantInput], genome: str, *, check_genomic: bool
) -> list[list[Resolved] | ServiceError]:
    items = [(input_text(item), parse_input(item, genome)) for item in inputs]
    return await resolve_all(resolver, items, genome, check_genomic=check_genomic)


def resolution_body(resolved: Resolved) -> Resolution:
    v = resolved.variant
    assert v.ref is not None
    return Resolution(
        notation=resolved.notation,
        variant=str(v),
        chrom=v.chrom,
        pos=v.pos,
        ref=v.ref,
        alt=v.alt,
        genome=resolved.genome,
        transcript=resolved.transcript,
        gene=resolved.gene,
        selection=resolved.selection,
        record_source=resolved.record_source,
        hgvs_c=resolved.hgvs_c,
        hgvs_g=resolved.hgvs_g,
        rsid=resolved.rsid,
        allele=resolved.allele,
        alleles=resolved.alleles,
    )


@router.post("/resolve", response_model=ResolveResponse, tags=["notations"], responses=ERROR_RESPONSES)
async def resolve(
    body: Annotated[ResolveRequest, Body(openapi_examples=examples.RESOLVE)],
    resolver: ResolverDep,
    settings: SettingsDep,
) -> ResolveResponse:
    """Notations → genomic variants, without scoring: rsIDs (each alternate allele), HGVS on RefSeq
    transcripts, gene symbols (MANE Select); genomic input has its reference allele checked (or read).
    For frontends that show the mapping before scoring it with `/variant-delta`."""
    genome = check_genome(body.genome or settings.default_genome)
    inputs = inputs_of(body.variant, body.variants, settings.max_variants)
    with fetch_budget(settings.ucsc_max_fetches_per_request):
        outcomes = await resolve_inputs(resolver, inputs, genome, check_genomic=True)
    if body.variant is not None and isinstance(outcomes[0], ServiceError):
        raise outcomes[0]
    results: list[ResolveResult | VariantError] = [
        VariantError.model_validate({"input": input_text(item), "error": outcome.to_dict()})
        if isinstance(outcome, ServiceError)
        else ResolveResult(input=input_text(item), resolutions=[resolution_body(r) for r in outcome])
        for item, outcome in zip(inputs, outcomes, strict=True)
    ]
    return ResolveResponse(genome=genome, results=results)
