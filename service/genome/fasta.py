"""Indexed local FASTA files (plain or bgzipped), one per genome, for offline and bulk work.

pyfaidx does the indexed random access (and reads BGZF through Biopython); this module hides its
coordinate conventions behind 0-based half-open ``Interval`` s. Record names become the service's
chromosome names for the file's build (``17`` → ``chr17``; ``MT`` → ``chrM`` in hg38 only, where both are
the rCRS). A file is identified by a checksum of its index (names, lengths, layout) and its size.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from service.coords import Interval, resolve_chrom, unknown_chromosome
from service.errors import OutOfBounds, ServiceError, UnknownGenome
from service.genome.base import SourceIdentity, SourceStatus


class FastaGenome:
    name = "fasta"

    def __init__(self, paths: Mapping[str, str | Path]) -> None:
        self._paths = {genome: Path(path) for genome, path in paths.items()}
        self._files: dict[str, Any] = {}
        self._names: dict[str, dict[str, str]] = {}  # genome → canonical chrom → name in the file
        self._identities: dict[str, SourceIdentity] = {}

    def _open(self, genome: str) -> Any:
        if genome not in self._paths:
            raise UnknownGenome(f"no FASTA configured for genome {genome!r}", detail={"genome": genome})
        if genome not in self._files:
            import pyfaidx  # heavy-ish; only when a FASTA is configured

            fasta = pyfaidx.Fasta(str(self._paths[genome]), as_raw=True, sequence_always_upper=True)
            names = {}
            for name in fasta.keys():  # noqa: SIM118 (iterating a pyfaidx Fasta yields records, not names)
                try:
                    names[resolve_chrom(name, genome)] = name
                except ServiceError:  # a name no notation maps: keep it as it is
                    names[name] = name
            self._files[genome], self._names[genome] = fasta, names
        return self._files[genome]

    async def chrom_sizes(self, genome: str) -> Mapping[str, int]:
        fasta = self._open(genome)
        return {canonical: len(fasta[name]) for canonical, name in self._names[genome].items()}

    def holds_chromosome(self, genome: str, chrom: str) -> bool:
        return genome in self._paths and chrom in self._names_of(genome)

    def identity(self, genome: str, chrom: str | None = None) -> SourceIdentity:
        """``fasta``, the build, and ``fai-sha256:`` of the index file and the file's size."""
        if genome not in self._identities:
            fasta = self._open(genome)
            digest = hashlib.sha256(Path(fasta.faidx.indexname).read_bytes())
            digest.update(str(self._paths[genome].stat().st_size).encode())
            self._identities[genome] = SourceIdentity(
                "fasta", genome, f"fai-sha256:{digest.hexdigest()[:16]}"
            )
        return self._identities[genome]

    def _names_of(self, genome: str) -> dict[str, str]:
        self._open(genome)
        return self._names[genome]

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
            raise unknown_chromosome(interval.chrom, f"the {genome} FASTA", self._names[genome])
        record = fasta[name]
        if interval.end > len(record):
            raise OutOfBounds(
                f"{interval.region()} is beyond the end of {interval.chrom} ({len(record):,} bp)",
                detail={"chrom": interval.chrom, "end": interval.end, "chrom_length": len(record)},
            )
        bases = await asyncio.to_thread(lambda: str(record[interval.start : interval.end]))
        return bases.upper()

    def holdings(self) -> list[str]:
        return [f"{genome} (all of {path.name}, fasta)" for genome, path in self._paths.items()]

    async def aclose(self) -> None:
        for fasta in self._files.values():
            fasta.close()
        self._files.clear()

    def status(self) -> tuple[SourceStatus, ...]:
        return (SourceStatus(self.name),)

    def describe(self) -> dict[str, Any]:
        files = {g: p.name for g, p in self._paths.items()}
        return {
            "name": self.name,
            "files": files,
            "identity": {g: str(i) for g, i in self._identities.items()},
        }
