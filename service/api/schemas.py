"""Wire models (pydantic v2). Every coordinate field says its base in its description."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from service.domain.calibration import CONTEXT_NOTE, CONTEXT_REASONS, LABEL_REASONS
from service.domain.options import DEFAULT_DELTA_METHOD, DEFAULT_REVERSE_COMPLEMENT, DeltaMethod

#: A genome build as answered (the canonical UCSC name).
Genome = Literal["hg38", "hg19"]
LabelName = Literal["likely_pathogenic", "likely_benign"]
LabelReason = Literal[
    "no_calibration",
    "model_not_validated",
    "non_finite_delta",
    "options_outside_calibration",
    "calibration_scope_unknown",
    "kind_outside_calibration",
    "window_length_outside_calibration",
    "window_has_n",
]
ContextReason = Literal[
    "no_distribution", "non_finite_delta", "options_outside_calibration", "window_length_outside_calibration"
]


def _codes(reasons: dict[str, str]) -> str:
    return "; ".join(f"'{code}': {text}" for code, text in reasons.items())


#: Reference bases shown either side of a variant (``context_before`` / ``context_after``).
CONTEXT_BP = 10

#: Longest text field of a request (notations, names, alleles): far beyond any valid value, so the
#: domain's own checks answer ordinary mistakes, and a megabyte "chromosome" is refused by the schema.
MAX_FIELD_TEXT = 1024
#: Request fields are strict where JSON is loose: positions and windows are JSON integers (not true,
#: 5.0 or "5"), flags are JSON booleans (not 1 or "yes").
Text = Annotated[str, Field(max_length=MAX_FIELD_TEXT)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


def genome_field() -> Any:
    """The ``genome`` of a request: optional, any accepted spelling, the server's default when left out."""
    return Field(
        None,
        examples=["hg38"],
        description="Genome build: hg38 or hg19 (GRCh38, GRCh37 accepted). Default: the server's "
        "default_genome (GET /info, defaults.genome).",
    )


# --- errors -----------------------------------------------------------------------------------------


class ErrorBody(_Model):
    type: str = Field(description="Machine-readable error type, e.g. 'ref_mismatch', 'invalid_variant'.")
    message: str = Field(description="What went wrong, for people.")
    detail: dict[str, Any] = Field(default_factory=dict)


class ErrorEnvelope(_Model):
    error: ErrorBody


#: Every route's error answers, declared so they appear in openapi.json.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorEnvelope, "description": description}
    for status, description in {
        400: "Invalid input (bad notation, unknown genome or chromosome, ref mismatch, limits)",
        401: "Missing or invalid API key",
        408: "The request's headers or body did not arrive in time",
        413: "Request body too large",
        415: "Unsupported Content-Encoding (send JSON uncompressed)",
        422: "Request does not match the schema",
        429: "Rate limited: requests or model tokens (Retry-After)",
        502: "UCSC answered badly",
        503: "Overloaded, upstream unavailable or model unavailable (Retry-After)",
        504: "UCSC timed out",
    }.items()
}


# --- /score -----------------------------------------------------------------------------------------


