"""Typed responses of the service (pydantic v2), written from ``openapi.json``.

The client never imports ``service``: these mirror the wire format, and a test checks them against
the server's OpenAPI document. Unknown fields are kept (``extra="allow"``) so that an older client
keeps working when the server adds a field. Coordinates: ``pos`` is 1-based (VCF); ``Interval`` is
0-based half-open; ``region`` strings are 1-based inclusive.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag


class _Response(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class VariantFields(BaseModel):
    """A variant given as fields instead of a string; ``pos`` is 1-based (VCF)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    chrom: str
    pos: int = Field(ge=1)
    ref: str | None = None
    alt: str


class ErrorBody(_Response):
    type: str
    message: str
    detail: dict[str, Any] = Field(default_factory=dict)


class ErrorEnvelope(_Response):
    """Every error answer: ``{"error": {"type", "message", "detail"}}``."""

    error: ErrorBody


class HealthResponse(_Response):
    status: str
    model: str
    detail: dict[str, Any] = Field(default_factory=dict)


class InfoResponse(_Response):
    service: str
    version: str
    model: dict[str, Any]
    calibration: dict[str, Any]
    genome: dict[str, Any]
    defaults: dict[str, Any]
    limits: dict[str, Any]
    auth: dict[str, Any]


class SequenceScore(_Response):
    length: int
    mean_log_likelihood: float
    sum_log_likelihood: float
    log_probs: list[float] | None = None


class ScoreResponse(_Response):
    model: str
    reverse_complement: bool
    scores: list[SequenceScore]


class Interval(_Response):
    """0-based half-open."""

    chrom: str
    start: int
    end: int


class VariantResult(_Response):
    input: str
    variant: str
    chrom: str
    pos: int
    ref: str
    alt: str
    kind: str
    genome: str
    window: Interval
    alt_window: Interval
    region: str
    window_length: int
    variant_index: int
    ref_score: float
    alt_score: float
    delta_score: float
    delta_method: str
    reverse_complement: bool
    label: str
    probability_lof: float | None = None
    confidence: float | None = None
    model: str

    @property
    def ok(self) -> bool:
        return True


class VariantError(_Response):
    """One variant of a batch that could not be scored; the others still were."""

    input: str
    error: ErrorBody

    @property
    def ok(self) -> bool:
        return False


def _result_kind(value: Any) -> str:
    has_error = "error" in value if isinstance(value, dict) else isinstance(value, VariantError)
    return "error" if has_error else "result"


VariantOutcome = Annotated[
    Annotated[VariantResult, Tag("result")] | Annotated[VariantError, Tag("error")],
    Discriminator(_result_kind),
]


class VariantDeltaResponse(_Response):
    model: str
    genome: str
    window: int
    results: list[VariantOutcome]


class SaturationResponse(_Response):
    """``POST /saturation``: the delta of every SNV in a region, ``positions`` × ``alleles`` (A, C, G, T).

    ``start``, ``end`` and ``positions`` are 1-based inclusive; a cell is ``None`` for the reference
    base (and where the reference is not A, C, G or T).
    """

    model: str
    genome: str
    chrom: str
    start: int
    end: int
    region: str
    window: int
    delta_method: str
    reverse_complement: bool
    alleles: list[str]
    positions: list[int]
    ref: str
    deltas: list[list[float | None]]

    def delta(self, position: int, allele: str) -> float | None:
        """The delta of the SNV to ``allele`` at 1-based ``position``."""
        return self.deltas[self.positions.index(position)][self.alleles.index(allele.upper())]


class AnalysisResponse(_Response):
    """``POST /analyze_single_variant``: the original project's six fields."""

    position: int
    reference: str
    alternative: str
    delta_score: float
    prediction: str
    classification_confidence: float


class EmbeddedItem(_Response):
    name: str
    length: int
    embeddings: dict[str, list[float] | list[list[float]]]


class EmbedResponse(_Response):
    """``POST /embed`` as JSON; the clients ask for ``.npz`` and return ``Embeddings``."""

    model: str
    layers: list[str]
    per_position: bool
    variant: str | None = None
    window: Interval | None = None
    items: list[EmbeddedItem]


class Embeddings(_Response):
    """``POST /embed`` with numpy arrays: ``arrays[item][layer]`` is float32 ``(width,)`` (the mean over
    positions) or ``(length, width)`` (``per_position``); items are ``"0"``, ``"1"``, … for sequences
    in order, ``"ref"`` and ``"alt"`` for a variant's windows."""

    model_config = ConfigDict(extra="allow", frozen=True, arbitrary_types_allowed=True)

    model: str
    layers: list[str]
    per_position: bool
    names: list[str]
    lengths: list[int]
    variant: str | None = None
    window: Interval | None = None
    arrays: dict[str, dict[str, Any]]

    def __getitem__(self, item: str | int) -> dict[str, Any]:
        """The arrays of one item (by name or position), layer → array."""
        return self.arrays[self.names[item] if isinstance(item, int) else item]
