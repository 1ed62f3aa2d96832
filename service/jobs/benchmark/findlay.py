"""The Findlay et al. 2018 BRCA1 saturation genome editing table (3,893 SNVs, hg19, 1-based).

Shipped as ``service/data/brca1/findlay2018_brca1_snvs.tsv``, derived from the paper's Supplementary
Table 1 by ``scripts/derive_findlay.py``; provenance in ``service/data/brca1/README.md``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from service.coords import Variant

GENOME = "hg19"
DATASET = "Findlay et al. 2018 BRCA1 saturation genome editing (Nature 562:217), LOF vs FUNC/INT"
#: Consequences that change the protein-coding sequence (the rest are splice-region, intronic, UTR).
CODING = frozenset({"Missense", "Nonsense", "Synonymous"})


@dataclass(frozen=True)
class FindlaySnv:
    chrom: str
    pos: int  # 1-based hg19
    ref: str
    alt: str
    consequence: str
    function_score: float
    func_class: str  # FUNC, INT or LOF
    #: The table's own predictor scores (Findlay et al. 2018): CADD v1.3 and mammalian phyloP.
    cadd: float | None = None
    phylop: float | None = None

    @property
    def is_lof(self) -> bool:
        return self.func_class == "LOF"

    @property
    def is_coding(self) -> bool:
        return self.consequence in CODING

    @property
    def notation(self) -> str:
        return f"{self.chrom}:{self.pos}:{self.ref}:{self.alt}"

    @property
    def kind(self) -> str:
        return Variant(self.chrom, self.pos, self.ref, self.alt).kind


@dataclass(frozen=True)
class ScoredSnv:
    """A Findlay SNV with the model's mean log-likelihood of its reference and alternate windows."""

    snv: FindlaySnv
    ref_score: float
    alt_score: float
    #: Length of the windows scored, and the delta under both reductions of the same log-probs.
    window_length: int | None = None
    window_delta: float | None = None
    suffix_delta: float | None = None

    @property
    def delta(self) -> float:
        return self.alt_score - self.ref_score


def default_path() -> Path:
    return Path(str(resources.files("service") / "data" / "brca1" / "findlay2018_brca1_snvs.tsv"))


def load_findlay(path: Path | None = None) -> list[FindlaySnv]:
    with (path or default_path()).open() as handle:
        return [
            FindlaySnv(
                chrom=row["chromosome"],
                pos=int(row["position_hg19"]),
                ref=row["reference"],
                alt=row["alt"],
                consequence=row["consequence"],
                function_score=float(row["function_score_mean"]),
                func_class=row["func_class"],
                cadd=_number(row.get("cadd_score")),
                phylop=_number(row.get("phylop_mammalian")),
            )
            for row in csv.DictReader(handle, delimiter="\t")
        ]


def _number(text: str | None) -> float | None:
    if text is None or text in ("", "NA"):
        return None
    return float(text)
