"""Real reference slices shipped as package data, so BRCA1 queries need no network.

The slices are byte-identical extracts of UCSC's hg38 and hg19 assemblies (upper case), so this source
states UCSC's identity: it serves the same sequence as UCSC, for the regions it holds, and never a
whole chromosome. Files are named ``{genome}_{chrom}_{first}-{last}.fa`` with 1-based inclusive bounds
(as in their headers); chromosome sizes for hg38 and hg19 come from ``chrom_sizes.tsv``. Provenance:
``service/data/genome/README.md``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from service.coords import Interval
from service.errors import UnknownGenome
from service.genome.base import SourceIdentity, SourceStatus, ucsc_identity

_NAME_RE = re.compile(r"^(?P<genome>hg\d+)_(?P<chrom>chr[0-9A-Za-z]+)_(?P<first>\d+)-(?P<last>\d+)\.fa$")


@dataclass(frozen=True)
class Slice:
    genome: str
    interval: Interval  # 0-based half-open
    bases: str


def read_fasta(path: Path) -> tuple[str, str]:
    """Header (without '>') and upper-case bases of a single-record FASTA file."""
    header = ""
    chunks: list[str] = []
    with path.open() as handle:
        for line in handle:
            if line.startswith(">"):
                if header:
                    raise ValueError(f"{path} holds more than one record")
                header = line[1:].strip()
            else:
                chunks.append(line.strip())
    return header, "".join(chunks).upper()


def load_slices(directory: Path) -> list[Slice]:
    slices = []
    for path in sorted(directory.glob("*.fa")):
        match = _NAME_RE.match(path.name)
        if match is None:
            continue
        _, bases = read_fasta(path)
        start = int(match["first"]) - 1
        interval = Interval(match["chrom"], start, int(match["last"]))
        if len(bases) != len(interval):
            raise ValueError(f"{path.name}: {len(bases)} bases for {len(interval)}-bp interval")
        slices.append(Slice(match["genome"], interval, bases))
    return slices


def load_chrom_sizes(path: Path) -> dict[str, dict[str, int]]:
    sizes: dict[str, dict[str, int]] = {}
    with path.open() as handle:
        next(handle)  # header: assembly chrom size
        for line in handle:
            assembly, chrom, size = line.split()
            sizes.setdefault(assembly, {})[chrom] = int(size)
    return sizes


def _data_dir() -> Path:
    return Path(str(resources.files("service") / "data" / "genome"))


@cache
def _packaged() -> tuple[tuple[Slice, ...], dict[str, dict[str, int]]]:
    directory = _data_dir()
    return tuple(load_slices(directory)), load_chrom_sizes(directory / "chrom_sizes.tsv")


def packaged_data() -> tuple[tuple[Slice, ...], dict[str, dict[str, int]]]:
    """The shipped slices and the chromosome sizes of hg38 and hg19 (read once)."""
    return _packaged()


class BundledGenome:
    """Serves the packaged slices (read on first use) and the hg38/hg19 chromosome sizes."""

    name = "bundled"

    def __init__(
        self, slices: list[Slice] | None = None, sizes: dict[str, dict[str, int]] | None = None
    ) -> None:
        self._slices = slices
        self._sizes = sizes

    def _load(self) -> tuple[list[Slice], dict[str, dict[str, int]]]:
        if self._slices is None or self._sizes is None:
            slices, sizes = _packaged()
            self._slices = list(slices) if self._slices is None else self._slices
            self._sizes = sizes if self._sizes is None else self._sizes
        return self._slices, self._sizes

    async def chrom_sizes(self, genome: str) -> Mapping[str, int]:
        _, sizes = self._load()
        if genome not in sizes:
            raise UnknownGenome(f"unknown genome {genome!r}", detail={"genome": genome})
        return sizes[genome]

    def _find(self, genome: str, interval: Interval) -> Slice | None:
        slices, _ = self._load()
        for item in slices:
            if item.genome == genome and item.interval.contains(interval):
                return item
        return None

    def covers(self, genome: str, interval: Interval) -> bool:
        return self._find(genome, interval) is not None

    def holds_chromosome(self, genome: str, chrom: str) -> bool:
        return False  # slices only

    def identity(self, genome: str, chrom: str | None = None) -> SourceIdentity:
        _, sizes = self._load()
        if genome not in sizes:
            raise UnknownGenome(f"unknown genome {genome!r}", detail={"genome": genome})
        return ucsc_identity(genome)

    def source_name(self, genome: str, interval: Interval) -> str | None:
        return self.name if self.covers(genome, interval) else None

    async def fetch(self, genome: str, interval: Interval) -> str:
        item = self._find(genome, interval)
        if item is None:
            raise KeyError(f"no bundled slice holds {genome} {interval}")
        offset = interval.start - item.interval.start
        return item.bases[offset : offset + len(interval)]

    def holdings(self) -> list[str]:
        """The slices, 1-based inclusive (``hg38 chr17:43040001-43130000 (bundled)``)."""
        slices, _ = self._load()
        return [f"{s.genome} {s.interval.region()} (bundled)" for s in slices]

    async def aclose(self) -> None:
        return None

    def status(self) -> tuple[SourceStatus, ...]:
        return (SourceStatus(self.name),)

    def describe(self) -> dict[str, Any]:
        slices, sizes = self._load()
        return {
            "name": self.name,
            "genomes": sorted(sizes),
            "slices": [f"{s.genome} {s.interval.region()}" for s in slices],
        }
