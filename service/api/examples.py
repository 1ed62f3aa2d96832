"""Request examples for openapi.json: Swagger UI's "Try it out" sends the first one of each as it stands.

Every example is answered 200 by the app with only its bundled BRCA1 slices (no network): a test posts
each one (tests/api/test_openapi.py) and the browser test presses "Try it out" and "Execute". ``/embed``'s
need a model with layers (Evo 2): tests/api/test_embed.py posts them to the tiny Evo 2 model.
"""

from __future__ import annotations

from typing import Any

from fastapi.openapi.models import Example


def _examples(**examples: tuple[str, Any]) -> dict[str, Example]:
    return {name: Example(summary=summary, value=value) for name, (summary, value) in examples.items()}


VARIANT_DELTA = _examples(
    one=("One variant (BRCA1, hg38)", {"variant": "chr17:43119628:T:G", "genome": "hg38"}),
    several=(
        "Several variants in any notation, answered in order",
        {"variants": ["chr17:43119628:T:G", "17:43119628 T>A", "chr17:43119627:TT:T"], "genome": "hg38"},
    ),
    fields=(
        "Fields instead of a string (ref optional for SNVs)",
        {"variant": {"chrom": "17", "pos": 43119628, "ref": "T", "alt": "G"}, "genome": "hg38"},
    ),
    notations=(
        "An rsID and transcript HGVS, resolved first (each result's `resolution` says to what)",
        {"variants": ["rs80357906", "NM_007294.4:c.181T>G", "BRCA1:c.5266dupC"], "genome": "hg38"},
    ),
    options=(
        "hg19 coordinates, a 4,096-bp window, the suffix delta, both strands",
        {
            "variant": "chr17:41276135:T:G",
            "genome": "hg19",
            "window": 4096,
            "delta_method": "suffix",
            "reverse_complement": True,
        },
    ),
)

RESOLVE = _examples(
    notations=(
        "An rsID, transcript HGVS, a gene symbol (its MANE Select transcript) and a genomic variant",
        {
            "variants": ["rs80357906", "NM_007294.4:c.181T>G", "BRCA1:c.5266dupC", "chr17:43119628:T:G"],
            "genome": "hg38",
        },
    ),
    hg19=("Transcript HGVS placed on hg19", {"variant": "NM_007294.4:c.181T>G", "genome": "hg19"}),
)

SATURATION = _examples(
    region=("21 positions around chr17:43119628 (1-based, inclusive)", {"region": "chr17:43119618-43119638"}),
    fields=(
        "The same region as chrom / start / end",
        {"chrom": "chr17", "start": 43119618, "end": 43119638, "genome": "hg38"},
    ),
)

SCORE = _examples(
    one=("One sequence", {"sequences": ["ACGTTGCAAGGCTTAACG"]}),
    per_position=(
        "Per-position log-probabilities, both strands",
        {"sequences": ["ACGTTGCAAGGCTTAACG", "TTGACCA"], "per_position": True, "reverse_complement": True},
    ),
)

#: Answered 200 by an Evo 2 model; a k-mer server answers 400 ``unsupported_by_model`` (no layers).
EMBED = _examples(
    sequences=("The mean hidden state of the default layer", {"sequences": ["ACGTTGCAAGGCTTAACG"]}),
    variant=(
        "A variant's reference and alternate windows, mean over positions",
        {"variant": "chr17:43119628:T:G", "genome": "hg38", "window": 1024},
    ),
)

#: The original frontend's query parameters, one example each (the BRCA1 variant above).
LEGACY_QUERY: dict[str, dict[str, Example]] = {
    name: {"brca1": Example(summary="chr17:43119628 T>G (hg38)", value=value)}
    for name, value in {
        "variant_position": 43119628,
        "alternative": "G",
        "genome": "hg38",
        "chromosome": "chr17",
    }.items()
}
