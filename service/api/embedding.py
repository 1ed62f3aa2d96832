"""``POST /embed``: hidden states of named layers, as JSON or as a binary ``.npz`` / ``.npy`` body.

The answer's form follows the ``Accept`` header: ``application/x-npz`` (every array, named
``"<item>/<layer>"``, and a ``meta`` member of JSON text), ``application/x-npy`` (the one array of a
one-item, one-layer answer), otherwise JSON, which is refused beyond ``embed_max_json_values``
numbers with a ``limit_exceeded`` that says to ask for ``.npz``.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import Response

from service.api import examples
from service.api.deps import EngineDep, ResolverDep, RunnerDep, ScorerDep, SequenceLimitsDep, SettingsDep
from service.api.notations import resolve_inputs
from service.api.quota import charge
from service.api.schemas import ERROR_RESPONSES, EmbedRequest, EmbedResponse, VariantInput
from service.coords import Variant
from service.domain.cost import embed_cost
from service.domain.embeddings import (
    Embeddings,
    EmbedLimits,
    embed_sequences,
    embed_windows,
    layers_of,
    plan,
    to_npy,
    to_npz,
    variant_windows,
)
from service.domain.sequences import check_sequences
from service.errors import InvalidRequest, ServiceError
from service.genome.budget import fetch_budget
from service.resolve.resolver import Resolver
from service.scoring.embed import EmbedJob

NPZ = "application/x-npz"
NPY = "application/x-npy"
JSON = "application/json"

router = APIRouter()

_BINARY = {"schema": {"type": "string", "format": "binary"}}


def negotiate(accept: str | None) -> str:
    """``application/x-npz`` or ``application/x-npy`` when the client asks for it, else JSON."""
    wanted = [part.split(";")[0].strip().lower() for part in (accept or "").split(",")]
    for media in (NPZ, NPY):
        if media in wanted:
            return media
    return JSON


def limits_of(settings: Any) -> EmbedLimits:
    return EmbedLimits(settings.embed_max_layers, settings.embed_max_json_values, settings.embed_max_values)


@router.post(
    "/embed",
    response_model=EmbedResponse,
    tags=["embeddings"],
    responses={
        **ERROR_RESPONSES,
        200: {"content": {NPZ: _BINARY, NPY: _BINARY}, "description": "JSON, .npz or .npy (Accept)"},
    },
)
async def embed(
    body: Annotated[EmbedRequest, Body(openapi_examples=examples.EMBED)],
    request: Request,
    runner: RunnerDep,
    engine: EngineDep,
    scorer: ScorerDep,
    sequence_limits: SequenceLimitsDep,
    settings: SettingsDep,
    resolver: ResolverDep,
) -> Response:
    """Hidden states of named layers (mean over positions, or per position) for DNA sequences or for a
    variant's reference and alternate windows. ``Accept: application/x-npz`` for a binary answer."""
    if (body.sequences is None) == (body.variant is None):
        raise InvalidRequest("give exactly one of 'sequences' or 'variant'")
    media = negotiate(request.headers.get("accept"))
    widths, default = await layers_of(scorer)
    limits = limits_of(settings)
    binary = media != JSON
    if body.variant is None:
        seqs = check_sequences(body.sequences or [], sequence_limits)
        job = _one_array(
            media, plan(widths, default, seqs, body.layers, body.per_position, limits, binary=binary)
        )
        charge(request, embed_cost([len(seq) for seq in job.seqs]))
        result = await embed_sequences(runner, job)
    else:
        options = engine.options(genome=body.genome or settings.default_genome, window=body.window)
        with fetch_budget(settings.ucsc_max_fetches_per_request):
            variant = await _one_variant(resolver, body.variant, options.genome)
            windows = await variant_windows(engine, variant, options)
        pair = [windows.ref_seq, windows.alt_seq]
        job = _one_array(
            media, plan(widths, default, pair, body.layers, body.per_position, limits, binary=binary)
        )
        charge(request, embed_cost([len(seq) for seq in job.seqs]))
        result = await embed_windows(runner, job, windows)
    return _answer(result, media)


async def _one_variant(resolver: Resolver, item: VariantInput, genome: str) -> Variant:
    """The one genomic variant ``item`` names (an rsID or HGVS resolved first)."""
    [outcome] = await resolve_inputs(resolver, [item], genome, check_genomic=False)
    if isinstance(outcome, ServiceError):
        raise outcome
    if len(outcome) != 1:
        named = ", ".join(str(r.variant) for r in outcome)
        raise InvalidRequest(
            f"{item!r} has {len(outcome)} alternate alleles ({named}): embed one of them",
            detail={"alleles": [str(r.variant) for r in outcome]},
        )
    return outcome[0].variant


def _one_array(media: str, job: EmbedJob) -> EmbedJob:
    arrays = len(job.seqs) * len(job.layers)
    if media == NPY and arrays != 1:
        raise InvalidRequest(
            f"{NPY} holds one array; this answer has {arrays}: ask for {NPZ}",
            detail={"items": len(job.seqs), "layers": len(job.layers)},
        )
    return job


def _answer(result: Embeddings, media: str) -> Response:
    if media == NPZ:
        return Response(to_npz(result), media_type=NPZ)
    if media == NPY:
        return Response(to_npy(result), media_type=NPY)
    meta = result.meta()
    items = [
        {"name": name, "length": length, "embeddings": {k: v.tolist() for k, v in arrays.items()}}
        for name, length, arrays in zip(result.names, result.lengths, result.arrays, strict=True)
    ]
    body = {**{k: meta[k] for k in ("model", "layers", "per_position")}, "items": items}
    body.update({k: meta[k] for k in ("variant", "window") if k in meta})
    return Response(json.dumps(body), media_type=JSON)
