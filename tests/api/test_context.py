"""``context_before`` / ``context_after``: the reference bases either side of a variant, for people
(the web page's card shows them around the reference and the alternate allele)."""

import pytest

from service.coords import Interval
from service.genome.bundled import BundledGenome

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    "variant, ref, alt",
    [("chr17:43119628:T:G", "T", "G"), ("chr17:43119627:TT:T", "TT", "T"), ("17:43119628 T>TA", "T", "TA")],
)
async def test_results_carry_the_reference_bases_either_side(client, variant, ref, alt):
    """``context_before`` / ``context_after``: ten genome bases either side of the reference allele."""
    [result] = (await client.post("/variant-delta", json={"variant": variant})).json()["results"]
    start = result["pos"] - 1
    genome = BundledGenome()
    before = await genome.fetch("hg38", Interval("chr17", start - 10, start))
    after = await genome.fetch("hg38", Interval("chr17", start + len(ref), start + len(ref) + 10))
    assert (result["ref"], result["alt"]) == (ref, alt)
    assert (result["context_before"], result["context_after"]) == (before, after)
    assert len(before) == len(after) == 10
