"""``BulkRow``: one input row as the bulk job scores it (picklable: it travels to GPU containers).

Nothing here imports ``clients``: the GPU image ships ``service`` alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from service.coords import Variant
from service.notation import RsId, TranscriptVariant


@dataclass(frozen=True)
class BulkRow:
    """One input row (one allele of a VCF line)."""

    #: 0-based position in the input (the output order).
    index: int
    #: 1-based line number in the file.
    line: int
    id: str
    #: The variant as written (``chrom:pos:ref:alt`` for VCF and column TSVs).
    input: str
    genome: str
    variant: Variant | None
    #: The read or parse error (``type``, ``message``) when ``variant`` is None.
    error: dict[str, Any] | None = None
    #: Scored on the default genome with no reference allele to confirm it (a ``genome_assumed`` warning).
    genome_assumed: bool = False
    #: An rsID or HGVS notation still to resolve into ``variant`` (``read.resolve_rows``).
    to_resolve: RsId | TranscriptVariant | None = None
