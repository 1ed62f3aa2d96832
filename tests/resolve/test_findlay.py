"""All 3,893 c. notations of Findlay et al. 2018 (Nature 562:217, Supplementary Table 1;
``tests/data/findlay2018_transcript_variants.tsv``, its ``transcript_variant``, ``position (hg19)``,
``reference`` and ``alt`` columns) resolve on NM_007294.4 / GRCh37 to their published positions and
bases; 1,034 of them are intronic."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from service.genome.bundled import BundledGenome
from service.genome.gene_models import LocalAnnotations
from service.genome.layered import LayeredGenome
from service.notation import parse_notation
from service.resolve.resolver import Resolver

TABLE = Path(__file__).resolve().parents[1] / "data" / "findlay2018_transcript_variants.tsv"


@pytest.mark.anyio
async def test_every_findlay_notation_maps_to_its_published_position() -> None:
    with TABLE.open() as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    assert len(rows) == 3893
    resolver = Resolver(LayeredGenome([BundledGenome()]), [LocalAnnotations.bundled()], cache_entries=16)
    intronic = 0
    for row in rows:
        text = f"NM_007294.4:{row['transcript_variant']}"
        [resolved] = await resolver.resolve(parse_notation(text), text=text, genome="hg19")
        v = resolved.variant
        assert (v.chrom, v.pos, v.ref, v.alt) == (
            "chr17",
            int(row["position_hg19"]),
            row["reference"],
            row["alt"],
        ), text
        intronic += "+" in row["transcript_variant"][3:] or "-" in row["transcript_variant"][3:]
    assert intronic == 1034
