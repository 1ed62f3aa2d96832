"""Install a UCSC reference genome as a bgzipped, indexed FASTA (``download_genome`` on Modal).

UCSC serves ``<genome>.fa.gz`` as plain gzip, which has no random access. This job downloads it (with
the MD5 UCSC publishes in ``md5sum.txt``), recompresses it as BGZF and writes samtools-compatible
``.fai`` and ``.gzi`` indexes with pysam (htslib's own bgzip and faidx: the format every genomics tool,
and pyfaidx, reads), checks the sequence sizes against the chromosome sizes the service ships
(``service/data/genome/chrom_sizes.tsv``: every primary chromosome present, every shared name the same
size), checks that the bundled BRCA1 slice reads back identically, and only then moves the three files
into place (data first, indexes after, so an index is never older than its FASTA).

One HTTP download per file: UCSC's one-request-per-second guidance is about its REST API.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from service.coords import GENOMES

#: Chromosomes a genome must hold (names as UCSC writes them).
PRIMARY = (*(f"chr{i}" for i in range(1, 23)), "chrX", "chrY", "chrM")
INDEX_SUFFIXES = (".fai", ".gzi")


class GenomeInstallError(RuntimeError):
    """The download or a check failed; nothing was moved into place."""


def urls(base_url: str, genome: str) -> tuple[str, str]:
    """The FASTA and its checksum list under UCSC's ``goldenPath/<genome>/bigZips/``."""
    folder = f"{base_url.rstrip('/')}/{genome}/bigZips"
    return f"{folder}/{genome}.fa.gz", f"{folder}/md5sum.txt"


def published_md5(client: httpx.Client, url: str, filename: str) -> str:
    response = client.get(url)
    response.raise_for_status()
    for line in response.text.splitlines():
        digest, _, name = line.strip().partition("  ")
        if name.strip().lstrip("*") == filename:
            return digest.lower()
    raise GenomeInstallError(f"{url} lists no checksum for {filename}")


def download(client: httpx.Client, url: str, target: Path, chunk: int = 2**22) -> str:
    """Stream ``url`` to ``target``; returns the MD5 of what arrived."""
    digest = hashlib.md5(usedforsecurity=False)
    with client.stream("GET", url) as response, target.open("wb") as handle:
        response.raise_for_status()
        for block in response.iter_bytes(chunk):
            digest.update(block)
            handle.write(block)
    return digest.hexdigest()


def bgzip_and_index(gzipped: Path, target: Path) -> None:
    """gzip → plain → BGZF ``target`` with ``target.fai`` and ``target.gzi`` (pysam / htslib)."""
    import pysam

    plain = target.with_suffix("")
    with gzip.open(gzipped, "rb") as source, plain.open("wb") as sink:
        shutil.copyfileobj(source, sink, 2**22)
    pysam.tabix_compress(str(plain), str(target), force=True)
    plain.unlink()
    pysam.faidx(str(target))


def read_fai(path: Path) -> dict[str, int]:
    sizes = {}
    for line in path.read_text().splitlines():
        name, length, *_ = line.split("\t")
        sizes[name] = int(length)
    return sizes


def size_problems(found: Mapping[str, int], expected: Mapping[str, int]) -> list[str]:
    """Why ``found`` (the FASTA's sizes) is not the genome ``expected`` describes; empty when it is."""
    problems = [f"{name} is missing" for name in PRIMARY if name in expected and name not in found]
    problems += [
        f"{name} has {found[name]:,} bp, expected {size:,}"
        for name, size in expected.items()
        if name in found and found[name] != size
    ]
    return problems


def slice_problems(fasta: Path, genome: str) -> list[str]:
    """The bundled BRCA1 slice of ``genome`` must read back from ``fasta`` base for base."""
    import pyfaidx

    from service.genome.bundled import packaged_data

    problems = []
    with pyfaidx.Fasta(str(fasta), as_raw=True, sequence_always_upper=True, rebuild=False) as handle:
        for piece in packaged_data()[0]:
            chrom = piece.interval.chrom
            if piece.genome != genome or chrom not in handle or len(handle[chrom]) < piece.interval.end:
                continue
            if str(handle[chrom][piece.interval.start : piece.interval.end]) != piece.bases:
                problems.append(f"{piece.interval.region()} differs from the bundled {genome} slice")
    return problems


def _check(fasta: Path, genome: str, expected: Mapping[str, int]) -> dict[str, int]:
    sizes = read_fai(Path(f"{fasta}.fai"))
    problems = size_problems(sizes, expected) + slice_problems(fasta, genome)
    if problems:
        raise GenomeInstallError(f"{fasta.name} is not {genome}: " + "; ".join(problems[:10]))
    return sizes


def install_genome(
    genome: str,
    dest_dir: str | os.PathLike[str],
    *,
    base_url: str,
    expected_sizes: Mapping[str, int] | None = None,
    transport: httpx.BaseTransport | None = None,
    force: bool = False,
    timeout_s: float = 60.0,
) -> dict[str, Any]:
    """Put ``<dest_dir>/<genome>/<genome>.fa.gz`` (+ .fai, .gzi) in place, checked; returns a report.

    A complete, checked install is kept unless ``force``. ``expected_sizes`` defaults to the shipped
    chromosome sizes of ``genome``.
    """
    if genome not in GENOMES:
        raise GenomeInstallError(f"unknown genome {genome!r}; one of: {', '.join(GENOMES)}")
    if expected_sizes is None:
        from service.genome.bundled import packaged_data

        expected_sizes = packaged_data()[1][genome]
    folder = Path(dest_dir) / genome
    final = folder / f"{genome}.fa.gz"
    if not force and final.is_file() and all(Path(f"{final}{s}").is_file() for s in INDEX_SUFFIXES):
        sizes = _check(final, genome, expected_sizes)
        return {"genome": genome, "path": str(final), "status": "kept", "sequences": len(sizes)}
    fasta_url, md5_url = urls(base_url, genome)
    with tempfile.TemporaryDirectory(prefix=f"genome-{genome}-") as tmp:
        work = Path(tmp)
        with httpx.Client(transport=transport, timeout=timeout_s, follow_redirects=True) as client:
            expected_md5 = published_md5(client, md5_url, f"{genome}.fa.gz")
            observed = download(client, fasta_url, work / "download.fa.gz")
        if observed != expected_md5:
            raise GenomeInstallError(f"MD5 of {fasta_url} is {observed}, UCSC lists {expected_md5}")
        built = work / final.name
        bgzip_and_index(work / "download.fa.gz", built)
        sizes = _check(built, genome, expected_sizes)
        folder.mkdir(parents=True, exist_ok=True)
        for suffix in ("", *INDEX_SUFFIXES):  # the data first, its indexes after
            staged = folder / f".{final.name}{suffix}.partial"
            shutil.move(f"{built}{suffix}", staged)
            os.replace(staged, f"{final}{suffix}")
    return {
        "genome": genome,
        "path": str(final),
        "status": "installed",
        "sequences": len(sizes),
        "md5": observed,
    }
