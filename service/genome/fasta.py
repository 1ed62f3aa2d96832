"""Indexed local FASTA files (plain or bgzipped), one per genome, for offline and bulk work.

pyfaidx does the indexed random access (and reads BGZF through Biopython); this module hides its
coordinate conventions behind 0-based half-open ``Interval`` s.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from service.coords import Interval, normalise_chrom
from service.errors import OutOfBounds, ServiceError, UnknownChromosome, UnknownGenome
from service.genome.base import SourceStatus


class FastaGenome:
    name = "fasta"

    def __init__(self, paths: Mapping[str, str | Path]) -> None:
        self._paths = {genome: Path(path) for genome, path in paths.items()}
        self._files: dict[str, Any] = {}
        self._names: dict[str, dict[str, str]] = {}  # genome → canonical chrom → name in the file

    def _open(self, genome: str) -> Any:
        if genome not in self._paths:
            raise UnknownGenome(f"no FASTA configured for genome {genome!r}", detail={"genome": genome})
        if genome not in self._files:
            import pyfaidx  # heavy-ish; only when a FASTA is configured

            fasta = pyfaidx.Fasta(str(self._paths[genome]), as_raw=True, sequence_always_upper=True)
            names = {}
            for name in fasta.keys():  # noqa: SIM118 (iterating a pyfaidx Fasta yields records, not names)
                try:
                    names[normalise_chrom(name)[0]] = name
                except ServiceError:  # a name no notation maps: keep it as it is
                    names[name] = name
            self._files[genome], self._names[genome] = fasta, names
        return self._files[genome]

    async def chrom_sizes(self, genome: str) -> Mapping[str, int]:
        fasta = self._open(genome)
        return {canonical: len(fasta[name]) for canonical, name in self._names[genome].items()}

    def covers(self, genome: str, interval: Interval) -> bool:
        if genome not in self._paths:
            return False
        fasta = self._open(genome)
        name = self._names[genome].get(interval.chrom)
        return name is not None and interval.end <= len(fasta[name])

    def source_name(self, genome: str, interval: Interval) -> str | None:
        return self.name if self.covers(genome, interval) else None

    async def fetch(self, genome: str, interval: Interval) -> str:
        fasta = self._open(genome)
        name = self._names[genome].get(interval.chrom)
        if name is None:
            raise UnknownChromosome(
                f"{interval.chrom} is not in the {genome} FASTA", detail={"chrom": interval.chrom}
            )
        record = fasta[name]
        if interval.end > len(record):
            raise OutOfBounds(
                f"{interval.region()} is beyond the end of {interval.chrom} ({len(record):,} bp)",
                detail={"chrom": interval.chrom, "end": interval.end, "chrom_length": len(record)},
            )
        bases = await asyncio.to_thread(lambda: str(record[interval.start : interval.end]))
        return bases.upper()

    async def aclose(self) -> None:
        for fasta in self._files.values():
            fasta.close()
        self._files.clear()

    def status(self) -> tuple[SourceStatus, ...]:
        return (SourceStatus(self.name),)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "files": {g: p.name for g, p in self._paths.items()}}
