"""``POST /embed``: hidden states of named layers, as JSON or as a binary ``.npz`` / ``.npy`` body.

The answer's form follows the ``Accept`` header: ``application/x-npz`` (every array, named
``"<item>/<layer>"``, and a ``meta`` member of JSON text), ``application/x-npy`` (the one array of a
one-item, one-layer answer), otherwise JSON, which is refused beyond ``embed_max_json_values``
numbers with a ``limit_exceeded`` that says to ask for ``.npz``.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from service.api.deps import EngineDep, RunnerDep, ScorerDep, SequenceLimitsDep, SettingsDep
from service.api.routes import ERROR_RESPONSES, parse_variant_input
from service.api.schemas import EmbedRequest, EmbedResponse
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
from service.errors import InvalidRequest
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
    body: EmbedRequest,
    request: Request,
    runner: RunnerDep,
    engine: EngineDep,
    scorer: ScorerDep,
    sequence_limits: SequenceLimitsDep,
    settings: SettingsDep,
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
        result = await embed_sequences(runner, job)
    else:
        options = engine.options(genome=body.genome, window=body.window)
        windows = await variant_windows(engine, parse_variant_input(body.variant, body.genome), options)
        pair = [windows.ref_seq, windows.alt_seq]
        job = _one_array(
            media, plan(widths, default, pair, body.layers, body.per_position, limits, binary=binary)
        )
        result = await embed_windows(runner, job, windows)
    return _answer(result, media)


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