class ScoreRequest(_Model):
    sequences: list[str] = Field(
        min_length=1, description="DNA sequences (A, C, G, T, N; any case), each at least 2 bases."
    )
    per_position: StrictBool = Field(False, description="Also return the per-position log-probabilities.")
    reverse_complement: StrictBool = Field(
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
    chrom: Text = Field(examples=["chr17"], description="Chromosome: chr17, 17, NC_000017.11, MT, …")
    pos: StrictInt = Field(
        ge=1, examples=[43119628], description="1-based position (VCF) of the first ref base; a JSON integer."
    )
    ref: Text | None = Field(
        None,
        examples=["T"],
        description="Reference allele; checked against the genome. Omit to use the genome's base (SNVs).",
    )
    alt: Text = Field(examples=["G"], description="Alternate allele (A, C, G, T; up to 64 bp).")


VariantInput = Text | VariantFields


NOTATIONS = (
    "'chr17:43119628:T:G', 'chr17-43119628-T-G', '17:43119628 T>G', 'chr17:g.43119628T>G', "
    "'NC_000017.11:g.43119628T>G' (positions 1-based), a dbSNP rsID ('rs80357906'), HGVS on a versioned "
    "RefSeq transcript ('NM_007294.4:c.5266dupC', 'NM_007294.4:c.4186-2A>G', 'NM_007294.4:c.-20G>A', "
    "'NM_007294.4:c.*15A>G', del, dup, ins, delins; n. on NR_), a gene symbol with c. "
    "('BRCA1:c.181T>G': its MANE Select transcript), or fields"
)


class VariantDeltaRequest(_Model):
    variant: VariantInput | None = Field(
        None,
        description=f"One variant: {NOTATIONS}.",
        examples=["chr17:43119628:T:G", "rs80357906", "NM_007294.4:c.5266dupC", "BRCA1:c.181T>G"],
    )
    variants: list[VariantInput] | None = Field(
        None, description="Several variants, answered in order; one bad variant does not sink the others."
    )
    genome: str | None = genome_field()
    window: StrictInt | None = Field(
        None, description="Window length in bp (even); default 8,192 as in the Evo 2 BRCA1 notebook."
    )
    delta_method: DeltaMethod = Field(
        DEFAULT_DELTA_METHOD,
        description="'window': mean log-likelihood over the whole window (the notebook's); 'suffix': the "
        "same sum restricted to positions from the first differing base, same denominator.",
    )
    reverse_complement: StrictBool = Field(
        DEFAULT_REVERSE_COMPLEMENT, description="Average with the reverse-complement strand."
    )


class Interval(_Model):
    chrom: str
    start: int = Field(description="0-based start (inclusive).")
    end: int = Field(description="0-based end (exclusive).")


class SequenceSource(_Model):
    """The sequence the windows were read from: the bundled slices are UCSC's own bases (name 'ucsc')."""

    name: str = Field(description="'ucsc' (UCSC's assembly, also the bundled slices) or 'fasta'.")
    assembly: str = Field(description="The build it serves, e.g. 'hg38'.")
    version: str = Field(
        description="UCSC's assembly description, or for a FASTA 'fai-sha256:' and a checksum of its index."
    )


class DeltaContextBody(_Model):
    percentile: float = Field(
        description="Percent of the calibration's BRCA1 benchmark SNVs whose delta is at most this one."
    )
    lof_fraction: float = Field(description="Fraction of its LOF SNVs whose delta is at most this one.")
    func_fraction: float = Field(description="Fraction of its FUNC/INT SNVs whose delta is at most this one.")
    n_lof: int
    n_func: int
    note: str = Field(description=f"Always: {CONTEXT_NOTE}.")


class ResultWarning(_Model):
    type: str = Field(description="Machine-readable warning type, e.g. 'genome_assumed'.")
    message: str


class Resolution(_Model):
    """What a notation was resolved to: the genomic variant scored, and what was used to place it."""

    notation: Literal["genomic", "rsid", "hgvs"] = Field(description="The kind of notation sent.")
    variant: str = Field(
        description="The genomic variant, chrom:pos:ref:alt, pos 1-based, left-aligned as in VCF "
        "(indels carry the base before them)."
    )
    chrom: str
    pos: int = Field(description="1-based position (VCF).")
    ref: str
    alt: str
    genome: Genome
    transcript: str | None = Field(
        None, description="The transcript used (with its version), e.g. NM_007294.4; null for rsIDs."
    )
    gene: str | None = Field(None, description="Its gene symbol.")
    selection: str | None = Field(
        None,
        description="How the transcript was chosen: 'given' (named in the notation) or 'MANE Select' "
        "(the gene's MANE Select transcript, for a gene symbol).",
    )
    record_source: str | None = Field(
        None,
        description="Where the gene model or dbSNP record came from: 'bundled:…', 'file:…', "
        "'ucsc:hg38.ncbiRefSeq', 'ucsc:hg38.dbSnp155'.",
    )
    hgvs_c: str | None = Field(
        None,
        description="The change in HGVS on the transcript, normalised: 3'-shifted along the transcript's "
        "strand (leftwards on the genome for a minus-strand gene such as BRCA1).",
    )
    hgvs_g: str | None = Field(
        None,
        description="The change in HGVS g. on the chromosome's RefSeq accession, 3'-shifted on the plus "
        "strand.",
    )
    rsid: str | None = None
    allele: int | None = Field(
        None, description="For an rsID: this allele's 1-based rank among dbSNP's alternates."
    )
    alleles: int | None = Field(None, description="For an rsID: how many alternate alleles dbSNP gives.")


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
    context_before: str = Field(
        description=f"Up to {CONTEXT_BP} reference bases just before the reference allele (+ strand)."
    )
    context_after: str = Field(
        description=f"Up to {CONTEXT_BP} reference bases just after the reference allele (+ strand)."
    )
    ref_score: float = Field(description="Score of the reference window (see delta_method).")
    alt_score: float = Field(description="Score of the alternate window.")
    delta_score: float = Field(description="alt_score - ref_score; negative = less likely under the model.")
    delta_method: DeltaMethod
    reverse_complement: bool
    label: LabelName | None = Field(
        description="From the model's BRCA1 calibration; null outside it (label_reason says why)."
    )
    label_reason: LabelReason | None = Field(
        None, description=f"Why there is no label (null when there is one): {_codes(LABEL_REASONS)}."
    )
    probability_lof: float | None = Field(
        None, description="Calibrated probability of loss of function (BRCA1-trained; not a clinical call)."
    )
    confidence: float | None = Field(
        None,
        description="Fitted probability that the label is right (p for likely_pathogenic, 1 - p for "
        "likely_benign); null without a logistic fit or without a label.",
    )
    non_acgt_ref: int = Field(description="Bases other than A, C, G, T (N included) in the reference window.")
    non_acgt_alt: int = Field(description="The same in the alternate window.")
    source: SequenceSource
    context: DeltaContextBody | None = Field(
        None,
        description="Where the delta falls among the BRCA1 benchmark's deltas under this model (null with "
        "context_reason when the delta is on another scale); never a clinical probability.",
    )
    context_reason: ContextReason | None = Field(
        None, description=f"Why there is no context: {_codes(CONTEXT_REASONS)}."
    )
    model: str
    warnings: list[ResultWarning] = Field(
        default_factory=list,
        description="Things to know about this answer, e.g. 'genome_assumed': no genome was sent and "
        "no reference allele could confirm the default build.",
    )
    resolution: Resolution | None = Field(
        None,
        description="For an rsID or HGVS on a transcript or gene: the genomic variant it was resolved to, "
        "the transcript and gene used, the normalised HGVS (null for genomic input).",
    )


class VariantError(_Model):
    input: str = Field(description="The variant as sent.")
    error: ErrorBody


class AlleleResults(_Model):
    """An input that means several variants (an rsID with several alternate alleles in dbSNP): each
    allele scored, in dbSNP's order, under the one input."""

    input: str = Field(description="The variant as sent.")
    rsid: str
    alleles: list[VariantResult | VariantError] = Field(
        description="One result per alternate allele (its resolution says which: allele i of n)."
    )


class VariantDeltaResponse(_Model):
    model: str
    genome: Genome
    window_length: int = Field(description="Requested window length in bp.")
    window: int = Field(
        json_schema_extra={"deprecated": True},
        description="Deprecated: the same as window_length (results[].window is an interval).",
    )
    results: list[VariantResult | AlleleResults | VariantError] = Field(
        description="One entry per input, in input order: its result, its error, or for an rsID with "
        "several alternate alleles one entry holding a result per allele ('alleles')."
    )


# --- /resolve ---------------------------------------------------------------------------------------


class ResolveRequest(_Model):
    variant: VariantInput | None = Field(
        None,
        description=f"One notation: {NOTATIONS}.",
        examples=["rs80357906", "NM_007294.4:c.5266dupC", "BRCA1:c.181T>G"],
    )
    variants: list[VariantInput] | None = Field(
        None, description="Several notations, answered in order; one bad notation does not sink the others."
    )
    genome: str | None = genome_field()


class ResolveResult(_Model):
    input: str = Field(description="The notation as sent.")
    resolutions: list[Resolution] = Field(
        description="The genomic variant(s) it means: one, or one per alternate allele of an rsID."
    )


class ResolveResponse(_Model):
    genome: Genome
    results: list[ResolveResult | VariantError] = Field(description="One entry per input, in input order.")


# --- the original project's frontend contract -------------------------------------------------------


class LegacyAnalysisResponse(_Model):
    position: int = Field(description="1-based position, as sent.")
    reference: str
    alternative: str
    delta_score: float
    prediction: str = Field(
        description="'Likely pathogenic', 'Likely benign', 'Uncalibrated model', or 'Not labelled: <reason>' "
        "outside the calibration."
    )
    classification_confidence: float | None = Field(
        description="Fitted probability that the prediction is right; null without a label or without a "
        "logistic fit. The X-Evo2-Note response header says why, and warns when the genome was assumed."
    )


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
    region: Text | None = Field(
        None,
        examples=["chr17:43119600-43119699"],
        description="Region as a 1-based inclusive string 'chrom:start-end' (or 'chrom:pos' for one "
        "position). Give this or chrom / start / end.",
    )
    chrom: Text | None = Field(None, examples=["chr17"], description="Chromosome: chr17, 17, NC_000017.11, …")
    start: StrictInt | None = Field(None, ge=1, description="1-based first position (inclusive).")
    end: StrictInt | None = Field(None, ge=1, description="1-based last position (inclusive).")
    genome: str | None = genome_field()
    window: StrictInt | None = Field(
        None, description="Window length in bp (even); default 8,192 as in the Evo 2 BRCA1 notebook."
    )
    delta_method: DeltaMethod = Field(DEFAULT_DELTA_METHOD, description="As in /variant-delta.")
    reverse_complement: StrictBool = Field(
        DEFAULT_REVERSE_COMPLEMENT, description="Average with the reverse-complement strand."
    )


class SaturationResponse(_Model):
    model: str
    genome: Genome
    chrom: str
    start: int = Field(description="1-based first position (inclusive).")
    end: int = Field(description="1-based last position (inclusive).")
    region: str = Field(description="The region as a 1-based inclusive string.")
    window_length: int = Field(description="Window length in bp.")
    window: int = Field(
        json_schema_extra={"deprecated": True}, description="Deprecated: the same as window_length."
    )
    delta_method: DeltaMethod
    reverse_complement: bool
    source: SequenceSource
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
        description=f"One variant, as /variant-delta takes it ({NOTATIONS}): the hidden states of its "
        "reference and alternate windows ('ref', 'alt'). An rsID must name one alternate allele.",
        examples=["chr17:43119628:T:G"],
    )
    genome: str | None = genome_field()
    window: StrictInt | None = Field(None, description="Window of 'variant' in bp (even); default 8,192.")
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
