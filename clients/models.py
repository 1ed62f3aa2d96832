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


class SequenceSource(_Response):
    """The sequence a result's windows were read from (``ucsc`` also for the bundled slices)."""

    name: str
    assembly: str
    version: str


class DeltaContext(_Response):
    """Where a delta falls among the BRCA1 benchmark's deltas under the same model (not a probability)."""

    percentile: float
    lof_fraction: float
    func_fraction: float
    n_lof: int
    n_func: int
    note: str


class ResultWarning(_Response):
    """Something to know about one answer (``type`` e.g. ``genome_assumed``)."""

    type: str
    message: str


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
    #: Up to 10 reference bases either side of the reference allele (empty from an older server).
    context_before: str = ""
    context_after: str = ""
    ref_score: float
    alt_score: float
    delta_score: float
    delta_method: str
    reverse_complement: bool
    #: ``likely_pathogenic``, ``likely_benign``, or None outside the calibration (``label_reason``).
    label: str | None
    label_reason: str | None = None
    probability_lof: float | None = None
    confidence: float | None = None
    non_acgt_ref: int
    non_acgt_alt: int
    source: SequenceSource
    context: DeltaContext | None = None
    context_reason: str | None = None
    model: str
    warnings: list[ResultWarning] = Field(default_factory=list)
    #: For an rsID or HGVS input: what it was resolved to (transcript, gene, normalised HGVS).
    resolution: Resolution | None = None

    @property
    def ok(self) -> bool:
        return True


class Resolution(_Response):
    """What a notation was resolved to (``variant`` 1-based, left-aligned) and what placed it."""

    notation: str
    variant: str
    chrom: str
    pos: int
    ref: str
    alt: str
    genome: str
    transcript: str | None = None
    gene: str | None = None
    selection: str | None = None
    record_source: str | None = None
    hgvs_c: str | None = None
    hgvs_g: str | None = None
    rsid: str | None = None
    allele: int | None = None
    alleles: int | None = None


class ResolveResult(_Response):
    input: str
    resolutions: list[Resolution]

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
    if isinstance(value, dict):
        return "error" if "error" in value else "alleles" if "alleles" in value else "result"
    return (
        "error"
        if isinstance(value, VariantError)
        else "alleles"
        if isinstance(value, AlleleResults)
        else "result"
    )


class AlleleResults(_Response):
    """An rsID with several alternate alleles in dbSNP: one result per allele, under its one input."""

    input: str
    rsid: str
    alleles: list[Annotated[
        Annotated[VariantResult, Tag("result")] | Annotated[VariantError, Tag("error")],
        Discriminator(_result_kind),
    ]]  # fmt: skip

    @property
    def ok(self) -> bool:
        return any(a.ok for a in self.alleles)


VariantOutcome = Annotated[
    Annotated[VariantResult, Tag("result")]
    | Annotated[AlleleResults, Tag("alleles")]
    | Annotated[VariantError, Tag("error")],
    Discriminator(_result_kind),
]


def _resolve_kind(value: Any) -> str:
    has_error = "error" in value if isinstance(value, dict) else isinstance(value, VariantError)
    return "error" if has_error else "result"


class ResolveResponse(_Response):
    """``POST /resolve``: one entry per input, in input order."""

    genome: str
    results: list[
        Annotated[
            Annotated[ResolveResult, Tag("result")] | Annotated[VariantError, Tag("error")],
            Discriminator(_resolve_kind),
        ]
    ]


class VariantDeltaResponse(_Response):
    model: str
    genome: str
    #: The window length in bp (each result's ``window`` is its interval).
    window_length: int
    #: Deprecated: the same as ``window_length``.
    window: int | None = None
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
    window_length: int
    #: Deprecated: the same as ``window_length``.
    window: int | None = None
    delta_method: str
    reverse_complement: bool
    source: SequenceSource
    alleles: list[str]
    positions: list[int]
    ref: str
    deltas: list[list[float | None]]

    def delta(self, position: int, allele: str) -> float | None:
        """The delta of the SNV to ``allele`` at 1-based ``position``."""
        return self.deltas[self.positions.index(position)][self.alleles.index(allele.upper())]


class LegacyAnalysisResponse(_Response):
    """``POST /analyze_single_variant``: the original project's six fields; ``classification_confidence``
    is ``None`` when the model is uncalibrated or its calibration has no logistic fit (the server's
    ``X-Evo2-Note`` header says which)."""

    position: int
    reference: str
    alternative: str
    delta_score: float
    prediction: str
    classification_confidence: float | None


#: The old name of :class:`LegacyAnalysisResponse` (the TypeScript client's and the schema's name).
AnalysisResponse = LegacyAnalysisResponse


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
