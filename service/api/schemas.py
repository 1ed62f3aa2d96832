"""Wire models (pydantic v2). Every coordinate field says its base in its description."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from service.domain.delta import DEFAULT_DELTA_METHOD, DEFAULT_REVERSE_COMPLEMENT, DeltaMethod

Genome = Literal["hg38", "hg19"]
LabelName = Literal["likely_pathogenic", "likely_benign", "uncalibrated"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- errors -----------------------------------------------------------------------------------------


class ErrorBody(_Model):
    type: str = Field(description="Machine-readable error type, e.g. 'ref_mismatch', 'invalid_variant'.")
    message: str = Field(description="What went wrong, for people.")
    detail: dict[str, Any] = Field(default_factory=dict)


class ErrorEnvelope(_Model):
    error: ErrorBody


# --- /score -----------------------------------------------------------------------------------------


class ScoreRequest(_Model):
    sequences: list[str] = Field(
        min_length=1, description="DNA sequences (A, C, G, T, N; any case), each at least 2 bases."
    )
    per_position: bool = Field(False, description="Also return the per-position log-probabilities.")
    reverse_complement: bool = Field(
        False, description="Average each score with its reverse complement's (as evo2's score_sequences_rc)."
    )


class SequenceScore(_Model):
    length: int
    mean_log_likelihood: float = Field(description="Mean over t ≥ 1 of log p(x_t | x_<t), no BOS (Evo 2).")
    sum_log_likelihood: float = Field(description="Sum of the same L - 1 terms.")
    log_probs: list[float] | None = Field(
        None, description="Element i is log p(x[i+1] | x[0..i]) (0-based), L - 1 values; on request."
    )


class ScoreResponse(_Model):
    model: str
    reverse_complement: bool
    scores: list[SequenceScore]


# --- /variant-delta ---------------------------------------------------------------------------------


class VariantFields(_Model):
    chrom: str = Field(examples=["chr17"], description="Chromosome: chr17, 17, NC_000017.11, MT, …")
    pos: int = Field(ge=1, examples=[43119628], description="1-based position (VCF) of the first ref base.")
    ref: str | None = Field(
        None,
        examples=["T"],
        description="Reference allele; checked against the genome. Omit to use the genome's base (SNVs).",
    )
    alt: str = Field(examples=["G"], description="Alternate allele (A, C, G, T; up to 64 bp).")


VariantInput = str | VariantFields


class VariantDeltaRequest(_Model):
    variant: VariantInput | None = Field(
        None,
        description="One variant: 'chr17:43119628:T:G', 'chr17-43119628-T-G', '17:43119628 T>G', "
        "'chr17:g.43119628T>G', 'NC_000017.11:g.43119628T>G' (positions 1-based), or fields.",
        examples=["chr17:43119628:T:G"],
    )
    variants: list[VariantInput] | None = Field(
        None, description="Several variants, answered in order; one bad variant does not sink the others."
    )
    genome: Genome = Field("hg38", description="Genome build (UCSC name).")
    window: int | None = Field(
        None, description="Window length in bp (even); default 8,192 as in the Evo 2 BRCA1 notebook."
    )
    delta_method: DeltaMethod = Field(
        DEFAULT_DELTA_METHOD,
        description="'window': mean log-likelihood over the whole window (the notebook's); 'suffix': the "
        "same sum restricted to positions from the first differing base, same denominator.",
    )
    reverse_complement: bool = Field(
        DEFAULT_REVERSE_COMPLEMENT, description="Average with the reverse-complement strand."
    )


class Interval(_Model):
    chrom: str
    start: int = Field(description="0-based start (inclusive).")
    end: int = Field(description="0-based end (exclusive).")


class VariantResult(_Model):
    input: str = Field(description="The variant as sent.")
    variant: str = Field(description="Normalised variant, chrom:pos:ref:alt with pos 1-based.")
    chrom: str
    pos: int = Field(description="1-based position (VCF).")
    ref: str = Field(description="Reference allele (checked against the genome, or read from it).")
    alt: str
    kind: Literal["snv", "mnv", "insertion", "deletion"]
    genome: Genome
    window: Interval = Field(description="Reference window, 0-based half-open.")
    alt_window: Interval = Field(
        description="Genome bases the alternate window is built from, 0-based half-open (differs for indels)."
    )
    region: str = Field(description="Reference window as a 1-based inclusive region string.")
    window_length: int
    variant_index: int = Field(description="0-based index of the variant's first base in both windows.")
    ref_score: float = Field(description="Score of the reference window (see delta_method).")
    alt_score: float = Field(description="Score of the alternate window.")
    delta_score: float = Field(description="alt_score - ref_score; negative = less likely under the model.")
    delta_method: DeltaMethod
    reverse_complement: bool
    label: LabelName = Field(description="From the model's BRCA1 calibration; 'uncalibrated' without one.")
    probability_lof: float | None = Field(
        None, description="Calibrated probability of loss of function (BRCA1-trained; not a clinical call)."
    )
    confidence: float | None = Field(
        None,
        description="Fitted probability that the label is right (p for likely_pathogenic, 1 - p for "
        "likely_benign); null without a logistic fit or when uncalibrated.",
    )
    model: str


class VariantError(_Model):
    input: str = Field(description="The variant as sent.")
    error: ErrorBody


class VariantDeltaResponse(_Model):
    model: str
    genome: Genome
    window: int = Field(description="Requested window length in bp.")
    results: list[VariantResult | VariantError] = Field(description="One entry per variant, in input order.")


# --- the original project's frontend contract -------------------------------------------------------


class LegacyAnalysisResponse(_Model):
    position: int = Field(description="1-based position, as sent.")
    reference: str
    alternative: str
    delta_score: float
    prediction: str = Field(description="'Likely pathogenic', 'Likely benign' or 'Uncalibrated model'.")
    classification_confidence: float


# --- /health and /info ------------------------------------------------------------------------------


class HealthResponse(_Model):
    status: Literal["ok", "degraded"]
    model: str
    detail: dict[str, Any] = Field(default_factory=dict)


class InfoResponse(_Model):
    service: str
    version: str
    model: dict[str, Any]
    calibration: dict[str, Any]
    genome: dict[str, Any]
    defaults: dict[str, Any]
    limits: dict[str, Any]
    auth: dict[str, Any]


# --- /saturation ------------------------------------------------------------------------------------


class SaturationRequest(_Model):
    region: str | None = Field(
        None,
        examples=["chr17:43119600-43119699"],
        description="Region as a 1-based inclusive string 'chrom:start-end' (or 'chrom:pos' for one "
        "position). Give this or chrom / start / end.",
    )
    chrom: str | None = Field(None, examples=["chr17"], description="Chromosome: chr17, 17, NC_000017.11, …")
    start: int | None = Field(None, ge=1, description="1-based first position (inclusive).")
    end: int | None = Field(None, ge=1, description="1-based last position (inclusive).")
    genome: Genome = Field("hg38", description="Genome build (UCSC name).")
    window: int | None = Field(
        None, description="Window length in bp (even); default 8,192 as in the Evo 2 BRCA1 notebook."
    )
    delta_method: DeltaMethod = Field(DEFAULT_DELTA_METHOD, description="As in /variant-delta.")
    reverse_complement: bool = Field(
        DEFAULT_REVERSE_COMPLEMENT, description="Average with the reverse-complement strand."
    )


class SaturationResponse(_Model):
    model: str
    genome: Genome
    chrom: str
    start: int = Field(description="1-based first position (inclusive).")
    end: int = Field(description="1-based last position (inclusive).")
    region: str = Field(description="The region as a 1-based inclusive string.")
    window: int = Field(description="Window length in bp.")
    delta_method: DeltaMethod
    reverse_complement: bool
    alleles: list[str] = Field(description="Column order of 'deltas': A, C, G, T.")
    positions: list[int] = Field(description="1-based positions, one per row of 'deltas'.")
    ref: str = Field(description="Reference bases, one character per position (same order as 'positions').")
    deltas: list[list[float | None]] = Field(
        description="Row i, column j: delta (alt − ref) of the SNV to alleles[j] at positions[i]; null for "
        "the reference base and where the reference is not A, C, G or T."
    )


# --- /embed -----------------------------------------------------------------------------------------


class EmbedRequest(_Model):
    sequences: list[str] | None = Field(
        None, description="DNA sequences (A, C, G, T, N; any case), as for /score. Give this or 'variant'."
    )
    variant: VariantInput | None = Field(
        None,
        description="One variant (as /variant-delta takes it): the hidden states of its reference and "
        "alternate windows ('ref', 'alt').",
        examples=["chr17:43119628:T:G"],
    )
    genome: Genome = Field("hg38", description="Genome build of 'variant'.")
    window: int | None = Field(None, description="Window of 'variant' in bp (even); default 8,192.")
    layers: list[str] | None = Field(
        None,
        description="Layer names (Vortex module names, e.g. 'blocks.28.mlp.l3'; /info lists them under "
        "model.embeddings); default: the model's default layer.",
    )
    per_position: bool = Field(
        False, description="One row per position instead of the mean over the positions."
    )


class EmbeddedItem(_Model):
    name: str = Field(description="'0', '1', … for sequences in order; 'ref' and 'alt' for a variant.")
    length: int = Field(description="Bases of the sequence or window.")
    embeddings: dict[str, list[float] | list[list[float]]] = Field(
        description="Per layer: the mean over positions (width values) or, with per_position, one row of "
        "width values per position."
    )


class EmbedResponse(_Model):
    model: str
    layers: list[str]
    per_position: bool
    variant: str | None = Field(None, description="Normalised variant (pos 1-based) when one was given.")
    window: Interval | None = Field(None, description="The variant's reference window, 0-based half-open.")
    items: list[EmbeddedItem]
