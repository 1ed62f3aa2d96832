"""``/embed``: hidden states of named layers for sequences or for a variant's two windows.

Mean-pooled over the positions by default (one row per layer), per position on request. The cost
is bounded before any model work: the bases through the model (the ``/score`` limits for sequences,
two windows for a variant: ``model_tokens``), the number of layers, and the numbers in the answer:
at most ``max_json_values`` as JSON, at most ``max_values`` as a binary ``.npz`` / ``.npy`` body.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from service.coords import Variant
from service.domain.delta import DeltaEngine
from service.domain.options import DeltaOptions
from service.domain.windows import VariantWindows
from service.errors import LimitExceeded, ServiceError, UnknownLayer, UnsupportedByModel
from service.scoring.embed import EmbedJob, check_layers, embed_values, supports_embeddings
from service.scoring.runner import ModelRunner

#: ``.npz`` member holding the answer's metadata (model, layers, items) as JSON text.
META = "meta"


@dataclass(frozen=True)
class EmbedLimits:
    max_layers: int
    #: Numbers a JSON answer may hold (beyond: ask for ``application/x-npz``).
    max_json_values: int
    #: Numbers any answer may hold.
    max_values: int


@dataclass(frozen=True)
class Embeddings:
    model: str
    layers: tuple[str, ...]
    per_position: bool
    #: Item names ("0", "1", ... for sequences; "ref", "alt" for a variant) and their lengths.
    names: tuple[str, ...]
    lengths: tuple[int, ...]
    #: Per item, per layer: float32 ``(width,)`` or ``(length, width)``.
    arrays: list[dict[str, np.ndarray]]
    windows: VariantWindows | None = None

    @property
    def values(self) -> int:
        return sum(a.size for item in self.arrays for a in item.values())

    def meta(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "model": self.model,
            "layers": list(self.layers),
            "per_position": self.per_position,
            "items": [{"name": n, "length": n_} for n, n_ in zip(self.names, self.lengths, strict=True)],
        }
        if self.windows is not None:
            w = self.windows
            out["variant"] = str(w.variant)
            out["window"] = {
                "chrom": w.ref_interval.chrom,
                "start": w.ref_interval.start,
                "end": w.ref_interval.end,
            }
        return out


def model_tokens(seqs: Sequence[str]) -> int:
    """Bases an embedding request sends through the model (its cost)."""
    return sum(map(len, seqs))


async def layers_of(scorer: Any) -> tuple[dict[str, int], str]:
    """The scorer's layer widths and default layer (found off the event loop: the first time is a pass)."""
    if not supports_embeddings(scorer):
        raise UnsupportedByModel(
            f"{scorer.name} has no hidden layers to return; /embed needs an Evo 2 model",
            detail={"model": scorer.name},
        )
    widths: dict[str, int] = await asyncio.to_thread(scorer.layer_widths)
    return widths, str(scorer.default_layer())


def plan(
    widths: dict[str, int],
    default: str,
    seqs: Sequence[str],
    layers: Sequence[str] | None,
    per_position: bool,
    limits: EmbedLimits,
    *,
    binary: bool,
) -> EmbedJob:
    """The checked job: known layer names (``default`` when none), the answer within its size limit."""
    names = tuple(dict.fromkeys(layers)) if layers else (default,)
    if len(names) > limits.max_layers:
        raise LimitExceeded(
            f"{len(names)} layers; at most {limits.max_layers} per request",
            detail={"layers": len(names), "max_layers": limits.max_layers},
        )
    unknown = check_layers(names, widths)
    if unknown:
        raise UnknownLayer(
            f"the model has no layer {unknown[0]!r}; /info lists its layers (model.embeddings)",
            detail={"unknown": unknown[:10], "default": default},
        )
    job = EmbedJob(tuple(seqs), names, per_position)
    _check_size(embed_values(job, widths), limits, binary)
    return job


def _check_size(values: int, limits: EmbedLimits, binary: bool) -> None:
    cap = limits.max_values if binary else limits.max_json_values
    if values > cap:
        form = "binary" if binary else "JSON"
        hint = "" if binary else "; ask for the binary answer (Accept: application/x-npz) or mean-pool"
        raise LimitExceeded(
            f"the answer would hold {values:,} numbers; at most {cap:,} as {form}{hint}",
            detail={"values": values, "max_values": cap, "binary": binary},
        )


async def embed_sequences(runner: ModelRunner, job: EmbedJob) -> Embeddings:
    arrays = await runner.embed(job)
    names = tuple(str(i) for i in range(len(job.seqs)))
    return Embeddings(runner.scorer.name, job.layers, job.per_position, names, _lengths(job), arrays)


async def variant_windows(
    engine: DeltaEngine, variant: Variant | ServiceError, options: DeltaOptions
) -> VariantWindows:
    [built] = await engine.windows([variant], options)
    if isinstance(built, ServiceError):
        raise built
    return built


async def embed_windows(runner: ModelRunner, job: EmbedJob, windows: VariantWindows) -> Embeddings:
    arrays = await runner.embed(job)
    return Embeddings(
        runner.scorer.name, job.layers, job.per_position, ("ref", "alt"), _lengths(job), arrays, windows
    )


def _lengths(job: EmbedJob) -> tuple[int, ...]:
    return tuple(len(s) for s in job.seqs)


def to_npz(embeddings: Embeddings) -> bytes:
    """A ``.npz`` body: ``"<item>/<layer>"`` arrays and ``meta`` (JSON text)."""
    members: dict[str, np.ndarray] = {META: np.array(json.dumps(embeddings.meta()))}
    for name, item in zip(embeddings.names, embeddings.arrays, strict=True):
        for layer, array in item.items():
            members[f"{name}/{layer}"] = array
    buffer = io.BytesIO()
    np.savez(buffer, **members)  # type: ignore[arg-type]
    return buffer.getvalue()


def to_npy(embeddings: Embeddings) -> bytes:
    """A ``.npy`` body: the one array of a one-item, one-layer answer."""
    buffer = io.BytesIO()
    [item] = embeddings.arrays
    [array] = item.values()
    np.save(buffer, array)
    return buffer.getvalue()
